/**
 * `run`'s teardown and the sidecar's log: refusals typed in `--json`, the decisions file, and the
 * removal that happens whatever the log reading does (a reader that hangs, a second Ctrl-C).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../lib/commands/run.js';
import type { CommandRunner, RunOptions } from '../../lib/docker/runner.js';
import { DENIAL_LOG, runWorld, scriptSession, suffixes } from '../session/run-fixture.js';

const ID = 'myapp-aaaa';
const deps = (w: ReturnType<typeof runWorld>, runner: CommandRunner = w.fake) =>
  ({ runner, signals: w.signals, clock: w.clock, tty: false, random: suffixes('aaaa'), hostname: 'host', pid: 4242 });

/** The scripted docker, except that `docker logs` prints one line and then hangs until killed. */
function hangingLogs(w: ReturnType<typeof runWorld>, onHang: () => void = () => {}): CommandRunner {
  return {
    run(argv, options?: RunOptions) {
      if (argv[1] !== 'logs') return w.fake.run(argv, options);
      // Recorded and counted as the fixture's one expected `docker logs` (its answer is unused):
      // the fake checks after each test that every expected call happened.
      void w.fake.run(argv);
      return new Promise((resolve) => {
        options?.onStderrLine?.('2024-05-01T10:00:01.100000000Z NOTICE    May 01 10:00:01.100 [7]: Proxying refused on filtered url "blocked.test:443"');
        options?.signal?.addEventListener('abort', () => resolve({ code: 130, stdout: '', stderr: '' }));
        onHang();
      });
    },
  };
}

describe('run: the sidecar log at teardown', () => {
  it('--json reports the refusals typed, and saves the decisions next to the raw log; the self-test\'s canary is counted apart', async () => {
    const w = runWorld();
    w.ctx.json = true;
    const canary =
      '2024-05-01T10:00:00.000000001Z CONNECT   May 01 10:00:00.000 [6]: Request (file descriptor 6): CONNECT canary.drydock-selftest.invalid:443 HTTP/1.1\n' +
      '2024-05-01T10:00:00.100000000Z NOTICE    May 01 10:00:00.100 [6]: Proxying refused on filtered url "canary.drydock-selftest.invalid:443"\n';
    scriptSession(w.fake, w.sessionDir, { id: ID, exec: { result: { code: 0 } }, logs: { result: { stdout: '', stderr: canary + DENIAL_LOG } } });
    const result = await run({ cmd: ['true'], json: true }, w.ctx, deps(w));
    expect(w.fake.unmet()).toEqual([]);
    const data = result.data as { refusals: unknown; egressDecisions: string };
    expect(data.refusals).toEqual({
      destinations: [{ host: 'blocked.test', port: 443, protocol: 'connect', count: 1, reason: 'not_allowlisted', suggestion: 'blocked.test' }],
      refused: 1, unlisted: 0, allowed: 0, failed: 0, selfTest: 1, lines: 4, complete: true,
    });
    expect(w.stderr()).not.toMatch(/refused 1 destination/); // --json: the summary is data, not text
    const decisions = readFileSync(data.egressDecisions, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(decisions).toEqual([expect.objectContaining({ host: 'canary.drydock-selftest.invalid', action: 'denied' }), expect.objectContaining({
      time: '2024-05-01T10:00:01.100000000Z', session: ID, action: 'denied', reason: 'not_allowlisted', method: 'CONNECT', host: 'blocked.test', port: 443,
      wouldAllow: { entry: 'blocked.test', file: join(w.root, 'config', 'egress-allowlist-myapp') },
    })]);
  });

  it('a log reader that never finishes is cut at the time limit; the session is removed all the same', async () => {
    const w = runWorld({ DRYDOCK_EGRESS_LOG_READ_SECONDS: '1' });
    scriptSession(w.fake, w.sessionDir, { id: ID, exec: { result: { code: 0 } } });
    const result = await run({ cmd: ['true'] }, w.ctx, deps(w, hangingLogs(w)));
    expect(result.exitCode).toBe(0);
    const unmet = () => w.fake.unmet().filter((call) => !call.includes('"logs"')); // logs: answered by hangingLogs
    expect(unmet()).toEqual([]); // agent, sidecar and network removals all ran
    expect(w.stderr()).toMatch(/teardown: stopped reading the sidecar's log after 1 s \(1 lines read\)/);
    expect(w.stderr()).toMatch(/refused 1 destination[\s\S]*blocked\.test[\s\S]*could not be read to its end/);
    const saved = readFileSync(join(w.sessionDir(ID), 'egress.log'), 'utf8');
    expect(saved).toMatch(/blocked\.test[\s\S]*# drydock: the log was read until the time limit/);
    expect((result.data as { refusals: { complete: boolean } }).refusals.complete).toBe(false);
  });

  it('a second Ctrl-C during the log reading cuts it short; removal still follows', async () => {
    const w = runWorld();
    scriptSession(w.fake, w.sessionDir, { id: ID, exec: { result: () => (w.signals.emit('SIGINT'), { code: 130 }) } });
    const result = await run({ cmd: ['x'] }, w.ctx, deps(w, hangingLogs(w, () => w.signals.emit('SIGINT'))));
    expect(result.exitCode).toBe(130);
    expect(w.fake.unmet().filter((call) => !call.includes('"logs"'))).toEqual([]);
    expect(w.stderr()).toMatch(/stopped reading the sidecar's log when asked to stop/);
  });

  it('hostile bytes in the sidecar\'s last lines are escaped in the start-failure message', async () => {
    const w = runWorld();
    scriptSession(w.fake, w.sessionDir, {
      id: ID,
      teardownState: { id: ID, agent: 'created', egress: 'running' },
      up: { result: { code: 1, stderr: 'dependency failed to start: container drydock-myapp-aaaa-egress is unhealthy\n' } },
      logs: { result: { stderr: '2024-05-01T10:00:00Z drydock-egress: \x1b]0;owned\x07 bad\n' } },
    });
    const error = (await run({ cmd: ['x'] }, w.ctx, deps(w)).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('drydock-egress: \\x1b]0;owned\\x07 bad');
    expect(error.message).not.toMatch(/\x1b/);
  });
});
