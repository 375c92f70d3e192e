/**
 * Isolation between what shares an engine: two sessions running side by side, a container on the
 * shared NAT bridge that belongs to no session, and services on the Docker host itself. Each
 * session's agent may use its own proxy and nothing else.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { background, containersOf, dumpDiagnostics, makeSandbox, waitForRunningAgent, type Background, type Sandbox } from './helpers/drydock.js';
import { describeE2E, docker, dockerOk } from './helpers/engine.js';
import { parseProbes, pick, probeScript, type ProbeResult, type ProbeSpec } from './helpers/probe.js';
import { SHARED_NETWORK, neighbour, startHostService, startUpstream, type HostService, type Upstream } from './helpers/world.js';

interface Running {
  sb: Sandbox;
  run: Background;
  session: string;
  sidecar: string;
  /** The sidecar's address on the session's internal network and on the shared bridge. */
  internalIp: string;
  sharedIp: string;
  /** The internal network's gateway: the Docker host's address on that bridge. */
  gateway: string;
}

async function startSession(project: string): Promise<Running> {
  const sb = makeSandbox({ project, allowlist: ['allowed.test'] });
  const run = background(sb, ['run', '--project', project, '--', 'sleep', 'infinity']);
  const session = await waitForRunningAgent(sb, { run });
  const sidecar = `drydock-${session}-egress`;
  const internal = `drydock_internal_${session}`;
  const ips = JSON.parse(await dockerOk(['inspect', '-f', '{{json .NetworkSettings.Networks}}', sidecar])) as Record<string, { IPAddress: string }>;
  const gateway = (await dockerOk(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', internal])).trim();
  return { sb, run, session, sidecar, internalIp: ips[internal]!.IPAddress, sharedIp: ips[SHARED_NETWORK]!.IPAddress, gateway };
}

async function probeFromAgent(from: Running, probes: ProbeSpec[]): Promise<Map<string, ProbeResult>> {
  const result = await docker(['exec', `drydock-${from.session}`, 'bash', '-c', probeScript(probes, 4)]);
  return parseProbes(result.stdout);
}

const proxied = (proxy: string, url = 'http://allowed.test:443/') => ['-p', '-x', proxy, url];
/** Nothing came back from the far side: no tunnel, no answer. */
const unreachable = (p: ProbeResult) => {
  expect(p.exit, `${p.name}: ${p.text}`).not.toBe(0);
  expect(p.connect, p.name).not.toBe(200);
  expect(p.text, p.name).not.toContain('upstream');
};

describeE2E('isolation between sessions, bridge neighbours and the host', () => {
  let upstream: Upstream;
  let a: Running;
  let b: Running;
  let hostService: HostService;

  beforeAll(async () => {
    upstream = await startUpstream('e2e-upstream-isolation');
    hostService = await startHostService(9999);
    [a, b] = await Promise.all([startSession('e2e-iso-a'), startSession('e2e-iso-b')]);
  });
  afterAll(async () => {
    for (const s of [a, b]) {
      if (!s) continue;
      s.run.child.kill('SIGTERM');
      await s.run.exited;
    }
    hostService?.stop();
    await upstream?.stop();
    expect(await containersOf({ project: 'e2e-iso-a' })).toEqual([]);
    expect(await containersOf({ project: 'e2e-iso-b' })).toEqual([]);
  });
  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    for (const s of [a, b]) if (s) await dumpDiagnostics(s.sb, { stderr: s.run.stderr() });
  });

  it("an agent reaches the world through its own sidecar only, never through another session's", async () => {
    const r = await probeFromAgent(a, [
      { name: 'own-proxy', curl: ['-p', 'http://allowed.test:443/'] },
      { name: 'peer-by-name', curl: proxied(`http://${b.sidecar}:8888`) },
      { name: 'peer-internal-ip', curl: proxied(`http://${b.internalIp}:8888`) },
      { name: 'peer-shared-ip', curl: proxied(`http://${b.sharedIp}:8888`) },
      { name: 'own-sidecar-shared-ip', curl: proxied(`http://${a.sharedIp}:8888`) },
    ]);
    // The probe method works: the agent's own proxy answers.
    expect(pick(r, 'own-proxy').connect, pick(r, 'own-proxy').text).toBe(200);
    for (const name of ['peer-by-name', 'peer-internal-ip', 'peer-shared-ip', 'own-sidecar-shared-ip']) unreachable(pick(r, name));
    // And the other way round.
    const back = await probeFromAgent(b, [{ name: 'peer-internal-ip', curl: proxied(`http://${a.internalIp}:8888`) }]);
    unreachable(pick(back, 'peer-internal-ip'));
  });

  it('a container on the shared NAT bridge cannot use any session proxy', async () => {
    const probes: ProbeSpec[] = [
      // The neighbour has a working network: the upstream answers it directly.
      { name: 'direct', curl: ['http://allowed.test/'] },
      { name: 'a-by-name', curl: proxied(`http://${a.sidecar}:8888`) },
      { name: 'a-shared-ip', curl: proxied(`http://${a.sharedIp}:8888`) },
      { name: 'a-internal-ip', curl: proxied(`http://${a.internalIp}:8888`) },
      { name: 'b-shared-ip', curl: proxied(`http://${b.sharedIp}:8888`) },
      { name: 'b-plain-http', curl: ['-x', `http://${b.sharedIp}:8888`, 'http://allowed.test/'] },
    ];
    const result = await neighbour(probeScript(probes, 4));
    const r = parseProbes(result.stdout);
    expect(pick(r, 'direct').text).toContain('upstream port=80');
    for (const name of ['a-by-name', 'a-shared-ip', 'a-internal-ip', 'b-shared-ip', 'b-plain-http']) unreachable(pick(r, name));
  });

  it('an agent cannot reach services on the Docker host, through its network gateway or any other host address', async () => {
    const sharedGateway = (await dockerOk(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', SHARED_NETWORK])).trim();
    const port = hostService.port;
    // The same service answers a container on the shared bridge, so a refusal below is the jail's.
    const control = parseProbes((await neighbour(probeScript([{ name: 'host', curl: [`http://${sharedGateway}:${port}/`] }], 4))).stdout);
    expect(pick(control, 'host').text).toContain(`upstream port=${port}`);

    const r = await probeFromAgent(a, [
      { name: 'own-gateway', curl: ['--noproxy', '*', `http://${a.gateway}:${port}/`] },
      { name: 'shared-gateway', curl: ['--noproxy', '*', `http://${sharedGateway}:${port}/`] },
      { name: 'peer-gateway', curl: ['--noproxy', '*', `http://${b.gateway}:${port}/`] },
      { name: 'via-proxy', curl: [`http://${sharedGateway}:${port}/`] },
    ]);
    for (const name of ['own-gateway', 'shared-gateway', 'peer-gateway']) unreachable(pick(r, name));
    expect(pick(r, 'via-proxy').code).toBe(403);
  });
});
