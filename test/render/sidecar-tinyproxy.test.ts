/**
 * The entrypoint with the REAL tinyproxy (loopback only; `ip` is still a stub): the config it
 * writes must make tinyproxy listen on the chosen address only, serve only that subnet, and keep
 * the baked deny-all filter's verdict. Skipped, visibly, where tinyproxy is not installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templatesDir } from '../../lib/paths.js';
import { describeIf } from '../helpers/requires.js';
import { tempDir } from '../helpers/temp-dir.js';

const haveTinyproxy = spawnSync('sh', ['-c', 'command -v tinyproxy'], { encoding: 'utf8' }).status === 0;
if (!haveTinyproxy) console.warn('SKIPPED sidecar-tinyproxy tests: tinyproxy is not installed');

const egressDir = join(templatesDir(), 'egress');
// The "internal network" is 127.0.0.0/30 (loopback): 127.0.0.3 is inside it, 127.0.0.9 is not.
// The healthcheck's request comes from 127.0.0.1 (the kernel's source for loopback), inside it too,
// as in the sidecar, where a connection to its own address comes from that address.
const LISTEN = '127.0.0.2';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

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
  let output = '';

  beforeAll(async () => {
    dir = tempDir('sidecar');
    for (const sub of ['bin', 'conf', 'run']) mkdirSync(join(dir, sub));
    writeFileSync(
      join(dir, 'bin', 'ip'),
      `#!/bin/bash
case " $* " in
  *" route "*) echo "default via 127.0.0.1 dev eth0" ;;
  *) printf '1: lo    inet 127.0.0.1/8 scope host lo\\n2: eth0    inet 127.0.0.1/8 scope global eth0\\n3: eth1    inet ${LISTEN}/30 scope global eth1\\n' ;;
esac
`,
    );
    chmodSync(join(dir, 'bin', 'ip'), 0o755);
    // The address floor is its own script (resolver-script.test.ts, and the e2e tier for real):
    // a stub here, and a socket table naming its 127.0.0.1:53 for the healthcheck.
    writeFileSync(join(dir, 'bin', 'drydock-egress-resolver'), '#!/bin/bash\nexit 0\n');
    chmodSync(join(dir, 'bin', 'drydock-egress-resolver'), 0o755);
    writeFileSync(join(dir, 'udp'), '  sl  local_address rem_address   st\n    1: 0100007F:0035 00000000:0000 07\n');
    port = await freePort();
    // The baked deny-all config, pointed at a test port and the baked (empty) filter.
    const baked = readFileSync(join(egressDir, 'tinyproxy.conf'), 'utf8')
      .replace(/^Port \d+$/m, `Port ${port}`)
      .replace('/etc/drydock/egress-filter', join(egressDir, 'egress-filter'));
    writeFileSync(join(dir, 'conf', 'tinyproxy.conf'), baked);
    proxy = spawn('bash', [join(egressDir, 'drydock-egress-entrypoint')], {
      env: { PATH: `${join(dir, 'bin')}:/usr/sbin:/usr/bin:/sbin:/bin:${egressDir}`, DRYDOCK_CONF_DIR: join(dir, 'conf'), DRYDOCK_RUN_DIR: join(dir, 'run') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proxy.stdout!.on('data', (c) => (output += String(c)));
    proxy.stderr!.on('data', (c) => (output += String(c)));
    // Ready when the healthcheck passes, as compose would wait for it.
    for (let i = 0; i < 50; i++) {
      const health = spawnSync('bash', [join(egressDir, 'drydock-egress-healthcheck')], {
        env: { PATH: '/usr/bin:/bin', DRYDOCK_RUN_DIR: join(dir, 'run'), DRYDOCK_PROXY_PORT: String(port), DRYDOCK_PROC_NET_UDP: join(dir, 'udp') },
      });
      if (health.status === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the sidecar never became healthy:\n${output}`);
  });

  afterAll(async () => {
    if (proxy && proxy.exitCode === null) {
      const exited = new Promise((r) => proxy!.once('exit', r));
      proxy.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a client on the session subnet, and the baked filter refuses the request', async () => {
    expect(await connectThrough('127.0.0.3', LISTEN, port)).toBe('HTTP/1.1 403 Filtered');
  });

  it('refuses a client outside the session subnet (another container on the NAT bridge)', async () => {
    expect(await connectThrough('127.0.0.9', LISTEN, port)).toMatch(/^HTTP\/1\.[01] 403 Access denied$/);
    // The log reaches us through the sidecar's log pipe and its reader: give it a moment.
    for (let i = 0; i < 50 && !output.includes('Unauthorized connection from "127.0.0.9"'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(output).toContain('Unauthorized connection from "127.0.0.9"');
  });

  it('does not listen on any other address', async () => {
    expect(await connectThrough('127.0.0.1', '127.0.0.1', port)).toBe('');
    expect(await connectThrough('127.0.0.1', '127.0.0.3', port)).toBe('');
  });
});
