/**
 * The outside world of the e2e tier, all inside the engine's own network namespace: upstreams at
 * public-range addresses that exist only there, the world's DNS that names them (answers the test
 * controls), a "neighbour" container on the shared NAT bridge, and a service listening on the
 * engine's host side. No packet leaves the namespace.
 *
 * Why public-range addresses: the sidecar's address floor refuses every private, loopback,
 * link-local and Docker-bridge answer (lib/egress/address-floor.ts), so an upstream must sit where
 * a real public server would. Each gets one address of WORLD_PREFIX on the namespace's `lo`; the
 * sidecar reaches it through its default route (the shared bridge's gateway, which is that same
 * namespace). The names come from dns-server.py, listening where Docker's embedded DNS forwards
 * outside names to (the host's resolvers, given to `lo` as well), so a sidecar's dnsmasq gets the
 * test's answer by the same path a real lookup takes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostUpstreamResolvers } from '../../../lib/egress/floor-files.js';
import { track } from './children.js';
import { BASE_IMAGE, REPO } from './drydock.js';
import { docker, exec, waitFor, type Exec } from './engine.js';

export const SHARED_NETWORK = 'drydock_egress';
/** Every name the upstream answers to: allowed ones, denied ones, and look-alikes of allowed ones. */
export const UPSTREAM_NAMES = ['allowed.test', 'denied.test', 'plain.test', 'xallowed.test', 'allowed.test.evil.test', 'a.wild.test', 'wild.test'];
export const UPSTREAM_PORTS = [80, 443, 8080, 8443];
/**
 * Globally routed unicast space (APNIC's 1.2.3.0/24), which no floor class covers. It is used only
 * inside the engine's namespace, where nothing else answers for it; the machine never routes it.
 */
export const WORLD_PREFIX = '1.2.3.';

const netnsArg = () => `--net=/var/run/netns/${process.env.DRYDOCK_E2E_NETNS ?? 'drydock-e2e'}`;

/** `run` creates the bridge when missing; the test needs it earlier, for the neighbour. Same label. */
export async function ensureSharedNetwork(): Promise<void> {
  if ((await docker(['network', 'inspect', SHARED_NETWORK])).code === 0) return;
  const created = await docker(['network', 'create', '--label', 'drydock.shared=egress', SHARED_NETWORK]);
  if (created.code !== 0 && !/already exists/.test(created.stderr)) throw new Error(created.stderr);
}

/** A process in the engine's namespace, tracked, ready once it printed `ready`. */
async function startInNetns(what: string, argv: string[], ready: string): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn('nsenter', [netnsArg(), ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
  track(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => void (out += chunk));
  await waitFor(what, async () => {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`);
    return out.includes(ready) ? true : undefined;
  }, 10_000);
  return { child, output: () => out };
}

/** An address on the namespace's `lo`, removed again by the returned function. */
async function addLoopbackAddress(cidr: string): Promise<() => Promise<void>> {
  const added = await exec(['nsenter', netnsArg(), 'ip', 'addr', 'add', cidr, 'dev', 'lo']);
  if (added.code !== 0 && !/exists/i.test(added.stderr)) throw new Error(`ip addr add ${cidr}: ${added.stderr}`);
  return async () => void (await exec(['nsenter', netnsArg(), 'ip', 'addr', 'del', cidr, 'dev', 'lo']));
}

export type RecordType = 'A' | 'AAAA';

export interface WorldDns {
  /** The addresses Docker's embedded resolver forwards outside names to, answered here. */
  addresses: string[];
  /** Adds answers (the server re-reads its records file on the next query). */
  set: (name: string, type: RecordType, addresses: string[]) => void;
  /** Every query name received so far, lowercased. */
  names: () => string[];
  release: () => Promise<void>;
}

interface DnsState {
  users: number;
  records: Map<string, string[]>;
  file: string;
  dns: Omit<WorldDns, 'release'>;
  stop: () => Promise<void>;
}

let shared: Promise<DnsState> | undefined;

async function startDns(): Promise<DnsState> {
  // Exactly where the sidecar's resolver forwards outside names: drydock's own reading of the host.
  const addresses = hostUpstreamResolvers();
  const v6 = addresses.filter((ip) => ip.includes(':'));
  if (v6.length > 0) throw new Error(`the e2e world's DNS answers on IPv4 only, and this host's resolvers include ${v6.join(', ')}`);
  const removals: Array<() => Promise<void>> = [];
  for (const ip of addresses) removals.push(await addLoopbackAddress(`${ip}/32`));
  const dir = mkdtempSync(join(process.env.DRYDOCK_E2E_DIR ?? tmpdir(), 'world-dns-'));
  const file = join(dir, 'records');
  writeFileSync(file, '');
  const records = new Map<string, string[]>();
  const { child, output } = await startInNetns('the world DNS', ['python3', join(REPO, 'test/e2e/fixtures/dns-server.py'), file, addresses.join(','), '53'], 'listening');
  const write = () => {
    const lines = [...records.entries()].flatMap(([key, ips]) => ips.map((ip) => `${key} ${ip}`));
    writeFileSync(`${file}.tmp`, `${lines.join('\n')}\n`);
    renameSync(`${file}.tmp`, file);
  };
  return {
    users: 0,
    records,
    file,
    dns: {
      addresses,
      set: (name, type, ips) => {
        records.set(`${name.toLowerCase()} ${type}`, ips);
        write();
      },
      names: () => [...output().matchAll(/^query (\S+) type/gm)].map((m) => m[1]!),
    },
    stop: async () => {
      child.kill('SIGKILL');
      for (const remove of removals) await remove();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The world's DNS, shared by everything in this test file (one server on port 53). */
export async function worldDns(): Promise<WorldDns> {
  shared ??= startDns();
  const state = await shared;
  state.users += 1;
  let released = false;
  return {
    ...state.dns,
    release: async () => {
      if (released) return;
      released = true;
      state.users -= 1;
      if (state.users === 0) {
        shared = undefined;
        await state.stop();
      }
    },
  };
}

export interface Upstream {
  name: string;
  /** Its address (public range, inside the engine's namespace only), for the IP-literal probes. */
  ip: string;
  stop: () => Promise<void>;
}

let nextHost = 10;

/**
 * An upstream answering `names` on UPSTREAM_PORTS at `ip` (by default the next WORLD_PREFIX
 * address), with the world's DNS saying so.
 */
export interface WorldHost {
  /** Its address (public range, inside the engine's namespace only). */
  ip: string;
  release: () => Promise<void>;
}

/**
 * A public-range address on the namespace's `lo` that the world's DNS gives `names`: where a
 * server of the test listens (a process via nsenter, or a container with `--network host`).
 */
export async function worldHost(names: readonly string[], options: { ip?: string } = {}): Promise<WorldHost> {
  const ip = options.ip ?? `${WORLD_PREFIX}${nextHost++}`;
  const dns = await worldDns();
  const removeAddress = await addLoopbackAddress(ip.includes(':') ? `${ip}/128` : `${ip}/32`);
  for (const host of names) dns.set(host, ip.includes(':') ? 'AAAA' : 'A', [ip]);
  return {
    ip,
    release: async () => {
      await removeAddress();
      await dns.release();
    },
  };
}

/**
 * An upstream answering `names` on UPSTREAM_PORTS at `ip` (by default the next WORLD_PREFIX
 * address), with the world's DNS saying so.
 */
export async function startUpstream(name: string, options: { names?: readonly string[]; ip?: string } = {}): Promise<Upstream> {
  await ensureSharedNetwork();
  const host = await worldHost(options.names ?? UPSTREAM_NAMES, options);
  const { child } = await startInNetns(`upstream ${name}`, ['python3', join(REPO, 'test/e2e/fixtures/upstream.py'), '--bind', host.ip, ...UPSTREAM_PORTS.map(String)], 'upstream listening');
  return {
    name,
    ip: host.ip,
    stop: async () => {
      child.kill('SIGKILL');
      await host.release();
    },
  };
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

/** The world's DNS seen as a witness: which names would have left the machine as DNS queries. */
export async function startResolverLogger(): Promise<ResolverLogger> {
  const dns = await worldDns();
  return { addresses: dns.addresses, names: dns.names, stop: dns.release };
}
