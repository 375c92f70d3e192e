/**
 * Squid (Debian's package) as the proxy bench's peer: what a user who wants an allowlisting proxy
 * would pick instead of tinyproxy. It gets the same effective rules as drydock's compiled filter
 * (lib/allowlist/effective.ts), written the way squid users write an allowlist: one `dstdomain`
 * list per method and port — exact hosts as they are, wildcards as `.domain` — CONNECT only to the
 * ports a list names, plain HTTP only to its own lists, and `http_access deny all` last.
 *
 * One difference in meaning, none in cost: squid's `.example.com` also matches `example.com`
 * itself, drydock's `*.example.com` does not.
 *
 * Logs go where the sidecar's go, a pipe: squid reopens its log by name after dropping to the
 * `proxy` user, which cannot reopen the bench's own stdout, so it writes to a FIFO (mode 0666)
 * that a process of its own drains into a file, as tinyproxy's is (the harness): not the bench's
 * event loop, which times the requests. Names resolve from a private hosts file (`hosts_file`); squid never asks
 * DNS for them, and `dstdomain` decides a refusal before any lookup.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuleGroup } from '../../lib/allowlist/effective.js';
import { freePort, hostsFileText, portOpen, tailOf } from '../integration/harness/tinyproxy.js';

export interface ProxyHandle {
  port: number;
  pid: number;
  /** The proxy's log so far (its tail). */
  readLog(): string;
  stop(): Promise<void>;
}

const LIST_NAME = /^(connect|http)_\d+$/;

/** The config and its `dstdomain` lists (name → file text) for these rule groups. Pure. */
export function squidConfig(options: { port: number; dir: string; groups: readonly RuleGroup[] }): { conf: string; lists: Map<string, string> } {
  const lists = new Map<string, string[]>();
  for (const g of options.groups) {
    const name = `${g.protocol}_${g.port}`;
    const hosts = lists.get(name) ?? [];
    lists.set(name, hosts);
    for (const host of g.hosts) hosts.push(g.wildcard ? `.${host}` : host);
  }
  const fifo = join(options.dir, 'log.fifo');
  const lines = [
    '# drydock bench: squid as the peer, with the allowlist drydock compiled for tinyproxy',
    `http_port 127.0.0.1:${options.port}`,
    'pid_filename none',
    'cache deny all',
    `access_log stdio:${fifo}`,
    `cache_log ${fifo}`,
    'logfile_rotate 0',
    `hosts_file ${join(options.dir, 'hosts')}`,
    'dns_nameservers 127.0.0.1',
    'visible_hostname drydock-bench',
    'shutdown_lifetime 0 seconds',
    'acl CONNECT method CONNECT',
    'acl plain_http proto HTTP',
  ];
  const rules: string[] = [];
  for (const name of [...lists.keys()].sort()) {
    if (!LIST_NAME.test(name)) throw new Error(`squid list name ${name}`);
    const [protocol, port] = name.split('_') as [string, string];
    lines.push(`acl ${name} dstdomain "${join(options.dir, name)}"`, `acl port_${name} port ${port}`);
    rules.push(protocol === 'connect' ? `http_access allow CONNECT port_${name} ${name}` : `http_access allow !CONNECT plain_http port_${name} ${name}`);
  }
  lines.push(...rules, 'http_access deny all', '');
  const texts = new Map([...lists].map(([name, hosts]) => [name, `${hosts.join('\n')}\n`]));
  return { conf: lines.join('\n'), lists: texts };
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

async function waitForExit(child: ChildProcess, ms: number): Promise<void> {
  if (exited(child)) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function startSquid(options: { groups: readonly RuleGroup[]; hosts: Readonly<Record<string, string>>; startTimeoutMs?: number }): Promise<ProxyHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'drydock-squid-'));
  chmodSync(dir, 0o755); // squid reads its lists as `proxy`
  const port = await freePort();
  const { conf, lists } = squidConfig({ port, dir, groups: options.groups });
  writeFileSync(join(dir, 'squid.conf'), conf, { mode: 0o644 });
  writeFileSync(join(dir, 'hosts'), hostsFileText(options.hosts), { mode: 0o644 });
  for (const [name, text] of lists) writeFileSync(join(dir, name), text, { mode: 0o644 });
  const fifo = join(dir, 'log.fifo');
  if (spawnSync('mkfifo', ['-m', '0666', fifo]).status !== 0) throw new Error(`mkfifo ${fifo} failed`);
  // Opened read-write: the open does not wait for squid, and no EOF between its opens.
  const drainPath = join(dir, 'log');
  const drain = spawn('sh', ['-c', 'exec cat <>"$FIFO" >"$OUT"'], { env: { PATH: process.env.PATH, FIFO: fifo, OUT: drainPath }, stdio: 'ignore' });
  let output = '';
  const append = (chunk: string) => {
    output += chunk;
  };
  const readLog = () => output + tailOf(drainPath, 1 << 20);
  const child = spawn('squid', ['-N', '-f', join(dir, 'squid.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.setEncoding('utf8').on('data', append);
  child.stderr?.setEncoding('utf8').on('data', append);
  process.once('exit', () => {
    child.kill('SIGKILL');
    drain.kill('SIGKILL');
  });
  const stop = async () => {
    if (!exited(child)) {
      child.kill('SIGTERM');
      await waitForExit(child, 5000);
      if (!exited(child)) {
        child.kill('SIGKILL');
        await waitForExit(child, 3000);
      }
    }
    drain.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  while (!(await portOpen(port))) {
    if (exited(child) || Date.now() > deadline) {
      await stop();
      throw new Error(`squid did not listen on 127.0.0.1:${port} (exit ${child.exitCode}):\n${readLog().slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  if (child.pid === undefined) throw new Error('squid has no pid');
  return { port, pid: child.pid, readLog, stop };
}

export function squidVersion(): string | undefined {
  const result = spawnSync('squid', ['-v'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) return undefined;
  return /Version (\S+)/.exec(result.stdout)?.[1];
}

/** squid must be there; on a fresh Debian machine the bench installs it, as it does tinyproxy. */
export function ensureSquidInstalled(log: (line: string) => void): void {
  if (squidVersion()) return;
  log('squid is missing: installing it with apt-get (Debian package)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'squid'], { stdio: 'inherit', env });
  if (update.status !== 0 || install.status !== 0 || !squidVersion()) {
    throw new Error('could not install squid: run `apt-get install squid` (as root) and retry');
  }
  // The Debian package may start a system-wide squid on 3128; the bench does not need it.
  spawnSync('systemctl', ['stop', 'squid'], { stdio: 'ignore' });
}
