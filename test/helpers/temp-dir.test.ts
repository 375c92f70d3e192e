/**
 * The temp-dir check on itself: vitest, configured as each tier is, over a fixture file. A file
 * that leaves a drydock-* dir in its TMPDIR fails by name; tempDir's dirs go with their test (passed
 * or failed) or file, and leave nothing behind.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './temp-dir.js';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));

function runFixture(fixture: string) {
  const tmp = tempDir('guard');
  // The child is a vitest of its own: none of this run's worker variables.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'TEST_TMP_ROOT' && k !== 'NODE_OPTIONS'));
  const child = spawnSync(
    process.execPath,
    [join(repo, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', 'test/helpers/fixtures/temp-leak/vitest.config.ts', '--reporter', 'dot'],
    { cwd: repo, env: { ...env, FIXTURE: fixture, FIXTURE_TMP: join(tmp, 'run', 'tier'), CI: '', NO_COLOR: '1', FORCE_COLOR: '0' }, encoding: 'utf8', timeout: 60_000 },
  );
  return { code: child.status, output: `${child.stdout}${child.stderr}`, left: readdirSync(tmp) };
}

describe('the temp-dir leak check', () => {
  it('fails a file that leaves a drydock-* dir behind, naming it, and still removes the root', () => {
    const r = runFixture('leaks.fixture.ts');
    expect(r.output).toMatch(/this file left 1 temp dir\(s\) behind: drydock-forgotten-\w+/);
    expect(r.code).not.toBe(0);
    expect(r.left, 'the run root and the tier root are removed').toEqual([]);
  }, 60_000);

  it('passes a file whose dirs are all made by tempDir, one test failing among them, leaving nothing', () => {
    const r = runFixture('cleans.fixture.ts');
    expect(r.output).toMatch(/Tests +2 passed \| 1 expected fail/);
    expect(r.code, r.output).toBe(0);
    expect(r.left, 'the run root and the tier root are removed').toEqual([]);
  }, 60_000);
});
