/**
 * What the bench needs around the integration tier's tinyproxy harness (test/integration/harness):
 * tinyproxy itself on a fresh machine, and the proxy's memory from /proc.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

function readStatusKiB(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : Number.NaN;
}

/**
 * Resident memory now and at its peak. The harness execs tinyproxy in place of the process it
 * spawned (unshare without --fork, then `exec`), and squid runs with -N (one process, no kids),
 * so the pid spawned is the proxy's: checked via comm.
 */
export function proxyMemory(pid: number, expected: 'tinyproxy' | 'squid' = 'tinyproxy'): { rssKiB: number; hwmKiB: number } {
  const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  if (comm !== expected) throw new Error(`expected pid ${pid} to be ${expected}, it is ${comm}`);
  return { rssKiB: readStatusKiB(pid, 'VmRSS'), hwmKiB: readStatusKiB(pid, 'VmHWM') };
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
