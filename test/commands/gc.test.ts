import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gc } from '../../lib/commands/gc.js';
import type { SessionDirState } from '../../lib/session/gc-plan.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { captureContext, listings, NET_ALL, PS_ALL, type SessionFixture } from '../session/fixtures.js';
import { tempDir } from '../helpers/temp-dir.js';

const NOW = { now: () => Date.parse('2024-05-01T12:00:00Z') };

function world(sessions: SessionFixture[]) {
  const state = tempDir('gc');
  const l = listings(sessions);
  const fake = new FakeRunner()
    .expect({ argv: PS_ALL, result: { stdout: l.ps } })
    .expect({ argv: NET_ALL, result: { stdout: l.networks } });
  return { state, fake, ...captureContext({ env: { DRYDOCK_STATE_DIR: state } }) };
}

/** A session dir; `running` gives it this test process as its live owner on this host. */
function makeDir(state: string, session: string, egressLog?: string, running = false): string {
  const dir = join(state, 'sessions', session);
  mkdirSync(dir, { recursive: true });
  const owner = running ? { pid: process.pid, hostname: hostname() } : { pid: 1, hostname: 'h', endedAt: '2024-05-01T10:10:00Z' };
  writeFileSync(join(dir, 'session.json'), JSON.stringify({ id: session, createdAt: '2024-05-01T10:00:00Z', ...owner }));
  if (egressLog) writeFileSync(join(dir, 'egress.log'), egressLog);
  return dir;
}

describe('gc', () => {
  it('reaps orphans in one rm -f and one network rm, archives logs, and never touches the live session', async () => {
    const { state, fake, ctx, stdout } = world([{ id: 'live-0001' }, { id: 'orph-0002', agent: false }, { id: 'dood-0003', mode: 'dood', agent: 'exited' }]);
    const live = makeDir(state, 'live-0001', undefined, true);
    const orphan = makeDir(state, 'orph-0002', 'NOTICE Proxying refused on filtered url "x.test:443"\n');
    fake
      .expect({ argv: ['docker', 'rm', '-f', 'a-dood-0003', 'e-orph-0002'], result: { stdout: 'a-dood-0003\ne-orph-0002\n' } })
      .expect({ argv: ['docker', 'network', 'rm', 'n-orph-0002'], result: { stdout: 'n-orph-0002\n' } });
    const result = await gc({}, ctx, { runner: fake, clock: NOW });
    expect((result.data as { failures: string[] }).failures).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(fake.unmet()).toEqual([]);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(orphan)).toBe(false);
    expect(readFileSync(join(state, 'gc-archive', 'orph-0002.log'), 'utf8')).toContain('x.test:443');
    expect(stdout()).toMatch(/removed 2 container\(s\), 1 network\(s\), 1 session dir\(s\)/);
    expect(stdout()).toMatch(/kept live-0001: its drydock run is still alive/);
  });

  it('uses the same number of docker calls for 1 and for 500 sessions', async () => {
    const count = async (n: number) => {
      const sessions = Array.from({ length: n }, (_, i) => ({ id: `p-${i.toString(16).padStart(4, '0')}`, agent: 'exited' as const }));
      const { fake, ctx } = world(sessions);
      fake
        .expect({ argv: (a) => a[1] === 'rm' && a.length === 3 + 2 * n, result: (a) => ({ stdout: a.slice(3).join('\n') }) })
        .expect({ argv: (a) => a[2] === 'rm' && a.length === 3 + n, result: (a) => ({ stdout: a.slice(3).join('\n') }) });
      const result = await gc({}, ctx, { runner: fake, clock: NOW, scanDirs: () => [] });
      expect((result.data as { removed: { containers: string[] } }).removed.containers).toHaveLength(2 * n);
      return fake.calls.length;
    };
    expect(await count(1)).toBe(4);
    expect(await count(500)).toBe(4);
  });

  it('--dry-run prints the plan and changes nothing; --json returns it', async () => {
    const { state, fake, ctx, stdout } = world([{ id: 'orph-0002', agent: false }]);
    const dir = makeDir(state, 'orph-0002');
    const result = await gc({ dryRun: true }, ctx, { runner: fake, clock: NOW });
    expect(fake.calls).toHaveLength(2);
    expect(existsSync(dir)).toBe(true);
    expect(stdout()).toMatch(/remove container drydock-orph-0002-egress \(orph-0002: its agent is gone\)/);
    expect(stdout()).toMatch(/remove session dir .*orph-0002/);
    expect(result.data).toMatchObject({ dryRun: true, plan: { dirs: [{ session: 'orph-0002' }] } });
  });

  it('keeps a session whose run is alive even with no agent yet', async () => {
    const { fake, ctx } = world([{ id: 'boot-0001', agent: false }]);
    const dirs: SessionDirState[] = [{ session: 'boot-0001', path: '/nowhere', owner: 'alive' }];
    const result = await gc({}, ctx, { runner: fake, clock: NOW, scanDirs: () => dirs });
    expect(fake.calls).toHaveLength(2);
    expect(result.data).toMatchObject({ plan: { kept: [{ session: 'boot-0001' }], containers: [] } });
  });

  it('DRYDOCK_GC_GRACE_SECONDS shortens the grace for sessions whose owner cannot be seen; a bad value is exit 2', async () => {
    const young: SessionFixture[] = [{ id: 'new-0001', agent: false, createdAt: '2024-05-01 11:59:00 +0000 UTC' }];
    const kept = world(young);
    const plan = await gc({ dryRun: true }, kept.ctx, { runner: kept.fake, clock: NOW, scanDirs: () => [] });
    expect(plan.data).toMatchObject({ plan: { kept: [{ session: 'new-0001' }], containers: [] } });
    expect(kept.stdout()).toMatch(/^nothing to collect\nkeep new-0001: created 60s ago/);

    const short = world(young);
    const env = { ...short.ctx.env, DRYDOCK_GC_GRACE_SECONDS: '30' };
    const reaped = await gc({ dryRun: true }, { ...short.ctx, env }, { runner: short.fake, clock: NOW, scanDirs: () => [] });
    expect(reaped.data).toMatchObject({ plan: { kept: [], containers: [{ name: 'drydock-new-0001-egress' }] } });

    const bad = captureContext({ env: { DRYDOCK_GC_GRACE_SECONDS: '5m' } });
    await expect(gc({}, bad.ctx, { runner: new FakeRunner() })).rejects.toMatchObject({ exitCode: 2 });
  });

  it('reports a failed removal with exit 3 and still removes the rest', async () => {
    const { state, fake, ctx, stderr } = world([{ id: 'a-0001', agent: 'exited' }]);
    const dir = makeDir(state, 'a-0001');
    fake
      .expect({ argv: ['docker', 'rm', '-f', 'a-a-0001', 'e-a-0001'], result: { code: 1, stdout: 'e-a-0001\n', stderr: 'Error response from daemon: device or resource busy: a-a-0001\n' } })
      .expect({ argv: ['docker', 'network', 'rm', 'n-a-0001'], result: { stdout: 'n-a-0001\n' } });
    const result = await gc({}, ctx, { runner: fake, clock: NOW });
    expect(result.exitCode).toBe(3);
    expect(stderr()).toMatch(/could not remove container drydock-a-0001: .*busy.* — remove it with: docker rm -f drydock-a-0001/);
    expect(existsSync(dir)).toBe(false);
  });
});
