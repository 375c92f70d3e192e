/**
 * The outside world of the e2e tier, all inside the engine's own network namespace: an upstream
 * container on the shared NAT bridge answering under several names, a "neighbour" container on
 * that bridge, and a service listening on the engine's host side. No packet leaves the namespace.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { track } from './children.js';
import { BASE_IMAGE, REPO } from './drydock.js';
import { docker, dockerOk, exec, waitFor, type Exec } from './engine.js';

export const SHARED_NETWORK = 'drydock_egress';
/** Every name the upstream answers to: allowed ones, denied ones, and look-alikes of allowed ones. */
export const UPSTREAM_NAMES = ['allowed.test', 'denied.test', 'plain.test', 'xallowed.test', 'allowed.test.evil.test', 'a.wild.test', 'wild.test'];
export const UPSTREAM_PORTS = [80, 443, 8080, 8443];

/** `run` creates the bridge when missing; the test needs it earlier, for the upstream. Same label. */
export async function ensureSharedNetwork(): Promise<void> {
  if ((await docker(['network', 'inspect', SHARED_NETWORK])).code === 0) return;
  const created = await docker(['network', 'create', '--label', 'drydock.shared=egress', SHARED_NETWORK]);
  if (created.code !== 0 && !/already exists/.test(created.stderr)) throw new Error(created.stderr);
}

export interface Upstream {
  name: string;
  /** Its address on the shared bridge, for the IP-literal probes. */
  ip: string;
  stop: () => Promise<void>;
}

export async function startUpstream(name: string): Promise<Upstream> {
  await ensureSharedNetwork();
  await docker(['rm', '-f', name]);
  const aliases = UPSTREAM_NAMES.flatMap((alias) => ['--network-alias', alias]);
  await dockerOk([
    'run', '-d', '--name', name, '--label', 'drydock-e2e=upstream', '--network', SHARED_NETWORK, ...aliases,
    '-v', `${join(REPO, 'test/e2e/fixtures/upstream.py')}:/upstream.py:ro`,
    BASE_IMAGE, 'python3', '/upstream.py', ...UPSTREAM_PORTS.map(String),
  ]);
  await waitFor(`upstream ${name} listening`, async () => ((await docker(['logs', name])).stdout.includes('upstream listening') ? true : undefined), 30_000);
  const ip = (await dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${SHARED_NETWORK}").IPAddress}}`, name])).trim();
  return { name, ip, stop: async () => void (await docker(['rm', '-f', name])) };
}

/** A container on the shared NAT bridge that is no part of any session, running `script` in bash. */
export function neighbour(script: string): Promise<Exec> {
  return docker(['run', '--rm', '--label', 'drydock-e2e=neighbour', '--network', SHARED_NETWORK, BASE_IMAGE, 'bash', '-c', script]);
}

export interface HostService {
  port: number;
  stop: () => void;
}

/**
 * A TCP service on the Docker host itself (the engine's network namespace), listening on every
 * address, like a developer's local database or dev server would.
 */
export async function startHostService(port: number): Promise<HostService> {
  const netns = process.env.DRYDOCK_E2E_NETNS ?? 'drydock-e2e';
  const child = spawn('nsenter', [`--net=/var/run/netns/${netns}`, 'python3', join(REPO, 'test/e2e/fixtures/upstream.py'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  track(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => void (out += chunk));
  await waitFor('the host service', async () => {
    if (child.exitCode !== null) throw new Error(`the host service exited (${child.exitCode})`);
    return out.includes('listening') ? true : undefined;
  }, 10_000);
  return { port, stop: () => void child.kill('SIGKILL') };
}

export interface ResolverLogger {
  /** The addresses Docker's embedded resolver forwards outside names to, now answered here. */
  addresses: string[];
  /** Every query name received so far, lowercased. */
  names: () => string[];
  stop: () => Promise<void>;
}

/**
 * Where a forwarded DNS query would go: the host's resolvers (Docker's defaults when the host's
 * are loopback-only). Inside the engine's namespace those addresses are given to `lo` and a logger
 * listens there, so any query that would have left the machine is seen (and refused) instead.
 */
export function upstreamResolvers(resolvConf: string): string[] {
  const servers = [...resolvConf.matchAll(/^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/gm)].map((m) => m[1]!);
  const usable = servers.filter((ip) => !ip.startsWith('127.'));
  return usable.length > 0 ? usable : ['8.8.8.8', '8.8.4.4'];
}

export async function startResolverLogger(): Promise<ResolverLogger> {
  const netns = `--net=/var/run/netns/${process.env.DRYDOCK_E2E_NETNS ?? 'drydock-e2e'}`;
  const conf = ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf'].filter(existsSync).map((f) => readFileSync(f, 'utf8')).join('\n');
  const addresses = upstreamResolvers(conf);
  const added: string[] = [];
  for (const ip of addresses) {
    const result = await exec(['nsenter', netns, 'ip', 'addr', 'add', `${ip}/32`, 'dev', 'lo']);
    if (result.code === 0) added.push(ip);
  }
  const child = spawn('nsenter', [netns, 'python3', join(REPO, 'test/e2e/fixtures/dns-logger.py'), '0.0.0.0', '53'], { stdio: ['ignore', 'pipe', 'inherit'] });
  track(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => void (out += chunk));
  await waitFor('the DNS logger', async () => {
    if (child.exitCode !== null) throw new Error(`the DNS logger exited (${child.exitCode})`);
    return out.includes('listening') ? true : undefined;
  }, 10_000);
  return {
    addresses,
    names: () => [...out.matchAll(/^query (\S+) from/gm)].map((m) => m[1]!),
    stop: async () => {
      child.kill('SIGKILL');
      for (const ip of added) await exec(['nsenter', netns, 'ip', 'addr', 'del', `${ip}/32`, 'dev', 'lo']);
    },
  };
}
