/**
 * Everything drydock reads from the environment and the common flags, resolved ONCE per command
 * into one typed object that is passed down (taze's `resolveConfig` is the model). Below the
 * command layer nothing reads `DRYDOCK_*`, `DOCKER_HOST`, `HOME` or `XDG_*` again.
 *
 * Resolving never throws: a malformed variable becomes a typed problem, so that doctor can report
 * every one as a failed check (no error message matched with a regex) while `run` and `render`
 * refuse, with `requireSettings`, exactly the ones they depend on, before anything is created.
 */
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Env } from './context.js';
import { DrydockError, UsageError } from './errors.js';
import { DOCKER_SOCKET } from './names.js';
import { baselinePath, configDir, resolveProjectName, sessionsDir, stateDir, userAllowlistPaths } from './paths.js';
import { DEFAULT_GRACE_MS } from './session/gc-plan.js';
import { DEFAULT_LOG_CAP, DEFAULT_LOG_READ_MS, egressLogLimitsFrom, type EgressLogLimits } from './session/log-limits.js';
import { DEFAULT_AGENT_IMAGE, DEFAULT_EGRESS_IMAGE, agentImage, egressImage, requirePinnedEgressImage, unpinnedEgressImageError } from './render/images.js';
import { resolveMode, type Mode } from './render/mode.js';
import { LimitError, defaultLimits, resolveLimits, type HostFacts, type ResourceLimits } from './limits/settings.js';

/** Where the allowlists are read from, in the order they apply. */
export interface AllowlistPaths {
  /** The shipped baseline, or the organisation's own (`DRYDOCK_BASELINE`). */
  baseline: string;
  /** `<config>/egress-allowlist`. */
  global: string;
  /** `<config>/egress-allowlist-<project>`. */
  project: string;
}

export interface ImageSettings {
  agent: string;
  agentIsDefault: boolean;
  egress: string;
  egressIsDefault: boolean;
  /** `name@sha256:<64 hex>`: cannot be swapped by re-tagging. */
  egressPinned: boolean;
  /** `DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE=1`. */
  requirePinnedEgress: boolean;
  /** `DRYDOCK_EGRESS_BASE_IMAGE`: the BASE build-arg when drydock builds its own sidecar image. */
  egressBuildBase?: string;
}

/** The settings that can be malformed, each named so a command can require the ones it uses. */
export type SettingName = 'mode' | 'agentImage' | 'egressImage' | 'requirePinned' | 'egressPinning' | 'gcGrace' | 'egressLog' | 'limits';

export interface SettingProblem {
  setting: SettingName;
  /** The variable (or flag) to fix. */
  variable: string;
  /** What `run` / `render` throw when they need this setting (message and hint for the user). */
  error: DrydockError;
}

export interface Settings {
  /**
   * The environment as given. Only passed on, never parsed again: to child processes (the docker
   * CLI runs with it) and, for the agent's telemetry switches, into the rendered agent service.
   */
  env: Env;
  /** The project directory (bind-mounted at /workspace). */
  cwd: string;
  /** `--project`, else the sanitised name of `cwd`. */
  project: string;
  /** `--mode`, else `DRYDOCK_MODE`, else `contain` (`contain` too when that is malformed: see problems). */
  mode: Mode;
  /** `DRYDOCK_MODE` exactly as set, for doctor's warnings about it. */
  modeVariable?: string;
  images: ImageSettings;
  dirs: { config: string; state: string; sessions: string };
  allowlists: AllowlistPaths;
  /** `DRYDOCK_AGENT_COMMAND` split on spaces; empty when unset. */
  agentCommand: string[];
  /** `DRYDOCK_RUN_TIMING=1`: print the start-up timings. */
  runTiming: boolean;
  /** The workspace guard (lib/workspace/): on unless `DRYDOCK_WORKSPACE_GUARD=0` (or `run --no-workspace-guard`). */
  workspaceGuard: boolean;
  /** `DRYDOCK_GC_GRACE_SECONDS` in ms (default 300 s). */
  gcGraceMs: number;
  /** Memory, CPU, pids, init, log caps, tmpfs, MaxClients/Timeout (`DRYDOCK_AGENT_*`, `DRYDOCK_EGRESS_*`, `DRYDOCK_LOG_*`). */
  limits: ResourceLimits;
  /** `DRYDOCK_EGRESS_LOG_MAX_MB`, `DRYDOCK_EGRESS_LOG_READ_SECONDS`: the saved log's cap and read time box. */
  egressLog: EgressLogLimits;
  engine: {
    /** Which engine the CLI talks to, as the user configured it (for messages). */
    target: string;
    /** The engine's unix socket on the host: a `unix://` DOCKER_HOST's path, else the default. */
    socket: string;
  };
  problems: readonly SettingProblem[];
}

export interface SettingsInput {
  env: Env;
  cwd: string;
  /** `--mode` */
  mode?: string;
  /** `--project` */
  project?: string;
  /** The machine's size, which the default limits derive from (default: this machine's). */
  host?: HostFacts;
}

export function thisMachine(): HostFacts {
  return { cpus: cpus().length, memoryBytes: totalmem() };
}

export const DEFAULT_GC_GRACE_MS = DEFAULT_GRACE_MS;

/** `DRYDOCK_GC_GRACE_SECONDS`: whole seconds, default 300. */
export function gcGraceFrom(env: Env): number {
  const raw = env.DRYDOCK_GC_GRACE_SECONDS;
  if (raw === undefined || raw === '') return DEFAULT_GC_GRACE_MS;
  if (!/^[0-9]{1,7}$/.test(raw)) {
    throw new UsageError(`DRYDOCK_GC_GRACE_SECONDS: "${raw}" is not a whole number of seconds`, { hint: 'set it to e.g. 300, or unset it' });
  }
  return Number(raw) * 1000;
}

/**
 * The engine socket a dood agent gets: the path of a `unix://` DOCKER_HOST (the engine drydock
 * itself talks to), else the default. A tcp:// or ssh:// engine has no socket to mount; doctor says so.
 */
export function hostDockerSocket(env: Env): string {
  const host = env.DOCKER_HOST ?? '';
  return host.startsWith('unix://') && host.length > 'unix://'.length ? host.slice('unix://'.length) : DOCKER_SOCKET;
}

/** Which engine the CLI talks to, as the user configured it. */
export function engineTarget(env: Env): string {
  if (env.DOCKER_HOST) return `DOCKER_HOST=${env.DOCKER_HOST}`;
  if (env.DOCKER_CONTEXT) return `DOCKER_CONTEXT=${env.DOCKER_CONTEXT}`;
  return 'the default context';
}

export function resolveSettings(input: SettingsInput): Settings {
  const { env } = input;
  const problems: SettingProblem[] = [];
  /** One setting: its value, or the fallback and a recorded problem. */
  const read = <T>(setting: SettingName, variable: string, resolve: () => T, fallback: T): T => {
    try {
      return resolve();
    } catch (error) {
      if (!(error instanceof DrydockError)) throw error;
      problems.push({ setting, variable, error });
      return fallback;
    }
  };

  const mode = read('mode', input.mode !== undefined ? '--mode' : 'DRYDOCK_MODE', () => resolveMode(input.mode, env), 'contain');
  const agent = read('agentImage', 'DRYDOCK_AGENT_IMAGE', () => agentImage(env), undefined);
  const egress = read('egressImage', 'DRYDOCK_EGRESS_IMAGE', () => egressImage(env), undefined);
  const requirePinned = read('requirePinned', 'DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE', () => requirePinnedEgressImage(env), false);
  if (requirePinned && egress && !egress.pinned) {
    problems.push({ setting: 'egressPinning', variable: 'DRYDOCK_EGRESS_IMAGE', error: unpinnedEgressImageError(egress.image) });
  }
  const gcGraceMs = read('gcGrace', 'DRYDOCK_GC_GRACE_SECONDS', () => gcGraceFrom(env), DEFAULT_GC_GRACE_MS);
  const host = input.host ?? thisMachine();
  let limits: ResourceLimits;
  try {
    limits = resolveLimits(env, host);
  } catch (error) {
    if (!(error instanceof LimitError)) throw error;
    problems.push({ setting: 'limits', variable: error.variable, error });
    limits = defaultLimits(host);
  }
  const egressLog = read('egressLog', 'DRYDOCK_EGRESS_LOG_MAX_MB / DRYDOCK_EGRESS_LOG_READ_SECONDS', () => egressLogLimitsFrom(env), { maxBytes: DEFAULT_LOG_CAP, readMs: DEFAULT_LOG_READ_MS });

  const project = resolveProjectName(input.project, input.cwd);
  const [global, perProject] = userAllowlistPaths(env, project);
  const state = stateDir(env);
  const egressImageName = egress?.image ?? DEFAULT_EGRESS_IMAGE;
  const agentImageName = agent ?? DEFAULT_AGENT_IMAGE;
  return {
    env,
    cwd: input.cwd,
    project,
    mode,
    modeVariable: env.DRYDOCK_MODE === undefined || env.DRYDOCK_MODE === '' ? undefined : env.DRYDOCK_MODE,
    images: {
      agent: agentImageName,
      agentIsDefault: agentImageName === DEFAULT_AGENT_IMAGE,
      egress: egressImageName,
      egressIsDefault: egressImageName === DEFAULT_EGRESS_IMAGE,
      egressPinned: egress?.pinned ?? false,
      requirePinnedEgress: requirePinned,
      egressBuildBase: env.DRYDOCK_EGRESS_BASE_IMAGE || undefined,
    },
    dirs: { config: configDir(env), state, sessions: sessionsDir(env) },
    allowlists: { baseline: baselinePath(env), global: global!, project: perProject! },
    agentCommand: (env.DRYDOCK_AGENT_COMMAND ?? '').split(' ').filter((part) => part !== ''),
    runTiming: env.DRYDOCK_RUN_TIMING === '1',
    workspaceGuard: env.DRYDOCK_WORKSPACE_GUARD !== '0',
    gcGraceMs,
    limits,
    egressLog,
    engine: { target: engineTarget(env), socket: hostDockerSocket(env) },
    problems,
  };
}

/** Throws the first problem among the named settings, in the order named (the order a user meets them). */
export function requireSettings(settings: Settings, ...names: SettingName[]): void {
  for (const name of names) {
    const problem = settings.problems.find((p) => p.setting === name);
    if (problem) throw problem.error;
  }
}

/** The settings a contained session depends on, in the order they are checked. */
export const CONTAINED_SETTINGS: readonly SettingName[] = ['requirePinned', 'egressImage', 'egressPinning'];

export function problemOf(settings: Settings, name: SettingName): SettingProblem | undefined {
  return settings.problems.find((p) => p.setting === name);
}

/** A session's directory: `<state>/sessions/<id>`. */
export function sessionDirOf(settings: Pick<Settings, 'dirs'>, sessionId: string): string {
  return join(settings.dirs.sessions, sessionId);
}

/** The allowlists of another project (a session's own, for `egress suggest`): same baseline and config dir. */
export function allowlistPathsFor(settings: Pick<Settings, 'allowlists'>, project: string): AllowlistPaths {
  return { ...settings.allowlists, project: `${settings.allowlists.global}-${project}` };
}

/** The user's allowlist files named in "add a line to …" hints; the project's only when it is known. */
export function allowlistHintFiles(settings: Pick<Settings, 'allowlists'>, project: string | undefined): { global: string; project?: string } {
  const { global } = settings.allowlists;
  return project === undefined ? { global } : { global, project: `${global}-${project}` };
}
