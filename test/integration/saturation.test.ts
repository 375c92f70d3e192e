/**
 * An agent-like load on the real tinyproxy (Debian's 1.11.1) with drydock's rendered config: many
 * idle keep-alive CONNECT tunnels held open, as npm/pip/git connection pools leave them. With
 * drydock's MaxClients the next connection is still served and the healthcheck stays healthy; with
 * the old MaxClients 100, 150 idle tunnels stall the next connection, and the healthcheck says so.
 * Liveness bounds only (a tunnel that does not answer in 10 s is "not served"); no timing asserted.
 */
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_CLIENTS } from '../../lib/limits/settings.js';
import { templatesDir } from '../../lib/paths.js';
import { directiveValues } from './harness/conf-rewrite.js';
import { pickLoopbackBlock } from './harness/loopback.js';
import { renderProxyFiles, type RenderedProxyFiles } from './harness/session.js';
import { startTinyproxy, type TinyproxyHandle } from './harness/tinyproxy.js';
import { echoPrefix, startUpstreams, type Upstreams } from './harness/upstreams.js';
import { tempDir } from '../helpers/temp-dir.js';
import { RESOLVER_BOUND_UDP } from '../render/sidecar-harness.js';

const HEALTHCHECK = join(templatesDir(), 'egress', 'drydock-egress-healthcheck');
const IDLE_TUNNELS = 200;
const block = pickLoopbackBlock();

let rendered: RenderedProxyFiles;
let upstreams: Upstreams;
let proxy: TinyproxyHandle | undefined;
let runDir: string;
let tunnels: Socket[] = [];

beforeAll(async () => {
  rendered = renderProxyFiles({ allowlist: 'pool.test\n' });
  upstreams = await startUpstreams([{ name: 'pool', address: block.ip(2), ports: [443] }]);
});

afterEach(async () => {
  for (const socket of tunnels) socket.destroy();
  tunnels = [];
  await proxy?.stop();
  proxy = undefined;
  rmSync(runDir, { recursive: true, force: true });
});

afterAll(async () => {
  await upstreams?.stop();
  rendered?.cleanup();
});

/** A CONNECT through the proxy; resolves with the open socket once the tunnel echoes, else null. */
function openTunnel(port: number, timeoutMs = 10_000): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      if (!ok) socket.destroy();
      resolve(ok ? socket : null);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('error', () => done(false));
    socket.once('connect', () => socket.write('CONNECT pool.test:443 HTTP/1.1\r\nHost: pool.test:443\r\n\r\n'));
    socket.on('data', (chunk: string) => {
      data += chunk;
      // A line, so the upstream takes it for a tunnel payload (it waits on a lone word: an HTTP method?).
      if (/^HTTP\/1\.\d 200 /.test(data) && data.includes('\r\n\r\n') && !data.includes('ping')) socket.write('ping\n');
      if (data.includes(`${echoPrefix('pool', 443)}ping`)) done(true);
      else if (/^HTTP\/1\.\d [^2]/.test(data)) done(false);
    });
  });
}

async function start(confText: string): Promise<TinyproxyHandle> {
  proxy = await startTinyproxy({ confText, filterText: rendered.filterText, hosts: { 'pool.test': block.ip(2) } });
  // What the sidecar's entrypoint leaves for the healthcheck: the address, and the config tinyproxy runs.
  runDir = tempDir('saturation');
  writeFileSync(join(runDir, 'udp'), RESOLVER_BOUND_UDP);
  writeFileSync(join(runDir, 'drydock-listen'), '127.0.0.1\n');
  writeFileSync(join(runDir, 'tinyproxy.conf'), confText);
  return proxy;
}

async function holdIdleTunnels(port: number, count: number): Promise<number> {
  for (let i = 0; i < count; i++) {
    const socket = await openTunnel(port, 3000);
    if (!socket) return i;
    tunnels.push(socket);
  }
  return count;
}

function healthcheck(port: number, seams: Record<string, string> = {}): Promise<{ status: number | null; out: string }> {
  const child = spawn('bash', [HEALTHCHECK], {
    // The address floor's resolver is not part of this test: a socket table that names its 127.0.0.1:53.
    env: { PATH: '/usr/bin:/bin', DRYDOCK_RUN_DIR: runDir, DRYDOCK_PROXY_PORT: String(port), DRYDOCK_HEALTH_WATCH_SECONDS: '1', DRYDOCK_PROC_NET_UDP: join(runDir, 'udp'), ...seams },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  return new Promise((done) => child.once('close', (status) => done({ status, out })));
}

const logLines = (handle: TinyproxyHandle) => handle.readLog().split('\n').filter((l) => l !== '').length;

/** The log's line count once nothing has been added for 300 ms (it is drained by another process, a little late). */
async function settledLogLines(handle: TinyproxyHandle): Promise<number> {
  let last = logLines(handle);
  for (let quiet = 0; quiet < 3; ) {
    await new Promise((r) => setTimeout(r, 100));
    const now = logLines(handle);
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
  return last;
}

describe('many idle keep-alive tunnels (real tinyproxy)', { timeout: 120_000 }, () => {
  it(`drydock's config: ${IDLE_TUNNELS} idle tunnels held, the next connection is served and the sidecar stays healthy`, async () => {
    expect(directiveValues(rendered.confText, 'MaxClients')).toEqual([String(DEFAULT_MAX_CLIENTS)]);
    const handle = await start(rendered.confText);
    expect((await healthcheck(handle.port)).status).toBe(0);
    expect(await holdIdleTunnels(handle.port, IDLE_TUNNELS)).toBe(IDLE_TUNNELS);
    const next = await openTunnel(handle.port);
    expect(next).not.toBeNull();
    next?.destroy();
    const before = await settledLogLines(handle);
    expect(await healthcheck(handle.port)).toMatchObject({ status: 0, out: `ok: ${IDLE_TUNNELS} of MaxClients ${DEFAULT_MAX_CLIENTS} in use\n` });
    // Quiet: a check between the once-a-minute requests writes nothing to the proxy's log.
    expect(await settledLogLines(handle)).toBe(before);
  });

  it('the old MaxClients 100: 100 idle tunnels stall the next connection (as 150 did in #13), and the healthcheck notices', async () => {
    const handle = await start(rendered.confText.replace(/^MaxClients \d+$/m, 'MaxClients 100'));
    expect((await healthcheck(handle.port)).status).toBe(0);
    // tinyproxy serves 100; the other 50 wait in the kernel's queue, unanswered.
    expect(await holdIdleTunnels(handle.port, 100)).toBe(100);
    expect(await openTunnel(handle.port, 3000)).toBeNull();
    expect(await healthcheck(handle.port)).toMatchObject({ status: 1, out: expect.stringMatching(/saturated: 10\d connections, MaxClients 100/) });
    // And once the pool lets go, the same proxy is healthy again.
    for (const socket of tunnels.splice(0)) socket.destroy();
    await new Promise((r) => setTimeout(r, 500));
    expect((await healthcheck(handle.port)).status).toBe(0);
  });
});
