/**
 * The entrypoint with the REAL tinyproxy (loopback only; `ip` is still a stub): the config it
 * writes must make tinyproxy listen on the chosen address only, serve only that subnet, and keep
 * the baked deny-all filter's verdict. Skipped, visibly, where tinyproxy is not installed.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIf } from '../helpers/requires.js';
import { tempDir } from '../helpers/temp-dir.js';
import { egressDir, freePort, listeningAddressesOf, sidecarEnv, sidecarWorld, startSidecar, stopSidecar } from './sidecar-harness.js';

/** How many sockets of any process listen on `address:port` (IPv4). */
function listenersOn(address: string, port: number): number {
  const hex = `${address.split('.').map((n) => Number(n).toString(16).toUpperCase().padStart(2, '0')).reverse().join('')}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').filter((row) => row.trim().split(/\s+/)[1] === hex && row.trim().split(/\s+/)[3] === '0A').length;
}

const haveTinyproxy = spawnSync('sh', ['-c', 'command -v tinyproxy'], { encoding: 'utf8' }).status === 0;
if (!haveTinyproxy) console.warn('SKIPPED sidecar-tinyproxy tests: tinyproxy is not installed');

// The "internal network" is 127.0.0.0/30 (loopback): 127.0.0.3 is inside it, 127.0.0.9 is not.
// The healthcheck's request comes from 127.0.0.1 (the kernel's source for loopback), inside it too,
// as in the sidecar, where a connection to its own address comes from that address.
const LISTEN = '127.0.0.2';

/** Sends a CONNECT from `from` and returns the first response line ('' if the connection failed). */
function connectThrough(from: string, to: string, port: number): Promise<string> {
  return new Promise((done) => {
    const socket = connect({ host: to, port, localAddress: from });
    let data = '';
    socket.setTimeout(3000, () => socket.destroy());
    socket.on('connect', () => socket.write('CONNECT blocked.test:443 HTTP/1.1\r\nHost: blocked.test:443\r\n\r\n'));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n')) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => done(data.split('\r\n')[0] ?? ''));
  });
}

describeIf(haveTinyproxy, 'tinyproxy', 'entrypoint + real tinyproxy', () => {
  let dir: string;
  let port: number;
  let proxy: ChildProcess | undefined;
  let output = () => '';

  beforeAll(async () => {
    dir = tempDir('sidecar');
    sidecarWorld(dir, { internal: `${LISTEN}/30` });
    port = await freePort();
    // The baked deny-all config, pointed at a test port and the baked (empty) filter.
    const baked = readFileSync(join(egressDir, 'tinyproxy.conf'), 'utf8')
      .replace(/^Port \d+$/m, `Port ${port}`)
      .replace('/etc/drydock/egress-filter', join(egressDir, 'egress-filter'));
    writeFileSync(join(dir, 'conf', 'tinyproxy.conf'), baked);
    const sidecar = await startSidecar(dir, sidecarEnv(dir, port));
    proxy = sidecar.proxy;
    output = sidecar.output;
  });

  afterAll(async () => {
    await stopSidecar(proxy);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a client on the session subnet, and the baked filter refuses the request', async () => {
    expect(await connectThrough('127.0.0.3', LISTEN, port)).toBe('HTTP/1.1 403 Filtered');
  });

  it('refuses a client outside the session subnet (another container on the NAT bridge)', async () => {
    expect(await connectThrough('127.0.0.9', LISTEN, port)).toMatch(/^HTTP\/1\.[01] 403 Access denied$/);
    // The log reaches us through the sidecar's log pipe and its reader: give it a moment.
    for (let i = 0; i < 50 && !output().includes('Unauthorized connection from "127.0.0.9"'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(output()).toContain('Unauthorized connection from "127.0.0.9"');
  });

  it('does not listen on any other address', async () => {
    // What the sidecar's own processes listen on, by socket inode: not fooled by another process
    // that took the same port on another address (a shared machine's test run once was).
    expect(listeningAddressesOf(proxy!.pid!)).toEqual([`${LISTEN}:${port}`]);
    // And from outside, where no other process listens there: nothing answers.
    const foreign = (address: string) => listenersOn(address, port) > 0;
    if (!foreign('127.0.0.1') && !foreign('0.0.0.0')) expect(await connectThrough('127.0.0.1', '127.0.0.1', port)).toBe('');
    if (!foreign('127.0.0.3') && !foreign('0.0.0.0')) expect(await connectThrough('127.0.0.1', '127.0.0.3', port)).toBe('');
  });
});
