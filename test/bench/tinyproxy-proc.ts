/**
 * One real tinyproxy for the benchmark: foreground (`-d`), on 127.0.0.1, inside its own mount
 * namespace with a private /etc/hosts, so the bench's `.test` names resolve to loopback upstreams
 * without touching the machine's /etc/hosts and nothing can leave loopback.
 *
 * `unshare -m sh -c '… && exec tinyproxy'` keeps one pid from unshare to tinyproxy (unshare without
 * --fork and `exec` both replace the process), so the pid we spawned is the proxy's: its VmRSS is
 * read from /proc/<pid>/status.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { nowMs } from './stats.js';

export interface TinyproxyProcess {
  pid: number;
  port: number;
  logPath: string;
  /** Milliseconds from spawn until the port accepted a connection (includes compiling the filter). */
  startMs: number;
  memory(): { rssKiB: number; hwmKiB: number };
  readLog(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Whatever happens to the bench (an exception, Ctrl-C), no proxy outlives it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const child of running) child.kill('SIGKILL');
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`tinyproxy exited (${child.exitCode ?? child.signalCode}) before listening`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (nowMs() > deadlineMs) throw new Error(`tinyproxy did not listen on 127.0.0.1:${port} in time`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function readStatusKiB(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : Number.NaN;
}

export function hostsFile(hosts: Readonly<Record<string, string>>): string {
  const lines = ['127.0.0.1 localhost', '::1 localhost'];
  for (const [name, address] of Object.entries(hosts)) lines.push(`${address} ${name}`);
  return `${lines.join('\n')}\n`;
}

export async function startTinyproxy(options: {
  /** The config as rendered (Port/Listen/LogFile/PidFile already set for the bench). */
  confText: string;
  port: number;
  hosts: Readonly<Record<string, string>>;
  scratchDir: string;
  logPath: string;
  startTimeoutMs?: number;
}): Promise<TinyproxyProcess> {
  installExitHook();
  const confPath = join(options.scratchDir, 'tinyproxy.conf');
  const hostsPath = join(options.scratchDir, 'hosts');
  writeFileSync(confPath, options.confText);
  writeFileSync(hostsPath, hostsFile(options.hosts));
  writeFileSync(options.logPath, '');
  const start = nowMs();
  const child = spawn(
    'unshare',
    ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" /etc/hosts && exec tinyproxy -d -c "$2"', 'sh', hostsPath, confPath],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  running.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(options.port, child, start + (options.startTimeoutMs ?? 120_000));
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    running.delete(child);
    throw new Error(`${String(error)}\n${stderr}${safeRead(options.logPath).slice(-2000)}`);
  }
  const startMs = nowMs() - start;
  const pid = child.pid as number;
  const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  if (comm !== 'tinyproxy') throw new Error(`expected pid ${pid} to be tinyproxy, it is ${comm}`);
  return {
    pid,
    port: options.port,
    logPath: options.logPath,
    startMs,
    memory: () => ({ rssKiB: readStatusKiB(pid, 'VmRSS'), hwmKiB: readStatusKiB(pid, 'VmHWM') }),
    readLog: () => safeRead(options.logPath),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
    },
  };
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** tinyproxy must be there; on a fresh Debian machine the bench installs it the ordinary way. */
export function ensureTinyproxyInstalled(log: (line: string) => void): void {
  if (spawnSync('tinyproxy', ['-v']).status === 0) return;
  log('tinyproxy is missing: installing it with apt-get (Debian package)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'tinyproxy'], { stdio: 'inherit', env });
  if (update.status !== 0 || install.status !== 0 || spawnSync('tinyproxy', ['-v']).status !== 0) {
    throw new Error('could not install tinyproxy: run `apt-get install tinyproxy` (as root) and retry');
  }
  // The Debian package starts a system-wide tinyproxy on 8888; the bench does not need it.
  spawnSync('systemctl', ['stop', 'tinyproxy'], { stdio: 'ignore' });
}
