/**
 * The resource limits of a session: their defaults, and the environment variables that override
 * them. Pure: the host's size comes in as HostFacts (the caller reads os.cpus()/os.totalmem()).
 *
 * Why these defaults (measured on tinyproxy 1.11.1 and engine 20.10, see docs/security.md):
 *   - the agent gets half the host's memory (swap included, so it cannot page the host to death),
 *     all but one of its cores, 2048 tasks (processes + threads), and an init that reaps zombies;
 *   - tinyproxy spends one thread per client connection, ~20 KiB each when idle: 1,000 idle
 *     keep-alive tunnels cost ~22 MiB, so MaxClients 1000 costs little and keeps an agent's
 *     connection pools (the 150 that stalled MaxClients 100) far from the ceiling. Its pids limit
 *     must stay above MaxClients (each thread is a task), and its memory covers every client
 *     moving data (two relay buffers each);
 *   - Timeout (seconds of silence before tinyproxy drops a connection) stays at 600: a model's
 *     non-streamed answer can take that long before its first byte (the SDKs' own default).
 */
import type { Env } from '../context.js';
import { UsageError } from '../errors.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

export interface AgentLimits {
  memoryBytes: number;
  cpus: number;
  pids: number;
  init: boolean;
}

export interface EgressLimits {
  memoryBytes: number;
  pids: number;
  /** tinyproxy's MaxClients: connections served at once; the next one waits for a free slot. */
  maxClients: number;
  /** tinyproxy's Timeout: seconds a connection may stay silent before it is closed. */
  idleTimeoutSeconds: number;
  /** Size of each of the sidecar's tmpfs mounts (/run, /tmp). */
  tmpfsBytes: number;
}

/** Docker's json-file log driver, on both containers: at most maxFiles files of maxSizeBytes. */
export interface LogLimits {
  maxSizeBytes: number;
  maxFiles: number;
}

export interface ResourceLimits {
  agent: AgentLimits;
  egress: EgressLimits;
  logs: LogLimits;
}

export interface HostFacts {
  cpus: number;
  memoryBytes: number;
}

/** Threads tinyproxy may need beyond one per client: its main thread, the healthcheck's shell. */
export const EGRESS_PIDS_HEADROOM = 64;
export const DEFAULT_MAX_CLIENTS = 1000;
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 600;

export function defaultLimits(host: HostFacts): ResourceLimits {
  return {
    agent: {
      memoryBytes: Math.max(512 * MIB, Math.floor(host.memoryBytes / 2 / MIB) * MIB),
      cpus: Math.max(1, Math.floor(host.cpus) - 1),
      pids: 2048,
      init: true,
    },
    egress: {
      memoryBytes: 256 * MIB,
      pids: DEFAULT_MAX_CLIENTS + EGRESS_PIDS_HEADROOM,
      maxClients: DEFAULT_MAX_CLIENTS,
      idleTimeoutSeconds: DEFAULT_IDLE_TIMEOUT_SECONDS,
      tmpfsBytes: 32 * MIB,
    },
    logs: { maxSizeBytes: 10 * MIB, maxFiles: 3 },
  };
}

/** One overridable limit: the variable, what it sets, and the form it takes (README's table). */
export interface LimitVariable {
  name: string;
  what: string;
  form: string;
  defaultText: string;
}

export const LIMIT_VARIABLES: readonly LimitVariable[] = [
  { name: 'DRYDOCK_AGENT_MEMORY', what: 'agent memory (swap included)', form: 'a size: 512m, 4g', defaultText: 'half the host memory (at least 512m)' },
  { name: 'DRYDOCK_AGENT_CPUS', what: 'agent CPUs', form: 'a number: 1, 2.5', defaultText: 'host cores − 1 (at least 1)' },
  { name: 'DRYDOCK_AGENT_PIDS', what: 'agent processes + threads', form: 'a whole number', defaultText: '2048' },
  { name: 'DRYDOCK_AGENT_INIT', what: 'an init (tini) as the agent’s pid 1, reaping zombies', form: '1 or 0', defaultText: '1' },
  { name: 'DRYDOCK_EGRESS_MEMORY', what: 'sidecar memory (swap included)', form: 'a size', defaultText: '256m' },
  { name: 'DRYDOCK_EGRESS_MAX_CLIENTS', what: 'connections the proxy serves at once (MaxClients)', form: 'a whole number', defaultText: String(DEFAULT_MAX_CLIENTS) },
  { name: 'DRYDOCK_EGRESS_PIDS', what: 'sidecar tasks (tinyproxy runs a thread per connection)', form: 'a whole number above MaxClients', defaultText: `MaxClients + ${EGRESS_PIDS_HEADROOM}` },
  { name: 'DRYDOCK_EGRESS_IDLE_TIMEOUT', what: 'seconds a proxied connection may stay silent (Timeout)', form: 'seconds', defaultText: String(DEFAULT_IDLE_TIMEOUT_SECONDS) },
  { name: 'DRYDOCK_EGRESS_TMPFS_SIZE', what: 'size of each sidecar tmpfs (/run, /tmp)', form: 'a size', defaultText: '32m' },
  { name: 'DRYDOCK_LOG_MAX_SIZE', what: 'json-file log size before rotation, per container', form: 'a size', defaultText: '10m' },
  { name: 'DRYDOCK_LOG_MAX_FILES', what: 'json-file log files kept per container', form: 'a whole number', defaultText: '3' },
];

/** A malformed limit variable (exit 2), naming the variable so doctor can report it as a setting. */
export class LimitError extends UsageError {
  constructor(readonly variable: string, message: string, hint: string) {
    super(message, { hint });
  }
}

function invalid(name: string, value: string, expected: string): LimitError {
  return new LimitError(name, `${name}=${JSON.stringify(value)} is not valid: expected ${expected}`, `fix or unset ${name} (see README, Configuration)`);
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: MIB, g: GIB };

/** `512m`, `4g`, `1.5g`, `262144k`, plain bytes; `mb`/`mib`/`gb` read as binary units, like docker. */
export function parseSize(name: string, value: string, bounds: { min: number; max: number }): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([bkmg]?)(?:i?b)?\s*$/i.exec(value);
  if (!m) throw invalid(name, value, 'a size such as 512m or 4g');
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  if (bytes < bounds.min || bytes > bounds.max) {
    throw invalid(name, value, `a size from ${formatSize(bounds.min)} to ${formatSize(bounds.max)}`);
  }
  return bytes;
}

export function parseWhole(name: string, value: string, bounds: { min: number; max: number }): number {
  if (!/^\s*\d+\s*$/.test(value)) throw invalid(name, value, 'a whole number');
  const n = Number(value);
  if (n < bounds.min || n > bounds.max) throw invalid(name, value, `a whole number from ${bounds.min} to ${bounds.max}`);
  return n;
}

function parseCpus(name: string, value: string, hostCpus: number): number {
  if (!/^\s*\d+(?:\.\d{1,2})?\s*$/.test(value)) throw invalid(name, value, 'a number of CPUs such as 1 or 2.5');
  const n = Number(value);
  // docker refuses more CPUs than the machine has, at container creation: say so before anything starts.
  if (n < 0.01 || n > hostCpus) throw invalid(name, value, `from 0.01 to ${hostCpus} (the CPUs this machine has)`);
  return n;
}

function parseSwitch(name: string, value: string): boolean {
  if (value.trim() === '1') return true;
  if (value.trim() === '0') return false;
  throw invalid(name, value, '1 or 0');
}

/** The session's limits: each default replaced by its variable when that is set (and not empty). */
export function resolveLimits(env: Env, host: HostFacts): ResourceLimits {
  const limits = defaultLimits(host);
  const get = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  };
  const set = <T>(name: string, parse: (value: string) => T, apply: (parsed: T) => void): void => {
    const value = get(name);
    if (value !== undefined) apply(parse(value));
  };
  const memory = { min: 64 * MIB, max: 1024 * GIB };
  set('DRYDOCK_AGENT_MEMORY', (v) => parseSize('DRYDOCK_AGENT_MEMORY', v, memory), (n) => (limits.agent.memoryBytes = n));
  set('DRYDOCK_AGENT_CPUS', (v) => parseCpus('DRYDOCK_AGENT_CPUS', v, Math.max(1, Math.floor(host.cpus))), (n) => (limits.agent.cpus = n));
  set('DRYDOCK_AGENT_PIDS', (v) => parseWhole('DRYDOCK_AGENT_PIDS', v, { min: 16, max: 4_194_304 }), (n) => (limits.agent.pids = n));
  set('DRYDOCK_AGENT_INIT', (v) => parseSwitch('DRYDOCK_AGENT_INIT', v), (b) => (limits.agent.init = b));
  set('DRYDOCK_EGRESS_MEMORY', (v) => parseSize('DRYDOCK_EGRESS_MEMORY', v, { min: 32 * MIB, max: 64 * GIB }), (n) => (limits.egress.memoryBytes = n));
  set('DRYDOCK_EGRESS_MAX_CLIENTS', (v) => parseWhole('DRYDOCK_EGRESS_MAX_CLIENTS', v, { min: 8, max: 100_000 }), (n) => {
    limits.egress.maxClients = n;
    limits.egress.pids = n + EGRESS_PIDS_HEADROOM;
  });
  set('DRYDOCK_EGRESS_PIDS', (v) => parseWhole('DRYDOCK_EGRESS_PIDS', v, { min: 16, max: 4_194_304 }), (n) => (limits.egress.pids = n));
  set('DRYDOCK_EGRESS_IDLE_TIMEOUT', (v) => parseWhole('DRYDOCK_EGRESS_IDLE_TIMEOUT', v, { min: 5, max: 86_400 }), (n) => (limits.egress.idleTimeoutSeconds = n));
  set('DRYDOCK_EGRESS_TMPFS_SIZE', (v) => parseSize('DRYDOCK_EGRESS_TMPFS_SIZE', v, { min: 1 * MIB, max: 4 * GIB }), (n) => (limits.egress.tmpfsBytes = n));
  set('DRYDOCK_LOG_MAX_SIZE', (v) => parseSize('DRYDOCK_LOG_MAX_SIZE', v, { min: 64 * 1024, max: 16 * GIB }), (n) => (limits.logs.maxSizeBytes = n));
  set('DRYDOCK_LOG_MAX_FILES', (v) => parseWhole('DRYDOCK_LOG_MAX_FILES', v, { min: 1, max: 100 }), (n) => (limits.logs.maxFiles = n));
  if (limits.egress.pids <= limits.egress.maxClients) {
    throw new LimitError(
      'DRYDOCK_EGRESS_PIDS',
      `DRYDOCK_EGRESS_PIDS=${limits.egress.pids} leaves tinyproxy no room for MaxClients ${limits.egress.maxClients} (one thread per connection)`,
      `set DRYDOCK_EGRESS_PIDS above ${limits.egress.maxClients}, or lower DRYDOCK_EGRESS_MAX_CLIENTS`,
    );
  }
  return limits;
}

/** Sizes as compose and docker take them, exact: whole KiB/MiB/GiB, else bytes. */
export function formatSize(bytes: number): string {
  if (bytes % GIB === 0) return `${bytes / GIB}g`;
  if (bytes % MIB === 0) return `${bytes / MIB}m`;
  if (bytes % 1024 === 0) return `${bytes / 1024}k`;
  return `${bytes}b`;
}

/** One line for doctor. */
export function limitsSummary(limits: ResourceLimits): string {
  const { agent, egress } = limits;
  return `agent ${formatSize(agent.memoryBytes)}, ${agent.cpus} CPU, ${agent.pids} pids; sidecar ${formatSize(egress.memoryBytes)}, MaxClients ${egress.maxClients}`;
}

/** The banner's lines: every limit in force, so a user sees what the session may use. */
export function limitsBannerLines(limits: ResourceLimits, contained: boolean): string[] {
  const { agent, egress, logs } = limits;
  const lines = [
    `drydock: limits agent: memory ${formatSize(agent.memoryBytes)}, cpus ${agent.cpus}, pids ${agent.pids}, init ${agent.init ? 'on' : 'off'}; logs ${formatSize(logs.maxSizeBytes)} × ${logs.maxFiles} per container`,
  ];
  if (contained) {
    lines.push(
      `drydock: limits sidecar: memory ${formatSize(egress.memoryBytes)}, pids ${egress.pids}, MaxClients ${egress.maxClients}, Timeout ${egress.idleTimeoutSeconds}s, tmpfs ${formatSize(egress.tmpfsBytes)} each`,
    );
  }
  return lines;
}
