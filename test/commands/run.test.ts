import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSettings } from '../../lib/settings.js';
import { agentCommand, run } from '../../lib/commands/run.js';
import { ExternalError } from '../../lib/errors.js';
import { readSessionMetadata } from '../../lib/session/metadata.js';
import { EGRESS_IMAGE_INSPECT, EGRESS_TEMPLATE_DIGEST, runWorld, scriptSession, suffixes } from '../session/run-fixture.js';
import { ROUTE4_WITH_DEFAULT, probeOutput } from '../selftest/fixtures.js';

const ID = 'myapp-aaaa';

function deps(w: ReturnType<typeof runWorld>, extra: Record<string, unknown> = {}) {
  return {
    runner: w.fake, signals: w.signals, clock: w.clock, tty: false, random: suffixes('aaaa', 'bbbb'), hostname: 'host', pid: 4242,
    gitIdentity: async () => ({}), hostIds: { uid: 1000, gid: 1000 }, ...extra,
  };
}

describe('run', () => {
  it('starts a contained session, runs the command, tears down, and exits with the command\'s code', async () => {
    const w = runWorld();
    scriptSession(w.fake, w.sessionDir, { id: ID, execArgv: ['docker', 'exec', '-i', `drydock-${ID}`, 'make', 'test'], exec: { result: { code: 7 } } });
    const result = await run({ cmd: ['make', 'test'] }, w.ctx, deps(w));
    expect(result.exitCode).toBe(7);
    expect(w.fake.unmet()).toEqual([]);
    const err = w.stderr();
    expect(err).toMatch(/session myapp-aaaa · mode contain · docker compose v2\.24\.5/);
    expect(err).toMatch(/allowlist baseline: .*baseline\.conf — 1 entries/);
    expect(err).toMatch(/effective entries: 1/);
    expect(err).toMatch(/sidecar image drydock-egress:latest \(pinned: no\)/);
    expect(err).toMatch(/refused 1 destination[\s\S]*blocked\.test/);
    expect(err).not.toMatch(/NOT A JAIL/);
    const dir = w.sessionDir(ID);
    // Each line keeps docker's timestamp (a full date and zone, unlike tinyproxy's own stamp).
    expect(readFileSync(join(dir, 'egress.log'), 'utf8')).toMatch(/^2024-05-01T10:00:01\.000000001Z CONNECT .*blocked\.test:443[\s\S]*Proxying refused/);
    expect(readSessionMetadata(dir)).toMatchObject({ id: ID, project: 'myapp', mode: 'contain', observe: false, pid: 4242, exitCode: 7 });
    expect(readSessionMetadata(dir)?.endedAt).toBeDefined();
    expect(w.signals.listenerCount()).toBe(0);
  });

  it('retries with a new id when drydock-<id> already exists', async () => {
    const w = runWorld();
    scriptSession(w.fake, w.sessionDir, { id: 'myapp-bbbb', collisions: [ID], exec: { result: { code: 0 } } });
    const result = await run({ cmd: ['true'] }, w.ctx, deps(w));
    expect(result.exitCode).toBe(0);
    expect((result.data as { sessionId: string }).sessionId).toBe('myapp-bbbb');
    expect(existsSync(w.sessionDir(ID))).toBe(false);
  });

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`tears the session down on ${signal} during the command, exit ${code}`, async () => {
      const w = runWorld();
      scriptSession(w.fake, w.sessionDir, {
        id: ID,
        exec: {
          result: (_argv, options) => {
            w.signals.emit(signal);
            return { code: options?.signal?.aborted ? 130 : 0 };
          },
        },
      });
      const result = await run({ cmd: ['sleep', '100'] }, w.ctx, deps(w));
      expect(result.exitCode).toBe(code);
      expect(w.fake.unmet()).toEqual([]);
      expect(w.stderr()).toMatch(new RegExp(`stopped by ${signal}`));
      expect(readSessionMetadata(w.sessionDir(ID))?.exitCode).toBe(code);
      expect(w.signals.listenerCount()).toBe(0);
    });
  }

  it('a second signal does not abort the teardown', async () => {
    const w = runWorld();
    scriptSession(w.fake, w.sessionDir, {
      id: ID,
      exec: { result: () => (w.signals.emit('SIGTERM'), { code: 143 }) },
      rm: { result: (argv) => (w.signals.emit('SIGINT'), { stdout: argv.slice(3).join('\n') }) },
    });
    const result = await run({ cmd: ['x'] }, w.ctx, deps(w));
    expect(result.exitCode).toBe(143);
    expect(w.fake.unmet()).toEqual([]); // the network rm after the second signal still ran
    expect(w.stderr()).toMatch(/SIGINT received again; still tearing down session myapp-aaaa/);
  });

  it('a signal during compose up skips the command and tears down', async () => {
    const w = runWorld();
    scriptSession(w.fake, w.sessionDir, { id: ID, up: { result: () => (w.signals.emit('SIGINT'), { code: 130 }) } });
    const result = await run({ cmd: ['x'] }, w.ctx, deps(w));
    expect(result.exitCode).toBe(130);
    expect(w.fake.calls.some((c) => c[1] === 'exec')).toBe(false);
    expect(w.fake.unmet()).toEqual([]);
  });

  it('a sidecar that never becomes healthy: clear message, last log lines, exit 3, full teardown, no agent command', async () => {
    const w = runWorld();
    scriptSession(w.fake, w.sessionDir, {
      id: ID,
      teardownState: { id: ID, agent: 'created', egress: 'running' },
      up: { result: { code: 1, stderr: 'Container drydock-myapp-aaaa-egress  Waiting\ndependency failed to start: container drydock-myapp-aaaa-egress is unhealthy\n' } },
      logs: { result: { stderr: '2024-05-01T10:00:00Z drydock-egress: expected exactly one non-default interface, found 0\n' } },
    });
    const error = (await run({ cmd: ['x'] }, w.ctx, deps(w)).catch((e: unknown) => e)) as ExternalError;
    expect(error).toBeInstanceOf(ExternalError);
    expect(error.exitCode).toBe(3);
    expect(error.message).toMatch(/^the egress sidecar never became healthy; the agent was not started\n/);
    expect(error.message).toMatch(/is unhealthy/);
    expect(error.message).toMatch(/last sidecar log lines:\n {2}drydock-egress: expected exactly one non-default interface/);
    expect(w.fake.calls.some((c) => c[1] === 'exec')).toBe(false);
    expect(w.fake.unmet()).toEqual([]);
    expect(readSessionMetadata(w.sessionDir(ID))?.exitCode).toBe(3);
    expect(w.signals.listenerCount()).toBe(0);
  });

  it('teardown goes on past a failed container removal and reports it', async () => {
    const w = runWorld();
    scriptSession(w.fake, w.sessionDir, {
      id: ID,
      exec: { result: { code: 0 } },
      teardownState: { id: ID, mode: 'contain' },
      rm: { result: { code: 1, stdout: `e-${ID}\n`, stderr: `Error response from daemon: could not kill a-${ID}: permission denied\n` } },
      networkRm: { result: { code: 1, stderr: `Error response from daemon: error while removing network: network drydock_internal_${ID} id n-${ID} has active endpoints\n` } },
    });
    const result = await run({ cmd: ['x'] }, w.ctx, deps(w));
    expect(result.exitCode).toBe(0);
    expect(w.fake.unmet()).toEqual([]);
    expect(w.stderr()).toMatch(/teardown: could not remove container drydock-myapp-aaaa: .*permission denied — remove it with: docker rm -f drydock-myapp-aaaa/);
    expect(w.stderr()).toMatch(/teardown: could not remove network drydock_internal_myapp-aaaa: .*active endpoints — remove it with: docker network rm/);
    expect((result.data as { teardownFailures: string[] }).teardownFailures).toHaveLength(2);
  });

  it('dood: no sidecar image, no egress network, no sidecar log; says there is no jail', async () => {
    const w = runWorld();
    scriptSession(w.fake, w.sessionDir, { id: ID, mode: 'dood', exec: { result: { code: 0 } } });
    const result = await run({ cmd: ['x'], mode: 'dood' }, w.ctx, deps(w));
    expect(result.exitCode).toBe(0);
    expect(w.fake.unmet()).toEqual([]);
    expect(w.fake.calls.some((c) => c.includes('drydock-egress:latest') || c.includes('drydock_egress') || c[1] === 'logs')).toBe(false);
    expect(w.stderr()).toMatch(/NO egress jail/);
  });

  it('builds the default sidecar image when missing, with BASE from DRYDOCK_EGRESS_BASE_IMAGE', async () => {
    const w = runWorld({ DRYDOCK_EGRESS_BASE_IMAGE: 'local/debian:test' });
    scriptSession(w.fake, w.sessionDir, { id: ID, imagePresent: false, exec: { result: { code: 0 } } });
    await run({ cmd: ['x'] }, w.ctx, deps(w));
    const build = w.fake.calls.find((c) => c[1] === 'build')!;
    expect(build.slice(0, 8)).toEqual(['docker', 'build', '-t', 'drydock-egress:latest', '--build-arg', 'BASE=local/debian:test', '--build-arg', `DRYDOCK_EGRESS_TEMPLATE=${EGRESS_TEMPLATE_DIGEST}`]);
    expect(build[8]).toMatch(/templates\/egress$/);
    expect(w.stderr()).toMatch(/building the egress sidecar image drydock-egress:latest/);
  });

  it('rebuilds the default sidecar image when another drydock\'s templates built it (a sidecar without the address floor would never be healthy)', async () => {
    const w = runWorld();
    scriptSession(w.fake, w.sessionDir, { id: ID, imagePresent: 'stale', exec: { result: { code: 0 } } });
    expect((await run({ cmd: ['x'] }, w.ctx, deps(w))).exitCode).toBe(0);
    const build = w.fake.calls.find((c) => c[1] === 'build')!;
    expect(build).toContain(`DRYDOCK_EGRESS_TEMPLATE=${EGRESS_TEMPLATE_DIGEST}`);
    expect(w.stderr()).toMatch(/was built from other templates \(another drydock version\): rebuilding it/);
    expect(w.fake.unmet()).toEqual([]);
  });

  it('refuses a user-named sidecar image that is missing (exit 3) before creating anything', async () => {
    const w = runWorld({ DRYDOCK_EGRESS_IMAGE: 'registry.test/egress:1' });
    w.fake
      .expect({ argv: ['docker', 'compose', 'version'], result: { stdout: 'Docker Compose version v2.24.5\n' } })
      .expect({ argv: ['docker', 'image', 'inspect', '--format', '{{.Id}}', 'registry.test/egress:1'], result: { code: 1, stderr: 'Error: No such image: registry.test/egress:1\n' } });
    const error = (await run({ cmd: ['x'] }, w.ctx, deps(w)).catch((e: unknown) => e)) as ExternalError;
    expect(error.exitCode).toBe(3);
    expect(error.hint).toMatch(/docker pull registry\.test\/egress:1/);
    expect(w.fake.unmet()).toEqual([]);
    expect(existsSync(join(w.state, 'sessions'))).toBe(false);
  });

  it('observe mode says loudly that it is not a jail', async () => {
    const w = runWorld();
    scriptSession(w.fake, w.sessionDir, { id: ID, teardownState: { id: ID, observe: true }, exec: { result: { code: 0 } }, logs: { result: { stdout: '' } } });
    await run({ cmd: ['x'], observe: true }, w.ctx, deps(w));
    expect(w.stderr()).toMatch(/OBSERVE MODE — THIS IS NOT A JAIL/);
    expect(w.stderr()).toMatch(/drydock egress suggest myapp-aaaa/);
  });

  it('DRYDOCK_RUN_TIMING=1 prints start→command and sidecar create→healthy', async () => {
    const w = runWorld({ DRYDOCK_RUN_TIMING: '1' });
    const inspect = { Created: '2024-05-01T10:00:00.000000000Z', State: { StartedAt: '2024-05-01T10:00:00.4Z', Health: { Status: 'healthy', Log: [{ Start: '2024-05-01T10:00:00.9Z', End: '2024-05-01T10:00:01.25Z', ExitCode: 0 }] } } };
    w.fake.expect({ argv: ['docker', 'container', 'inspect', '--format', '{{json .}}', `drydock-${ID}-egress`], result: { stdout: JSON.stringify(inspect) } });
    scriptSession(w.fake, w.sessionDir, { id: ID, exec: { result: { code: 0 } } });
    await run({ cmd: ['x'] }, w.ctx, deps(w));
    expect(w.stderr()).toMatch(/timing: run start → agent command start: \d+ ms/);
    expect(w.stderr()).toMatch(/timing: sidecar create → healthy: 1250 ms \(create → start 400 ms, start → first passing check 850 ms\)\n/);
  });

  it('--json: the command runs with its stdout on stderr, so stdout carries only the document', async () => {
    const w = runWorld();
    const ctx = { ...w.ctx, json: true };
    scriptSession(w.fake, w.sessionDir, { id: ID, exec: { result: (_argv, options) => ({ code: options?.stdio === 'inherit-stdout-to-stderr' ? 0 : 99 }) } });
    const result = await run({ cmd: ['x'], json: true }, ctx, deps(w));
    expect(result.exitCode).toBe(0);
    expect(w.fake.unmet()).toEqual([]);
  });

  it('a failed jail self-test: the command is never started, the session is torn down, exit 3 naming the check', async () => {
    const w = runWorld();
    scriptSession(w.fake, w.sessionDir, { id: ID, selfTest: { result: { stdout: probeOutput(ID, { route4: ROUTE4_WITH_DEFAULT }) } } });
    const error = (await run({ cmd: ['x'] }, w.ctx, deps(w)).catch((e: unknown) => e)) as ExternalError;
    expect(error).toBeInstanceOf(ExternalError);
    expect(error.exitCode).toBe(3);
    expect(error.message).toMatch(/jail self-test failed, so the command was not started and session myapp-aaaa was torn down — ipv4-default-route: the agent has an IPv4 default route/);
    expect(w.fake.calls.some((c) => c[1] === 'exec' && c.includes(`drydock-${ID}`))).toBe(false);
    expect(w.fake.unmet()).toEqual([]); // the teardown's listing, logs, rm and network rm all ran
    expect(readSessionMetadata(w.sessionDir(ID))?.exitCode).toBe(3);
    expect(w.signals.listenerCount()).toBe(0);
  });

  it('the self-test is exec\'d, unprivileged, into the holder of the agent\'s network namespace, before the command', async () => {
    const w = runWorld();
    scriptSession(w.fake, w.sessionDir, { id: ID, exec: { result: { code: 0 } } });
    const result = await run({ cmd: ['x'] }, w.ctx, deps(w));
    const isProbe = (c: string[]) => c[1] === 'exec' && c.includes(`drydock-${ID}-netns`);
    const probe = w.fake.calls.find(isProbe)!;
    expect(probe.slice(0, 8)).toEqual(['docker', 'exec', '-i', '--user', '10001:10001', `drydock-${ID}-netns`, 'bash', '-c']);
    expect(w.fake.calls.findIndex(isProbe)).toBeLessThan(w.fake.calls.findIndex((c) => c[1] === 'exec' && c.includes(`drydock-${ID}`)));
    expect((result.data as { selfTest: { ok: boolean } }).selfTest.ok).toBe(true);
    expect(w.stderr()).toMatch(/jail self-test passed/);
  });

  it('the sidecar healthy while compose still runs: the namespace half of the self-test runs then, and after compose only the agent is inspected', async () => {
    const w = runWorld();
    scriptSession(w.fake, w.sessionDir, { id: ID, earlySelfTest: true, exec: { result: { code: 0 } } });
    const result = await run({ cmd: ['x'] }, w.ctx, deps(w));
    const at = (fits: (c: string[]) => boolean) => w.fake.calls.findIndex(fits);
    const probe = at((c) => c[1] === 'exec' && c.includes(`drydock-${ID}-netns`));
    const agentInspect = at((c) => c.join(' ') === `docker inspect drydock-${ID}`);
    expect(probe).toBeGreaterThan(at((c) => c[1] === 'events'));
    expect(agentInspect).toBeGreaterThan(at((c) => c.includes('up')));
    expect(agentInspect).toBeLessThan(at((c) => c[1] === 'exec' && c.includes('x')));
    const selfTest = (result.data as { selfTest: { ok: boolean; checks: Array<{ name: string; ok: boolean }> } }).selfTest;
    expect(selfTest.ok).toBe(true);
    // The agent's own checks were decided from the late inspect.
    expect(selfTest.checks.filter((c) => c.name === 'agent-namespace' || c.name === 'proxy-variables').map((c) => c.ok)).toEqual([true, true]);
  });

  it('passes -i -t when it has a terminal', async () => {
    const w = runWorld();
    scriptSession(w.fake, w.sessionDir, { id: ID, execArgv: ['docker', 'exec', '-i', '-t', `drydock-${ID}`, 'claude'], exec: { result: { code: 0 } } });
    await run({ cmd: [] }, w.ctx, deps(w, { tty: true }));
    expect(w.fake.unmet()).toEqual([]);
  });

  it('refuses a bad allowlist before anything is created (exit 2, no docker objects, no session dir)', async () => {
    const w = runWorld();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(w.root, 'config', 'egress-allowlist'), 'not a host\n');
    w.fake
      .expect({ argv: ['docker', 'compose', 'version'], result: { stdout: 'Docker Compose version v2.24.5\n' } })
      .expect({ argv: EGRESS_IMAGE_INSPECT, result: { stdout: `${EGRESS_TEMPLATE_DIGEST}\n` } })
      .expect({ argv: ['docker', 'network', 'create', '--label', 'drydock.shared=egress', 'drydock_egress'], result: { stdout: 'id\n' } })
      .expect({ argv: (a) => a[2] === 'inspect' && a.at(-1) === 'drydock-agent:latest', result: { stdout: '1000\n' } })
      .expect({ argv: (a) => a[1] === 'container' && a[2] === 'inspect', result: { code: 1, stderr: 'Error: No such container: a\nError: No such container: b\n' } });
    const error = (await run({ cmd: ['x'] }, w.ctx, deps(w)).catch((e: unknown) => e)) as ExternalError;
    expect(error.exitCode).toBe(2);
    expect(w.fake.unmet()).toEqual([]);
    expect(w.fake.calls.some((c) => c.includes('up'))).toBe(false);
    expect(existsSync(w.sessionDir(ID))).toBe(false);
    expect(w.signals.listenerCount()).toBe(0);
  });
});

describe('run: the agent', () => {
  it('hands credentials to docker exec by name only: the value is in no argv and no file drydock wrote', async () => {
    const secret = 'sk-ant-api03-THE-SECRET-VALUE';
    const w = runWorld({ ANTHROPIC_API_KEY: secret, MY_TOKEN: 'tok-SECRET-2', DRYDOCK_PASS_ENV: 'MY_TOKEN' });
    scriptSession(w.fake, w.sessionDir, { id: ID, exec: { result: { code: 0 } } });
    await run({ cmd: ['claude', '-p', 'hi'] }, w.ctx, deps(w));
    const exec = w.fake.calls.find((c) => c[1] === 'exec' && !c.includes(`drydock-${ID}-netns`))!;
    expect(exec).toEqual(['docker', 'exec', '-i', '-e', 'ANTHROPIC_API_KEY', '-e', 'MY_TOKEN', `drydock-${ID}`, 'claude', '-p', 'hi']);
    expect(w.fake.calls.flat().join(' ')).not.toMatch(/SECRET/);
    const { readdirSync } = await import('node:fs');
    for (const f of readdirSync(w.state, { recursive: true, withFileTypes: true })) {
      if (f.isFile()) expect(readFileSync(join(f.parentPath, f.name), 'utf8')).not.toMatch(/SECRET/);
    }
    expect(w.stderr()).toMatch(/credentials passed by name: ANTHROPIC_API_KEY, MY_TOKEN/);
    expect(w.stderr()).toMatch(/agent runs as uid 1000:1000 \(host user\)/);
    expect(existsSync(join(w.state, 'agent-state', 'myapp', 'home'))).toBe(true);
  });

  it('builds the default agent image on first use with the agent user\'s uid/gid', async () => {
    const w = runWorld({ DRYDOCK_CLAUDE_CODE_VERSION: '2.1.197' });
    scriptSession(w.fake, w.sessionDir, { id: ID, agentImage: 'missing', exec: { result: { code: 0 } } });
    await run({ cmd: ['true'] }, w.ctx, deps(w, { hostIds: { uid: 1234, gid: 567 } }));
    const build = w.fake.calls.find((c) => c[1] === 'build')!;
    expect(build).toEqual(expect.arrayContaining(['--build-arg', 'AGENT_UID=1234', 'AGENT_GID=567', 'CLAUDE_CODE_VERSION=2.1.197', 'drydock-agent:latest']));
    expect(build.at(-1)).toMatch(/templates\/agent$/);
    expect(readFileSync(join(w.sessionDir(ID), 'docker-compose.yml'), 'utf8')).toMatch(/user: 1234:567/);
  });

  it('warns when the present agent image was built for another uid', async () => {
    const w = runWorld();
    scriptSession(w.fake, w.sessionDir, { id: ID, agentImageUid: '1001', exec: { result: { code: 0 } } });
    await run({ cmd: ['true'] }, w.ctx, deps(w));
    expect(w.stderr()).toMatch(/drydock-agent:latest was built for uid 1001, the agent runs as 1000: rebuild it with `drydock build`/);
    expect(w.fake.calls.some((c) => c[1] === 'build')).toBe(false);
  });

  it('refuses a root agent without --allow-root before anything is created', async () => {
    const w = runWorld({ DRYDOCK_AGENT_USER: '0' });
    const error = (await run({ cmd: ['x'] }, w.ctx, deps(w)).catch((e: unknown) => e)) as ExternalError;
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/would run the agent as root/);
    expect(w.fake.calls).toEqual([]);
    expect(existsSync(join(w.state, 'sessions'))).toBe(false);
  });

  it('--no-persist gives the agent a tmpfs home and creates no state', async () => {
    const w = runWorld();
    scriptSession(w.fake, w.sessionDir, { id: ID, exec: { result: { code: 0 } } });
    await run({ cmd: ['true'], persist: false }, w.ctx, deps(w));
    expect(readFileSync(join(w.sessionDir(ID), 'docker-compose.yml'), 'utf8')).toMatch(/\/home\/agent:uid=1000,gid=1000,mode=0700/);
    expect(existsSync(join(w.state, 'agent-state'))).toBe(false);
  });
});

describe('agentCommand', () => {
  it('uses -- CMD, else DRYDOCK_AGENT_COMMAND split on spaces, else claude', () => {
    const configured = (env: Record<string, string>) => resolveSettings({ env, cwd: '/p' }).agentCommand;
    expect(agentCommand(['a', 'b c'], configured({ DRYDOCK_AGENT_COMMAND: 'x' }))).toEqual(['a', 'b c']);
    expect(agentCommand([], configured({ DRYDOCK_AGENT_COMMAND: 'claude  --dangerously-skip-permissions' }))).toEqual(['claude', '--dangerously-skip-permissions']);
    expect(agentCommand([], configured({}))).toEqual(['claude']);
  });
});
