/**
 * The limits drydock renders are the limits the engine applies (engine 20.10 + Compose v1 1.29 read
 * `mem_limit`, `memswap_limit`, `cpus`, `pids_limit`, `init`, `logging` and `tmpfs: PATH:size=…`
 * outside swarm): `docker inspect` of both containers, the cgroup files seen from inside the agent,
 * the size of the sidecar's tmpfs, and a healthcheck that stays quiet in the sidecar's log.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { background, drydock, dumpDiagnostics, makeSandbox, waitForRunningAgent, type Background, type Sandbox } from './helpers/drydock.js';
import { describeE2E, docker, dockerOk, waitFor } from './helpers/engine.js';
import { ensureSharedNetwork } from './helpers/world.js';

const MIB = 1024 * 1024;

interface HostConfig {
  Memory: number;
  MemorySwap: number;
  NanoCpus: number;
  PidsLimit: number | null;
  Init: boolean | null;
  LogConfig: { Type: string; Config: Record<string, string> };
  Tmpfs: Record<string, string> | null;
}

async function hostConfig(container: string): Promise<HostConfig> {
  return JSON.parse(await dockerOk(['container', 'inspect', '--format', '{{json .HostConfig}}', container])) as HostConfig;
}

describeE2E('resource limits on a real engine', () => {
  let sb: Sandbox;
  let run: Background;
  let id: string;

  beforeAll(async () => {
    await ensureSharedNetwork();
    // Two overrides, to show a variable reaches the engine; the rest are the defaults.
    sb = makeSandbox({ project: 'e2e-limits', allowlist: ['allowed.test'], env: { DRYDOCK_AGENT_MEMORY: '768m', DRYDOCK_AGENT_PIDS: '300', DRYDOCK_AGENT_CPUS: '1' } });
    // A session of this project left by an earlier run on a kept engine must not be the one inspected.
    await drydock(sb, ['stop', '--project', sb.project]);
    run = background(sb, ['run', '--project', sb.project, '--', 'sleep', 'infinity']);
    id = await waitForRunningAgent(sb, { run });
  });

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await dumpDiagnostics(sb, { stderr: run.stderr() });
  });
  afterAll(async () => {
    await drydock(sb, ['stop', '--project', sb.project]);
  });

  it('the banner shows every limit in force', async () => {
    // Printed once compose up returns, which can be a moment after the agent container runs.
    await waitFor('the banner', async () => (run.stderr().includes('limits sidecar') ? true : undefined), 30_000);
    expect(run.stderr()).toMatch(/limits agent: memory 768m, cpus 1, pids 300, init on; logs 10m × 3 per container/);
    expect(run.stderr()).toMatch(/limits sidecar: memory 256m, pids 1064, MaxClients 1000, Timeout 600s, tmpfs 32m each/);
  });

  it('the agent: memory without swap, one CPU, 300 tasks, an init, capped logs', async () => {
    const agent = await hostConfig(`drydock-${id}`);
    expect(agent).toMatchObject({ Memory: 768 * MIB, MemorySwap: 768 * MIB, NanoCpus: 1e9, PidsLimit: 300, Init: true });
    expect(agent.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
    // Effective, not only recorded: the kernel's own limits, read inside the container (cgroup v1 or v2).
    const pids = await dockerOk(['exec', `drydock-${id}`, 'sh', '-c', 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max']);
    expect(pids.trim()).toBe('300');
    const memory = await dockerOk(['exec', `drydock-${id}`, 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max']);
    expect(Number(memory.trim())).toBe(768 * MIB);
    // Pid 1 reaps what the exec'd commands leave behind.
    expect((await dockerOk(['exec', `drydock-${id}`, 'cat', '/proc/1/comm'])).trim()).toBe('docker-init');
  });

  it('the sidecar: memory, tasks above MaxClients, capped logs, sized tmpfs', async () => {
    const sidecar = await hostConfig(`drydock-${id}-egress`);
    expect(sidecar).toMatchObject({ Memory: 256 * MIB, MemorySwap: 256 * MIB, PidsLimit: 1064 });
    expect(sidecar.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
    expect(sidecar.Tmpfs).toEqual({ '/run': 'size=32m', '/tmp': 'size=32m' });
    const df = await dockerOk(['exec', `drydock-${id}-egress`, 'df', '-k', '/tmp', '/run']);
    const sizes = df.trim().split('\n').slice(1).map((line) => Number(line.split(/\s+/)[1]));
    expect(sizes).toEqual([32 * 1024, 32 * 1024]);
  });

  it('the healthcheck stays healthy and quiet: one request in the proxy log, then only socket-table looks', async () => {
    const name = `drydock-${id}-egress`;
    // Let the engine run it several times (about every 4 s once healthy).
    await new Promise((r) => setTimeout(r, 10_000));
    const health = JSON.parse(await dockerOk(['container', 'inspect', '--format', '{{json .State.Health}}', name])) as {
      Status: string;
      Log: Array<{ ExitCode: number; Output: string }>;
    };
    expect(health.Status).toBe('healthy');
    expect(health.Log.length).toBeGreaterThanOrEqual(2);
    expect(health.Log.every((l) => l.ExitCode === 0 && l.Output.startsWith('ok: '))).toBe(true);
    const logs = await docker(['logs', name]);
    const lines = `${logs.stdout}\n${logs.stderr}`.split('\n');
    expect(lines.filter((l) => l.includes('Request (file descriptor') && l.endsWith('drydock-healthcheck'))).toHaveLength(1);
    // The healthcheck connects from the sidecar's own address; the jail self-test's from the agent's.
    const own = /drydock-egress: listening on (\S+)/.exec(lines.join('\n'))?.[1];
    expect(own).toBeDefined();
    expect(lines.filter((l) => l.includes('Connect (file descriptor') && l.endsWith(`: ${own}`))).toHaveLength(1);
  });

  it('the session still works within its limits', async () => {
    const out = await waitFor('the agent to answer', async () => {
      const r = await docker(['exec', `drydock-${id}`, 'sh', '-c', 'echo ok']);
      return r.code === 0 ? r.stdout.trim() : undefined;
    });
    expect(out).toBe('ok');
  });
});
