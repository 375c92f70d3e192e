import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stop } from '../../lib/commands/stop.js';
import { NegativeAnswer, UsageError } from '../../lib/errors.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { captureContext, listings, NET_ALL, PS_ALL, type SessionFixture } from '../session/fixtures.js';
import { DENIAL_LOG } from '../session/run-fixture.js';
import { tempDir } from '../helpers/temp-dir.js';

function world(sessions: SessionFixture[]) {
  const state = tempDir('stop');
  const l = listings(sessions);
  const fake = new FakeRunner()
    .expect({ argv: PS_ALL, result: { stdout: l.ps } })
    .expect({ argv: NET_ALL, result: { stdout: l.networks } });
  return { state, fake, ...captureContext({ env: { DRYDOCK_STATE_DIR: state }, cwd: '/work/myapp' }) };
}

describe('stop', () => {
  it('needs exactly one of SESSION, --project, --all (exit 2)', async () => {
    const { ctx } = captureContext();
    await expect(stop({}, ctx, { runner: new FakeRunner() })).rejects.toBeInstanceOf(UsageError);
    await expect(stop({ session: 'a-0001', all: true }, ctx, { runner: new FakeRunner() })).rejects.toBeInstanceOf(UsageError);
    await expect(stop({ session: 'not an id' }, ctx, { runner: new FakeRunner() })).rejects.toBeInstanceOf(UsageError);
  });

  it('stops one session: removes the agent first, saves the sidecar log into its dir, then removes sidecar and network', async () => {
    const { state, fake, ctx, stdout, stderr } = world([{ id: 'myapp-0001' }, { id: 'other-0002' }]);
    const dir = join(state, 'sessions', 'myapp-0001');
    mkdirSync(dir, { recursive: true });
    fake
      .expect({ argv: ['docker', 'logs', '--timestamps', 'drydock-myapp-0001-egress'], result: { stderr: DENIAL_LOG } })
      .expect({ argv: ['docker', 'rm', '-f', 'a-myapp-0001'], result: { stdout: 'a-myapp-0001\n' } })
      .expect({ argv: ['docker', 'rm', '-f', 'e-myapp-0001'], result: { stdout: 'e-myapp-0001\n' } })
      .expect({ argv: ['docker', 'network', 'rm', 'n-myapp-0001'], result: { stdout: 'n-myapp-0001\n' } });
    const result = await stop({ session: 'myapp-0001' }, ctx, { runner: fake });
    expect(result.exitCode).toBe(0);
    expect(fake.unmet()).toEqual([]);
    expect(readFileSync(join(dir, 'egress.log'), 'utf8')).toContain('blocked.test');
    expect(stdout()).toBe('stopped myapp-0001 (drydock-myapp-0001, drydock-myapp-0001-egress, drydock_internal_myapp-0001)');
    expect(stderr()).toMatch(/blocked\.test/);
  });

  it('--json reports each session\'s refusals typed (and prints no summary text)', async () => {
    const { state, fake, ctx, stderr } = world([{ id: 'myapp-0001' }]);
    ctx.json = true;
    mkdirSync(join(state, 'sessions', 'myapp-0001'), { recursive: true });
    fake
      .expect({ argv: ['docker', 'logs', '--timestamps', 'drydock-myapp-0001-egress'], result: { stderr: DENIAL_LOG } })
      .expect({ argv: ['docker', 'rm', '-f', 'a-myapp-0001'], result: { stdout: 'a-myapp-0001\n' } })
      .expect({ argv: ['docker', 'rm', '-f', 'e-myapp-0001'], result: { stdout: 'e-myapp-0001\n' } })
      .expect({ argv: ['docker', 'network', 'rm', 'n-myapp-0001'], result: { stdout: 'n-myapp-0001\n' } });
    const result = await stop({ session: 'myapp-0001', json: true }, ctx, { runner: fake });
    expect(result.data).toMatchObject({
      refusals: { 'myapp-0001': { destinations: [{ host: 'blocked.test', port: 443, count: 1, reason: 'not_allowlisted', suggestion: 'blocked.test' }], refused: 1, complete: true } },
      egressDecisions: { 'myapp-0001': expect.stringMatching(/egress-decisions\.jsonl$/) },
    });
    expect(stderr()).toBe('');
  });

  it('stops a session whose sidecar is already gone, and a dood session, in one removal call', async () => {
    const { fake, ctx } = world([{ id: 'myapp-0001', egress: false }, { id: 'myapp-0002', mode: 'dood' }, { id: 'other-0003' }]);
    fake
      .expect({ argv: ['docker', 'rm', '-f', 'a-myapp-0001', 'a-myapp-0002'], result: { stdout: 'a-myapp-0001\na-myapp-0002\n' } })
      .expect({ argv: ['docker', 'network', 'rm', 'n-myapp-0001'], result: { stdout: 'n-myapp-0001\n' } });
    const result = await stop({ project: 'myapp' }, ctx, { runner: fake });
    expect(result.exitCode).toBe(0);
    expect(result.data).toMatchObject({ stopped: ['myapp-0001', 'myapp-0002'] });
    expect(fake.unmet()).toEqual([]);
  });

  it('a half-gone session (only its network is left) stops fine', async () => {
    const { fake, ctx } = world([{ id: 'myapp-0001', agent: false, egress: false, network: true }]);
    fake.expect({ argv: ['docker', 'network', 'rm', 'n-myapp-0001'], result: { stdout: 'n-myapp-0001\n' } });
    expect((await stop({ session: 'myapp-0001' }, ctx, { runner: fake })).exitCode).toBe(0);
    expect(fake.unmet()).toEqual([]);
  });

  it('a container that vanished between listing and removal counts as removed', async () => {
    const { fake, ctx } = world([{ id: 'myapp-0001', egress: false }]);
    fake
      .expect({ argv: ['docker', 'rm', '-f', 'a-myapp-0001'], result: { code: 1, stderr: 'Error: No such container: a-myapp-0001\n' } })
      .expect({ argv: ['docker', 'network', 'rm', 'n-myapp-0001'], result: { stdout: 'n-myapp-0001\n' } });
    expect((await stop({ session: 'myapp-0001' }, ctx, { runner: fake })).exitCode).toBe(0);
  });

  it('an unknown session is a negative answer (exit 1) that lists the live ones', async () => {
    const { fake, ctx } = world([{ id: 'myapp-0001' }, { id: 'web-0002', agent: 'exited' }]);
    const error = (await stop({ session: 'nope-0003' }, ctx, { runner: fake }).catch((e: unknown) => e)) as NegativeAnswer;
    expect(error).toBeInstanceOf(NegativeAnswer);
    expect(error.exitCode).toBe(1);
    expect(error.message).toMatch(/no session "nope-0003"\nsessions:\n {2}myapp-0001 {2}contain {2}agent running, sidecar running\n {2}web-0002/);
    expect(fake.calls).toHaveLength(2);
  });

  it('--all with nothing running says so and succeeds', async () => {
    const { fake, ctx, stdout } = world([]);
    const result = await stop({ all: true }, ctx, { runner: fake });
    expect(result.exitCode).toBe(0);
    expect(stdout()).toBe('no drydock sessions to stop');
  });

  it('does not write a log for a session whose dir is gone', async () => {
    const { state, fake, ctx } = world([{ id: 'myapp-0001' }]);
    fake
      .expect({ argv: ['docker', 'logs', '--timestamps', 'drydock-myapp-0001-egress'], result: { stdout: '' } })
      .expect({ argv: ['docker', 'rm', '-f', 'a-myapp-0001'], result: { stdout: 'a-myapp-0001\n' } })
      .expect({ argv: ['docker', 'rm', '-f', 'e-myapp-0001'], result: { stdout: 'e-myapp-0001\n' } })
      .expect({ argv: ['docker', 'network', 'rm', 'n-myapp-0001'], result: { stdout: 'n-myapp-0001\n' } });
    await stop({ all: true }, ctx, { runner: fake });
    expect(existsSync(join(state, 'sessions', 'myapp-0001'))).toBe(false);
  });
});
