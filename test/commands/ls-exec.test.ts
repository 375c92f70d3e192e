import { describe, expect, it } from 'vitest';
import { DEFAULT_SHELL, exec } from '../../lib/commands/exec.js';
import { formatAge, ls } from '../../lib/commands/ls.js';
import { NegativeAnswer, UsageError } from '../../lib/errors.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { captureContext, listings, NET_ALL, netFor, PS_ALL, psFor } from '../session/fixtures.js';

const refusals = [
  '2024-05-01T10:00:00.000000000Z CONNECT   May 01 10:00:00.000 [7]: Request (file descriptor 5): CONNECT denied.test:443 HTTP/1.1',
  '2024-05-01T10:00:01.000000000Z NOTICE    May 01 10:00:01.000 [7]: Proxying refused on filtered url "denied.test:443"',
  '2024-05-01T10:00:02.000000000Z CONNECT   May 01 10:00:02.000 [7]: Request (file descriptor 5): CONNECT denied.test:443 HTTP/1.1',
  '2024-05-01T10:00:03.000000000Z NOTICE    May 01 10:00:03.000 [7]: Proxying refused on filtered url "denied.test:443"',
].join('\n');

describe('drydock ls', () => {
  it('lists running sessions with project, mode, age and refusals so far; ended ones are left out', async () => {
    const created = '2024-05-01 10:00:00 +0000 UTC';
    const l = listings([
      { id: 'app-0001', createdAt: created },
      { id: 'web-0001', mode: 'dood', createdAt: created },
      { id: 'old-0001', agent: 'exited', egress: 'exited' },
    ]);
    const fake = new FakeRunner()
      .expect({ argv: PS_ALL, result: { stdout: l.ps } })
      .expect({ argv: NET_ALL, result: { stdout: l.networks } })
      .expect({ argv: ['docker', 'logs', '--timestamps', 'drydock-app-0001-egress'], result: { stdout: `${refusals}\n` } });
    const w = captureContext();
    const now = Date.parse('2024-05-01T11:05:00Z');
    const result = await ls({}, w.ctx, { runner: fake, now: () => now });
    expect(w.out[0]!.split('\n')).toEqual([
      'SESSION   PROJECT  MODE     AGE   REFUSED',
      'app-0001  app      contain  1h5m  2',
      'web-0001  web      dood     1h5m  -',
    ]);
    expect(result.data).toMatchObject({ sessions: [{ id: 'app-0001', refusals: 2, ageMs: 65 * 60_000 }, { id: 'web-0001', refusals: null }] });
  });

  it('formats ages', () => {
    expect([formatAge(5_000), formatAge(120_000), formatAge(3 * 3600_000), formatAge(50 * 3600_000), formatAge(null)]).toEqual(['5s', '2m', '3h', '2d2h', '?']);
  });
});

describe('drydock exec', () => {
  it('runs the command in the session\'s running agent and returns its exit code', async () => {
    const l = listings([{ id: 'app-0001' }]);
    const fake = new FakeRunner()
      .expect({ argv: psFor('app-0001'), result: { stdout: l.ps } })
      .expect({ argv: netFor('app-0001'), result: { stdout: l.networks } })
      .expect({ argv: ['docker', 'exec', '-i', 'drydock-app-0001', 'ls', '-la'], result: { code: 7 } });
    const result = await exec({ session: 'app-0001', cmd: ['ls', '-la'] }, captureContext().ctx, { runner: fake, tty: false });
    expect(result.exitCode).toBe(7);
  });

  it('defaults to a shell, with a terminal when asked', async () => {
    const l = listings([{ id: 'app-0001' }]);
    const fake = new FakeRunner()
      .expect({ argv: psFor('app-0001'), result: { stdout: l.ps } })
      .expect({ argv: netFor('app-0001'), result: { stdout: l.networks } })
      .expect({ argv: ['docker', 'exec', '-i', '-t', 'drydock-app-0001', ...DEFAULT_SHELL] });
    expect((await exec({ session: 'app-0001', cmd: [] }, captureContext().ctx, { runner: fake, tty: true })).exitCode).toBe(0);
  });

  it('hands the credentials over by name, as run does', async () => {
    const l = listings([{ id: 'app-0001' }]);
    const fake = new FakeRunner()
      .expect({ argv: psFor('app-0001'), result: { stdout: l.ps } })
      .expect({ argv: netFor('app-0001'), result: { stdout: l.networks } })
      .expect({ argv: ['docker', 'exec', '-i', '-e', 'CLAUDE_CODE_OAUTH_TOKEN', 'drydock-app-0001', 'claude'] });
    const ctx = { ...captureContext().ctx, env: { CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-secret' } };
    expect((await exec({ session: 'app-0001', cmd: ['claude'] }, ctx, { runner: fake, tty: false })).exitCode).toBe(0);
    expect(fake.calls.flat().join(' ')).not.toContain('secret');
  });

  it('refuses a bad id (no docker call), an unknown session and a stopped agent', async () => {
    const none = new FakeRunner();
    await expect(exec({ session: '../x', cmd: [] }, captureContext().ctx, { runner: none })).rejects.toBeInstanceOf(UsageError);
    expect(none.calls).toEqual([]);
    const empty = new FakeRunner().expect({ argv: psFor('app-0001') }).expect({ argv: netFor('app-0001') });
    await expect(exec({ session: 'app-0001', cmd: [] }, captureContext().ctx, { runner: empty })).rejects.toBeInstanceOf(NegativeAnswer);
    const l = listings([{ id: 'app-0001', agent: 'exited' }]);
    const stopped = new FakeRunner().expect({ argv: psFor('app-0001'), result: { stdout: l.ps } }).expect({ argv: netFor('app-0001'), result: { stdout: l.networks } });
    await expect(exec({ session: 'app-0001', cmd: [] }, captureContext().ctx, { runner: stopped })).rejects.toThrow(/exited, not running/);
  });
});
