/**
 * The probe Pod's script, run for real with bash against loopback listeners this test opens: a
 * listener stands for the proxy, another (or a closed port) for the API server. What the cluster
 * does to its packets is what the script cannot fake; what it concludes from them is tested here.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probeVerdict } from '../../lib/kubernetes/probe.js';
import { PROBE_SCRIPT } from '../../lib/kubernetes/probe-script.js';

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((done) => s.close(() => done()))));
});

async function listener(): Promise<number> {
  const server = createServer((socket) => socket.destroy());
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return (server.address() as { port: number }).port;
}

/** A port nothing listens on: opened, then closed again. */
async function closedPort(): Promise<number> {
  const port = await listener();
  await new Promise<void>((done) => servers.pop()!.close(() => done()));
  return port;
}

function probe(proxyPort: number, api: { host?: string; port?: number }): Promise<{ code: number | null; stdout: string }> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  if (api.host !== undefined) env.KUBERNETES_SERVICE_HOST = api.host;
  if (api.port !== undefined) env.KUBERNETES_SERVICE_PORT = String(api.port);
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', PROBE_SCRIPT, 'drydock-probe', '127.0.0.1', String(proxyPort)], { env });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

const phaseOf = (code: number | null) => (code === 0 ? 'Succeeded' : 'Failed');

describe('the NetworkPolicy probe script', () => {
  it('says enforced when its proxy answers and the API server does not', async () => {
    const result = await probe(await listener(), { host: '127.0.0.1', port: await closedPort() });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^drydock-probe: enforced proxy reachable, 127\.0\.0\.1:\d+ not\n$/);
    expect(probeVerdict(phaseOf(result.code), result.stdout).enforced).toBe(true);
  });

  it('says not-enforced when it reaches the API server directly, and that stops the session', async () => {
    const api = await listener();
    const result = await probe(await listener(), { host: '127.0.0.1', port: api });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`drydock-probe: not-enforced connected to 127.0.0.1:${api} directly\n`);
    const verdict = probeVerdict(phaseOf(result.code), result.stdout);
    expect(verdict).toEqual({ enforced: false, reason: `the cluster does not enforce NetworkPolicy: a pod under the agent's policy connected to 127.0.0.1:${api} directly` });
  });

  it('is inconclusive (no session) when it cannot reach its own proxy, however closed the world looks', async () => {
    const result = await probe(await closedPort(), { host: '127.0.0.1', port: await closedPort() });
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/^drydock-probe: inconclusive cannot reach its proxy 127\.0\.0\.1:\d+\n$/);
    expect(probeVerdict(phaseOf(result.code), result.stdout).enforced).toBe(false);
  });

  it('is inconclusive without an API server address to test', async () => {
    const result = await probe(await listener(), {});
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('drydock-probe: inconclusive no KUBERNETES_SERVICE_HOST to test against\n');
  });
});

describe('probeVerdict', () => {
  it('passes only Succeeded with the enforced line', () => {
    expect(probeVerdict('Succeeded', 'drydock-probe: enforced proxy reachable, 10.96.0.1:443 not\n').enforced).toBe(true);
    expect(probeVerdict('Failed', 'drydock-probe: enforced proxy reachable, 10.96.0.1:443 not\n').enforced).toBe(false);
    expect(probeVerdict('Succeeded', '').enforced).toBe(false);
    expect(probeVerdict('Succeeded', undefined)).toEqual({ enforced: false, reason: 'the NetworkPolicy probe ended Succeeded without a verdict' });
    expect(probeVerdict('Succeeded', 'drydock-probe: enforcedX\n').enforced).toBe(false);
  });
});
