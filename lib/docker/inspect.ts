/** Pure parsers for `docker info` and `docker container inspect` JSON. */

export interface EngineInfo {
  serverVersion: string;
  operatingSystem: string;
  /** The `name=` of each SecurityOptions entry: seccomp, apparmor, selinux, rootless, userns, cgroupns. */
  securityOptions: string[];
  rootless: boolean;
  userns: boolean;
  warnings: string[];
}

function parseObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text.trim());
  } catch {
    throw new Error(`${what}: output is not JSON: ${text.trim().slice(0, 120)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${what}: output is not a JSON object`);
  return value as Record<string, unknown>;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function parseEngineInfo(stdout: string): EngineInfo {
  const info = parseObject(stdout, 'docker info');
  const serverErrors = strings(info.ServerErrors);
  if (serverErrors.length > 0) throw new Error(`docker info: ${serverErrors[0]}`);
  const securityOptions = strings(info.SecurityOptions).map((entry) => {
    const name = entry.split(',').find((part) => part.startsWith('name='));
    return name ? name.slice('name='.length) : entry;
  });
  return {
    serverVersion: typeof info.ServerVersion === 'string' ? info.ServerVersion : '',
    operatingSystem: typeof info.OperatingSystem === 'string' ? info.OperatingSystem : '',
    securityOptions,
    rootless: securityOptions.includes('rootless'),
    userns: securityOptions.includes('userns'),
    warnings: strings(info.Warnings),
  };
}

export interface HealthTimeline {
  createdAt?: string;
  startedAt?: string;
  /** End of the first passing healthcheck. */
  healthyAt?: string;
  /** healthyAt - createdAt, when both are known. */
  createToHealthyMs?: number;
  /** startedAt - createdAt: image layers, rootfs and networks (slow on the vfs storage driver). */
  createToStartMs?: number;
  /** Docker keeps only the last 5 checks: when all kept ones passed, the first pass may be older. */
  approximate: boolean;
  status?: string;
}

/** Docker's timestamps carry nanoseconds; Date.parse wants at most milliseconds. */
export function parseDockerTime(time: string | undefined): number | undefined {
  if (!time || time.startsWith('0001-01-01')) return undefined;
  const trimmed = time.replace(/(\.\d{3})\d+/, '$1');
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? undefined : ms;
}

interface HealthLogEntry {
  Start?: string;
  End?: string;
  ExitCode?: number;
}

export function parseHealthTimeline(stdout: string): HealthTimeline {
  const text = stdout.trim();
  const doc = parseObject(text.startsWith('[') ? text.slice(1, text.lastIndexOf(']')) : text, 'docker inspect');
  const state = (doc.State ?? {}) as { StartedAt?: string; Health?: { Status?: string; Log?: HealthLogEntry[] } };
  const createdAt = typeof doc.Created === 'string' ? doc.Created : undefined;
  const log = Array.isArray(state.Health?.Log) ? state.Health.Log : [];
  const firstPass = log.find((entry) => entry.ExitCode === 0);
  const healthyAt = firstPass?.End;
  const created = parseDockerTime(createdAt);
  const healthy = parseDockerTime(healthyAt);
  const started = parseDockerTime(state.StartedAt);
  return {
    createdAt,
    startedAt: state.StartedAt,
    healthyAt,
    createToHealthyMs: created !== undefined && healthy !== undefined ? healthy - created : undefined,
    createToStartMs: created !== undefined && started !== undefined ? started - created : undefined,
    approximate: log.length >= 5 && log[0]?.ExitCode === 0,
    status: state.Health?.Status,
  };
}
