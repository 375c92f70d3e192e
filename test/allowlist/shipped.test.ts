// The shipped baseline and presets must parse cleanly, without warnings.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import { packageRoot } from '../../lib/paths.js';

const dir = join(packageRoot(), 'allowlists');
const files = ['egress-baseline.conf', ...readdirSync(join(dir, 'presets')).map((f) => join('presets', f))];

describe('shipped allowlists', () => {
  it('there are presets', () => expect(files.length).toBeGreaterThanOrEqual(5));
  it.each(files)('%s parses cleanly', (file) => {
    const r = parseAllowlist(readFileSync(join(dir, file), 'utf8'), file);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.entries.length).toBeGreaterThan(0);
  });
  it('the baseline stays small: the model API and what interactive Claude Code needs to start', () => {
    const r = parseAllowlist(readFileSync(join(dir, 'egress-baseline.conf'), 'utf8'), 'baseline');
    expect(r.entries.map((e) => e.canonical)).toEqual(['api.anthropic.com', 'platform.claude.com']);
  });
});
