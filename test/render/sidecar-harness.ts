/**
 * The sidecar's scripts run for real on loopback, as sidecar-tinyproxy.test.ts and
 * sidecar-reload.test.ts need them: stubs for `ip` (canned addresses) and for the address floor's
 * resolver (its own tests: resolver-script.test.ts, and the e2e tier), a kernel socket table that
 * names the resolver's 127.0.0.1:53 for the healthcheck, and the entrypoint started until the
 * healthcheck passes, as compose would wait for it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { templatesDir } from '../../lib/paths.js';

export const egressDir = join(templatesDir(), 'egress');
/** /proc/net/udp as the healthcheck reads it, with dnsmasq's 127.0.0.1:53 (0100007F:0035) bound. */
export const RESOLVER_BOUND_UDP = '  sl  local_address rem_address   st\n    1: 0100007F:0035 00000000:0000 07\n';
const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

function executable(path: string, body: string): void {
  writeFileSync(path, body);
  chmodSync(path, 0o755);
}

/**
 * bin/, conf/ and run/ under `dir`; `ip` answering with the default route on eth0 and `internal`
 * (ADDRESS/PREFIX) on eth1; the resolver stub (`resolver`, default: one that succeeds); the
 * socket table at `dir`/udp.
 */
export function sidecarWorld(dir: string, options: { internal: string; resolver?: string }): void {
  for (const sub of ['bin', 'conf', 'run']) mkdirSync(join(dir, sub));
  executable(join(dir, 'bin', 'ip'), `#!/bin/bash
case " $* " in
  *" route "*) echo "default via 127.0.0.1 dev eth0" ;;
  *) printf '1: lo    inet 127.0.0.1/8 scope host lo\\n2: eth0    inet 127.0.0.1/8 scope global eth0\\n3: eth1    inet ${options.internal} scope global eth1\\n' ;;
esac
`);
  executable(join(dir, 'bin', 'drydock-egress-resolver'), options.resolver ?? '#!/bin/bash\nexit 0\n');
  writeFileSync(join(dir, 'udp'), RESOLVER_BOUND_UDP);
}

/** The environment the healthcheck and the reload script run with, for the proxy on `port`. */
export function sidecarEnv(dir: string, port: number, conf = join(dir, 'conf')): Record<string, string> {
  return { PATH: SYSTEM_PATH, DRYDOCK_CONF_DIR: conf, DRYDOCK_RUN_DIR: join(dir, 'run'), DRYDOCK_PROXY_PORT: String(port), DRYDOCK_PROC_NET_UDP: join(dir, 'udp') };
}

export interface SidecarProcess {
  proxy: ChildProcess;
  /** Everything the entrypoint and tinyproxy wrote so far. */
  output: () => string;
}

/** Starts the entrypoint (stubs first on PATH, the sidecar's own scripts last) and waits until healthy. */
export async function startSidecar(dir: string, env: Record<string, string>): Promise<SidecarProcess> {
  let output = '';
  const proxy = spawn('bash', [join(egressDir, 'drydock-egress-entrypoint')], {
    env: { ...env, PATH: `${join(dir, 'bin')}:${SYSTEM_PATH}:${egressDir}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proxy.stdout!.on('data', (c) => (output += String(c)));
  proxy.stderr!.on('data', (c) => (output += String(c)));
  for (let i = 0; i < 50; i++) {
    if (spawnSync('bash', [join(egressDir, 'drydock-egress-healthcheck')], { env }).status === 0) return { proxy, output: () => output };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the sidecar never became healthy:\n${output}`);
}

export async function stopSidecar(proxy: ChildProcess | undefined): Promise<void> {
  if (!proxy || proxy.exitCode !== null) return;
  const exited = new Promise((r) => proxy.once('exit', r));
  proxy.kill('SIGTERM');
  await exited;
}

/** The processes under `root` (itself included), from /proc's parent links. */
function processTree(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so read after the last `)`.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone already
    }
  }
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents) if (tree.has(ppid) && !tree.has(pid)) grew = tree.add(pid).size > 0;
  }
  return [...tree];
}

/**
 * Every TCP address the processes under `root` listen on (IPv4 `a.b.c.d:port`, IPv6 as the
 * kernel's hex), matched by socket inode, so another process's listener on the same port never
 * counts, whoever it is.
 */
export function listeningAddressesOf(root: number): string[] {
  const inodes = new Set<string>();
  for (const pid of processTree(root)) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // closed meanwhile
      }
    }
  }
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = row.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue;
      const [ip, port] = f[1]!.split(':');
      const v4 = ip!.length === 8 ? ip!.match(/../g)!.map((h) => parseInt(h, 16)).reverse().join('.') : ip!;
      found.push(`${v4}:${parseInt(port!, 16)}`);
    }
  }
  return found.sort();
}
