/**
 * A real tinyproxy (Debian's 1.11.1) for tests, in the foreground on 127.0.0.1, running the config
 * drydock renders with only Listen/Port/LogFile/PidFile rewritten (conf-rewrite.ts).
 *
 * Isolation: tinyproxy runs under `unshare -m` (a mount namespace of its own; we are root) with a
 * private overlay over /etc, on a tmpfs upper layer that dies with the namespace. In it:
 *   - /etc/hosts maps the test's names to loopback upstreams (the machine's file is never written);
 *   - /etc/nsswitch.conf says `hosts: files` and /etc/resolv.conf points at 127.0.0.1, so a name
 *     the test did not map (`*.invalid`) fails locally instead of becoming a DNS query;
 *   - the filter is placed at the path the rendered config names (/etc/drydock/egress-filter), so
 *     the config's `Filter` line is drydock's, unchanged.
 * `unshare` (no --fork), `sh -c 'exec …'` and `setpriv` all replace the process, so the pid we
 * spawn is tinyproxy's own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { filterPathOf, rewriteTinyproxyConf } from './conf-rewrite.js';
import { tempDir } from '../../helpers/temp-dir.js';

export interface StartTinyproxyOptions {
  /** The config as drydock rendered it. */
  confText: string;
  /** Contents of the filter file the config's `Filter` line names; `undefined` leaves it missing. */
  filterText?: string;
  /** name → loopback address, written to the namespace's private /etc/hosts. */
  hosts: Readonly<Record<string, string>>;
  /** Permission bits of the filter file (e.g. 0o000 for the unreadable-filter test). */
  filterMode?: number;
  /** Run tinyproxy as this uid/gid from the start (via setpriv), e.g. nobody = 65534. */
  runAs?: { uid: number; gid: number };
  /** How long to wait for the port to accept connections. */
  startTimeoutMs?: number;
  /**
   * `file` (default): a LogFile the tests read. `stdout`: no LogFile, tinyproxy logs to its stdout,
   * a pipe — where the sidecar's log goes. tinyproxy fsyncs after every log line, which costs a disk
   * flush on a file and nothing on a pipe, so the bench uses it. The pipe is drained by a process of
   * its own into a file (as Docker's shim drains the sidecar's), not by the test process: a bench
   * that read the log in the event loop that times the requests would charge tinyproxy for that.
   */
  logTo?: 'file' | 'stdout';
  /** With `logTo: 'stdout'`: how much of the log's tail readLog() returns (default 1 MiB). */
  keepOutputBytes?: number;
}

export interface TinyproxyHandle {
  port: number;
  pid: number;
  logPath: string;
  /** The log so far; after stop(), the complete log (the file itself is gone with the temp dir). */
  readLog(): string;
  /** What tinyproxy wrote to stdout/stderr (start-up errors land here). */
  output(): string;
  stop(): Promise<void>;
}

/** tinyproxy exited instead of listening; carries its exit code and what it printed. */
export class TinyproxyExited extends Error {
  constructor(readonly code: number | null, readonly signal: string | null, readonly output: string, readonly log: string) {
    super(`tinyproxy exited (code ${code}, signal ${signal}) before listening:\n${output}\n${log}`);
  }
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Whatever happens to the test process, no tinyproxy outlives it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
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

export function hostsFileText(hosts: Readonly<Record<string, string>>): string {
  const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost'];
  for (const [name, address] of Object.entries(hosts)) {
    if (!/^(127\.\d+\.\d+\.\d+|::1)$/.test(address)) throw new Error(`hosts: ${name} → ${address} is not loopback`);
    if (/\s|#/.test(name) || name === '') throw new Error(`hosts: "${name}" cannot be written to a hosts file`);
    lines.push(`${address} ${name}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The shell run inside the new mount namespace. Paths come in through the environment, never spliced. */
const NAMESPACE_SCRIPT = `set -eu
mount -t tmpfs -o mode=0755 drydock-test "$OVL"
mkdir "$OVL/upper" "$OVL/work"
mount -t overlay drydock-test -o "lowerdir=/etc,upperdir=$OVL/upper,workdir=$OVL/work" /etc
# rm first: a symlinked resolv.conf must not be followed out of the overlay
for f in hosts nsswitch.conf resolv.conf; do rm -f "/etc/$f"; cp "$SRC/$f" "/etc/$f"; chmod 0644 "/etc/$f"; done
if [ -n "\${FILTER_DEST:-}" ]; then
  mkdir -p "$(dirname "$FILTER_DEST")"
  if [ -f "$SRC/filter" ]; then cp "$SRC/filter" "$FILTER_DEST"; chmod "$FILTER_MODE" "$FILTER_DEST"; fi
fi
if [ -n "\${DRAIN:-}" ]; then
  # The log to a pipe that another process drains into a file, as Docker's shim drains the
  # sidecar's stdout into its log: the reader is not the process that times the requests.
  mkfifo -m 0600 "$DRAIN.pipe"
  cat "$DRAIN.pipe" > "$DRAIN" &
  exec > "$DRAIN.pipe" 2>&1
fi
if [ -n "\${RUN_AS:-}" ]; then
  exec setpriv --reuid="\${RUN_AS%:*}" --regid="\${RUN_AS#*:}" --clear-groups tinyproxy -d -c "$CONF"
fi
exec tinyproxy -d -c "$CONF"
`;

/** Does something accept a TCP connection on 127.0.0.1:port? (Also the squid bench's readiness check.) */
export async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The last `bytes` of a file ('' if there is none yet). */
export function tailOf(path: string, bytes: number): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.min(size, bytes));
    readSync(fd, buffer, 0, buffer.length, size - buffer.length);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Fail loudly, never skip: this tier is what proves the filter. Needs root (mount namespaces,
 * the overlay) and Debian's tinyproxy + util-linux (test/setup-debian.sh installs them).
 */
export function assertHarnessPrerequisites(): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (mount namespaces and the /etc overlay need it)');
  for (const program of ['tinyproxy', 'unshare', 'setpriv']) {
    if (spawnSync('sh', ['-c', `command -v ${program}`]).status !== 0) missing.push(program);
  }
  if (missing.length > 0) {
    throw new Error(`the tinyproxy test harness needs: ${missing.join(', ')} — run as root after test/setup-debian.sh`);
  }
}

export async function startTinyproxy(options: StartTinyproxyOptions): Promise<TinyproxyHandle> {
  assertHarnessPrerequisites();
  installExitHook();
  const dir = tempDir('tinyproxy');
  chmodSync(dir, 0o755); // readable by `nobody` when runAs is used
  const src = join(dir, 'src');
  const run = join(dir, 'run');
  const ovl = join(dir, 'ovl');
  for (const d of [src, ovl]) mkdirSync(d, { mode: 0o755 });
  mkdirSync(run);
  chmodSync(run, 0o777); // tinyproxy writes its log and pid file here, possibly as `nobody`

  const port = await freePort();
  const logPath = join(run, 'tinyproxy.log');
  const confPath = join(dir, 'tinyproxy.conf');
  const toStdout = options.logTo === 'stdout';
  const logFile = toStdout ? undefined : logPath;
  const drainPath = join(run, 'stdout.log');
  writeFileSync(confPath, rewriteTinyproxyConf(options.confText, { listen: '127.0.0.1', port, logFile, pidFile: join(run, 'tinyproxy.pid') }), { mode: 0o644 });
  writeFileSync(join(src, 'hosts'), hostsFileText(options.hosts));
  writeFileSync(join(src, 'nsswitch.conf'), 'hosts: files\nnetworks: files\npasswd: files\ngroup: files\n');
  writeFileSync(join(src, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');

  const filterDest = filterPathOf(options.confText);
  if (filterDest !== undefined && !filterDest.startsWith('/etc/')) {
    throw new Error(`harness: the config's Filter path ${filterDest} is not under /etc, where the private overlay can place it`);
  }
  if (options.filterText !== undefined) writeFileSync(join(src, 'filter'), options.filterText, { mode: 0o644 });

  let output = '';
  const keep = options.keepOutputBytes ?? 1 << 20;
  const append = (chunk: string) => {
    output += chunk;
  };
  const child = spawn('unshare', ['-m', 'sh', '-c', NAMESPACE_SCRIPT], {
    env: {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      OVL: ovl,
      SRC: src,
      CONF: confPath,
      FILTER_DEST: filterDest ?? '',
      FILTER_MODE: (options.filterMode ?? 0o644).toString(8),
      RUN_AS: options.runAs ? `${options.runAs.uid}:${options.runAs.gid}` : '',
      DRAIN: toStdout ? drainPath : '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.stdout?.setEncoding('utf8').on('data', append);
  child.stderr?.setEncoding('utf8').on('data', append);
  let finalLog: string | undefined;
  /** The log so far; after stop(), the complete log (kept, since stop removes the temp dir). */
  const readLog = () => {
    if (finalLog !== undefined) return finalLog;
    if (toStdout) return output + tailOf(drainPath, keep);
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const stop = async () => {
    if (!exited(child)) {
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 3000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 3000);
      }
    }
    finalLog ??= readLog();
    cleanup();
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  for (;;) {
    if (exited(child)) {
      await waitForExit(child, 1000); // let the output streams drain
      const error = new TinyproxyExited(child.exitCode, child.signalCode, output, readLog());
      cleanup();
      throw error;
    }
    if (await portOpen(port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`tinyproxy did not listen on 127.0.0.1:${port} in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  if (child.pid === undefined) throw new Error('tinyproxy has no pid');
  return { port, pid: child.pid, logPath, readLog, output: () => (toStdout ? output + tailOf(drainPath, keep) : output), stop };
}

