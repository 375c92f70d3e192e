/**
 * The rendered files as docker-compose itself reads them: `docker-compose -p x -f base -f overlay
 * config` must accept them (this is Debian's v1, which parses YAML 1.1 and has no top-level
 * `name:`), and the invariants must hold on compose's own merge, not only on drydock's.
 * Skipped, visibly, where the binary is absent.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkContainedInvariants, checkDoodInvariants } from '../../lib/render/invariants.js';
import { renderSessionFiles } from '../../lib/render/session-files.js';
import { resolveSettings } from '../../lib/settings.js';
import { describeIf } from '../helpers/requires.js';
import { tempDir } from '../helpers/temp-dir.js';

const haveCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;
if (!haveCompose) console.warn('SKIPPED compose-config tests: docker-compose is not installed');

let root: string;

beforeAll(() => {
  root = tempDir('compose');
  mkdirSync(join(root, 'my project'));
  writeFileSync(join(root, 'baseline.conf'), 'api.anthropic.com\n');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

function composeConfig(files: string[]) {
  const result = spawnSync('docker-compose', ['-p', 'x', ...files.flatMap((f) => ['-f', f]), 'config'], {
    encoding: 'utf8',
    // No engine is needed for `config`; keep any real one out of reach regardless.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DOCKER_HOST: 'unix:///nonexistent.sock', HOME: root },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Each case starts Python's docker-compose (~0.6 s alone); on a loaded 2-core machine that passed vitest's 5 s. A limit, not a budget. */
const COMPOSE_TIMEOUT_MS = 60_000;

describeIf(haveCompose, 'docker-compose', 'docker-compose config on the rendered files', () => {
  it.each([
    ['contain', false],
    ['contain', true],
    ['dood', false],
  ] as const)('%s (observe %s) is accepted and keeps its invariants', (mode, observe) => {
    const rendered = renderSessionFiles({
      settings: resolveSettings({
        env: { DRYDOCK_BASELINE: join(root, 'baseline.conf'), DRYDOCK_CONFIG_DIR: join(root, 'config'), DISABLE_TELEMETRY: 'yes' },
        cwd: join(root, 'my project'),
        project: 'demo',
        mode,
      }),
      observe,
      sessionId: 'demo-1a2b',
      outDir: join(root, `out-${mode}-${observe}`),
      dockerSocketGid: () => 999,
    });
    const result = composeConfig(rendered.composeFiles);
    expect(result.stderr).not.toMatch(/ERROR/);
    expect(result.code).toBe(0);
    const doc = parse(result.stdout) as { services: Record<string, { user?: unknown; environment?: Record<string, unknown> }> };
    const check = mode === 'contain' ? checkContainedInvariants : checkDoodInvariants;
    expect(check(doc)).toEqual([]);
    if (mode === 'contain') {
      // Read back as strings, not as YAML 1.1 booleans or sexagesimal numbers.
      expect(doc.services['drydock-egress']!.user).toBe('10001:10001');
      expect(doc.services.drydock!.environment!.DISABLE_TELEMETRY).toBe('yes');
    }
  }, COMPOSE_TIMEOUT_MS);

  it('fails on a document compose rejects (the test can fail)', () => {
    const dir = join(root, 'bad');
    mkdirSync(dir);
    writeFileSync(join(dir, 'docker-compose.yml'), 'name: x\nservices:\n  a:\n    image: x\n');
    expect(composeConfig([join(dir, 'docker-compose.yml')]).code).not.toBe(0);
  }, COMPOSE_TIMEOUT_MS);
});
