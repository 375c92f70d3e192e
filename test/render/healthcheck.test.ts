/**
 * The sidecar healthcheck really tests the proxy port: run for real against a loopback listener
 * this test opens and closes. Also pins the port and paths shared by the scripts, the baked
 * config and the compose files, so they cannot drift apart.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileFilter } from '../../lib/allowlist/compile.js';
import { renderTinyproxyConf } from '../../lib/egress/tinyproxy-conf.js';
import { templatesDir } from '../../lib/paths.js';
import { DOCKER_DEFAULT_RESOLVERS, renderResolverConf } from '../../lib/egress/address-floor.js';
import { PROXY_PORT, SIDECAR_CONF_PATH, SIDECAR_FILTER_PATH, SIDECAR_HEALTHCHECK, SIDECAR_USER, SIDECAR_CONF_DIR, FILE_NAMES } from '../../lib/names.js';
import { tempDir } from '../helpers/temp-dir.js';

const egressDir = join(templatesDir(), 'egress');
const HEALTHCHECK = join(egressDir, 'drydock-egress-healthcheck');

let dir: string;
let server: Server | undefined;

/** The kernel's UDP table as the healthcheck reads it; `resolver` puts dnsmasq's 127.0.0.1:53 in it. */
function udpTable(resolver: boolean): void {
  const header = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';
  const other = '  100: 0B00007F:A1B2 00000000:0000 07 00000000:00000000 00:00000000 00000000 10001        0 1 2 0000000000000000 0\n';
  const dns = '  101: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000 10001        0 3 2 0000000000000000 0\n';
  writeFileSync(join(dir, 'udp'), header + other + (resolver ? dns : ''));
}

beforeEach(() => {
  dir = tempDir('health');
  udpTable(true);
});

afterEach(async () => {
  if (server) await new Promise<void>((done) => server!.close(() => done()));
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Connections the fake proxy accepted: the quiet checks must not add to it. */
let accepted = 0;
let held: Socket[] = [];

/** A loopback stand-in for tinyproxy: answers any request line with 400, or (`mute`) never answers. */
async function listen(options: { mute?: boolean } = {}): Promise<number> {
  accepted = 0;
  server = createServer((socket) => {
    accepted += 1;
    socket.on('error', () => undefined);
    if (options.mute) return void held.push(socket);
    socket.once('data', () => socket.end('HTTP/1.0 400 Bad Request\r\n\r\n'));
  });
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
  return (server.address() as { port: number }).port;
}

/** Clients that connect and stay, like an agent's idle keep-alive tunnels. */
async function holdConnections(port: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    await new Promise<void>((done) => socket.once('connect', () => done()));
    held.push(socket);
  }
}

/** Run for real, asynchronously: the fake proxy lives in this process and must keep answering. */
function healthcheck(port: number, seams: Record<string, string> = {}): Promise<{ status: number | null; out: string }> {
  const child = spawn('bash', [HEALTHCHECK], {
    env: {
      PATH: '/usr/bin:/bin',
      DRYDOCK_RUN_DIR: dir,
      DRYDOCK_PROXY_PORT: String(port),
      DRYDOCK_HEALTH_WATCH_SECONDS: '0',
      DRYDOCK_HEALTH_START_WAIT_SECONDS: '1',
      DRYDOCK_PROC_NET_UDP: join(dir, 'udp'),
      ...seams,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 15_000,
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  return new Promise((done) => child.once('close', (status) => done({ status, out })));
}

const closeServer = async () => {
  for (const socket of held) socket.destroy();
  held = [];
  if (server) await new Promise<void>((done) => server!.close(() => done()));
  server = undefined;
};

describe('drydock-egress-healthcheck', { timeout: 30_000 }, () => {
  afterEach(closeServer);

  it('passes once the proxy answers a request, and fails once nothing listens', async () => {
    writeFileSync(join(dir, 'drydock-listen'), '127.0.0.1\n');
    const port = await listen();
    expect(await healthcheck(port)).toMatchObject({ status: 0, out: expect.stringMatching(/^ok: serving on 127\.0\.0\.1:/) });
    expect(accepted).toBe(1);
    await closeServer();
    expect(await healthcheck(port)).toMatchObject({ status: 1, out: expect.stringContaining('nothing listens') });
  });

  it('fails while the proxy answers but the address floor\'s resolver does not listen, at the first check and later ones', async () => {
    writeFileSync(join(dir, 'drydock-listen'), '127.0.0.1\n');
    const port = await listen();
    udpTable(false);
    expect(await healthcheck(port)).toMatchObject({ status: 1, out: expect.stringContaining("resolver does not listen on 127.0.0.1:53") });
    udpTable(true);
    expect((await healthcheck(port)).status).toBe(0);
    udpTable(false);
    expect(await healthcheck(port)).toMatchObject({ status: 1, out: expect.stringContaining("resolver does not listen on 127.0.0.1:53") });
  });

  it('fails before the entrypoint has chosen an address', async () => {
    const port = await listen();
    expect((await healthcheck(port)).status).not.toBe(0);
    expect(accepted).toBe(0);
  });

  it('fails when the port accepts but nothing answers (a TCP connect alone proves nothing)', async () => {
    writeFileSync(join(dir, 'drydock-listen'), '127.0.0.1\n');
    const port = await listen({ mute: true });
    expect(await healthcheck(port)).toMatchObject({ status: 1, out: expect.stringContaining('did not answer') });
  });

  it('is quiet once healthy: later checks read the socket table and do not connect, until a request is due', async () => {
    writeFileSync(join(dir, 'drydock-listen'), '127.0.0.1\n');
    const port = await listen();
    expect((await healthcheck(port)).status).toBe(0);
    expect((await healthcheck(port, { DRYDOCK_HEALTH_WATCH_SECONDS: '1' })).status).toBe(0);
    expect((await healthcheck(port)).status).toBe(0);
    expect(accepted).toBe(1);
    expect((await healthcheck(port, { DRYDOCK_HEALTH_PROBE_SECONDS: '0' })).status).toBe(0);
    expect(accepted).toBe(2);
  });

  it('notices a saturated proxy: MaxClients connections held on two looks in a row', async () => {
    writeFileSync(join(dir, 'drydock-listen'), '127.0.0.1\n');
    writeFileSync(join(dir, 'tinyproxy.conf'), 'Port 8888\nmaxclients 8\n');
    const port = await listen({ mute: false });
    expect((await healthcheck(port)).status).toBe(0);
    await holdConnections(port, 7);
    expect(await healthcheck(port, { DRYDOCK_HEALTH_WATCH_SECONDS: '1' })).toMatchObject({ status: 0, out: 'ok: 7 of MaxClients 8 in use\n' });
    await holdConnections(port, 1);
    // One look at the limit is a burst; the watch takes a second look half a second later.
    expect(await healthcheck(port)).toMatchObject({ status: 0 });
    expect(await healthcheck(port, { DRYDOCK_HEALTH_WATCH_SECONDS: '1' })).toMatchObject({
      status: 1,
      out: expect.stringContaining('saturated: 8 connections, MaxClients 8'),
    });
  });
});

describe('the sidecar template agrees with the renderer', () => {
  const dockerfile = readFileSync(join(egressDir, 'Dockerfile'), 'utf8');
  const bakedConf = readFileSync(join(egressDir, 'tinyproxy.conf'), 'utf8');

  it('uses one proxy port everywhere', () => {
    expect(readFileSync(HEALTHCHECK, 'utf8')).toContain(`\${DRYDOCK_PROXY_PORT:-${PROXY_PORT}}`);
    expect(bakedConf).toMatch(new RegExp(`^Port ${PROXY_PORT}$`, 'm'));
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${PROXY_PORT}$`, 'm'));
  });

  it('installs the scripts and the baked defaults where the compose files point', () => {
    expect(dockerfile).toContain(`chmod 0755 /usr/local/bin/drydock-egress-entrypoint ${SIDECAR_HEALTHCHECK} /usr/local/bin/drydock-egress-reload /usr/local/bin/drydock-egress-resolver`);
    expect(dockerfile).toMatch(/^COPY egress-filter tinyproxy.conf resolver.conf \/etc\/drydock\/$/m);
    expect([SIDECAR_FILTER_PATH, SIDECAR_CONF_PATH, `${SIDECAR_CONF_DIR}/${FILE_NAMES.resolverConf}`]).toEqual(['/etc/drydock/egress-filter', '/etc/drydock/tinyproxy.conf', '/etc/drydock/resolver.conf']);
    // The address floor's resolver comes from the base's own packages, like tinyproxy.
    expect(dockerfile).toContain('command -v dnsmasq >/dev/null 2>&1 || missing="$missing dnsmasq-base"');
    expect(dockerfile).toContain("sed -i -E 's/^[[:space:]]*hosts:.*/hosts: dns/' /etc/nsswitch.conf");
    expect(dockerfile).toMatch(new RegExp(`^USER ${SIDECAR_USER}$`, 'm'));
    expect(dockerfile).toMatch(/^ARG BASE=debian:bookworm-slim$/m);
  });

  it('bakes in an empty filter and a deny-by-default config without Listen or Allow', () => {
    expect(readFileSync(join(egressDir, 'egress-filter'), 'utf8')).toBe('');
    expect(bakedConf).toMatch(/^FilterDefaultDeny Yes$/m);
    expect(bakedConf).toContain(`Filter "${SIDECAR_FILTER_PATH}"`);
    expect(bakedConf).not.toMatch(/^\s*(Listen|Allow|Deny)\b/im);
  });

  it('bakes in, directive for directive, what drydock renders for an empty allowlist', () => {
    const directives = (conf: string) => conf.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
    const rendered = renderTinyproxyConf({ compiled: compileFilter([]), filterPath: SIDECAR_FILTER_PATH });
    expect(directives(bakedConf)).toEqual(directives(rendered));
  });

  it('bakes in the resolver config drydock renders for no private: entries (a missing mount keeps the whole floor)', () => {
    expect(readFileSync(join(egressDir, 'resolver.conf'), 'utf8')).toBe(renderResolverConf({ privateDomains: [], servers: DOCKER_DEFAULT_RESOLVERS }));
  });
});
