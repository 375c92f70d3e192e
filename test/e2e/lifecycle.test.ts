/**
 * Sessions end cleanly however they end: `drydock stop`, and `kill -9` of `drydock run` followed by
 * `drydock gc`. Everything is found by label, as stop and gc find it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { background, containersOf, drydock, dumpDiagnostics, makeSandbox, networksOf, report, sessionDirs, waitForRunningAgent, type Sandbox } from './helpers/drydock.js';
import { describeE2E, docker, waitFor } from './helpers/engine.js';
import { SHARED_NETWORK, ensureSharedNetwork } from './helpers/world.js';

describeE2E('session lifecycle: stop, and gc after a crash', () => {
  let sb: Sandbox;

  beforeAll(async () => {
    await ensureSharedNetwork();
    sb = makeSandbox({ project: 'e2e-life', allowlist: ['allowed.test'] });
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await dumpDiagnostics(sb);
    // Whatever a failed test left running, so the next one starts clean.
    await drydock(sb, ['stop', '--project', sb.project]);
  });

  it('stop removes the agent, the sidecar and the session network, keeps the shared bridge, and the attached run ends', async () => {
    const run = background(sb, ['run', '--project', sb.project, '--', 'sleep', 'infinity']);
    const id = await waitForRunningAgent(sb, { run });
    expect((await containersOf({ session: id })).map((c) => c.role).sort()).toEqual(['agent', 'egress', 'netns']);
    expect(await networksOf({ session: id })).toEqual([`drydock_internal_${id}`]);

    const stopped = await drydock(sb, ['stop', id]);
    expect(stopped.code, stopped.stderr).toBe(0);
    report('drydock stop of a running contained session', stopped.ms);
    expect(await containersOf({ session: id })).toEqual([]);
    expect(await networksOf({ session: id })).toEqual([]);
    expect((await docker(['network', 'inspect', SHARED_NETWORK])).code, 'the shared bridge stays for other sessions').toBe(0);

    const ended = await Promise.race([run.exited, new Promise((r) => setTimeout(() => r('still running'), 60_000))]);
    expect(ended, `drydock run after stop: ${run.stderr()}`).not.toBe('still running');
    // The sidecar's log was kept with the session before its container went.
    expect(existsSync(join(sb.stateDir, 'sessions', id, 'egress.log'))).toBe(true);
  });

  it('after kill -9 of drydock run, gc removes every container, network and the session dir of that session, and nothing of a live one', async () => {
    const live = background(sb, ['run', '--project', sb.project, '--', 'sleep', 'infinity']);
    const liveId = await waitForRunningAgent(sb, { run: live });
    const crashed = background(sb, ['run', '--project', sb.project, '--', 'sleep', 'infinity']);
    const crashedId = await waitForRunningAgent(sb, { known: new Set([liveId]), run: crashed });
    try {
      crashed.child.kill('SIGKILL');
      await crashed.exited;
      // kill -9 leaves everything behind: that is what gc is for.
      expect((await containersOf({ session: crashedId })).length).toBe(3);
      expect(sessionDirs(sb)).toContain(crashedId);

      const gc = await drydock(sb, ['gc']);
      expect(gc.code, `${gc.stdout}\n${gc.stderr}`).toBe(0);
      report('drydock gc after kill -9 of drydock run', gc.ms);
      expect(await containersOf({ session: crashedId }), gc.stdout).toEqual([]);
      expect(await networksOf({ session: crashedId })).toEqual([]);
      expect(sessionDirs(sb)).not.toContain(crashedId);

      // The live session is untouched.
      expect((await containersOf({ session: liveId })).map((c) => `${c.role}:${c.state}`).sort()).toEqual(['agent:running', 'egress:running', 'netns:running']);
      expect(await networksOf({ session: liveId })).toEqual([`drydock_internal_${liveId}`]);
      expect(sessionDirs(sb)).toContain(liveId);

      const again = await drydock(sb, ['gc']);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/nothing to collect/);
    } finally {
      crashed.child.kill('SIGKILL');
      live.child.kill('SIGTERM');
      await live.exited;
    }
    await waitFor('the live session to be torn down by its run', async () => ((await containersOf({ session: liveId })).length === 0 ? true : undefined), 30_000);
  });
});
