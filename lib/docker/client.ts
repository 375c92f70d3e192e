/**
 * The one adapter between drydock and the docker CLI. Every engine call goes through here as an
 * argument array (never a shell string); DOCKER_HOST / DOCKER_CONTEXT reach docker through the
 * runner's environment. Failures become ExternalError (exit 3) with docker's first line and a fix.
 */
import { DrydockError, ExternalError, errorMessage } from '../errors.js';
import { composeArgv, detectCompose, type ComposeFlavour } from './compose.js';
import type { ComposeVersionCache } from './compose-cache.js';
import { COMPOSE_HINT, dockerFailure, firstLine, isEngineUnreachable, isNoSuchObject, programMissing } from './failure.js';
import {
  parseContainerListing,
  parseNetworkListing,
  type ContainerRecord,
  type Labels,
  type NetworkRecord,
} from './listing.js';
import { streamContainerLogs, type LogStreamResult } from './log-stream.js';
import type { CommandRunner, RunOptions, RunResult } from './runner.js';
import { LABELS } from '../names.js';
import { parseEngineInfo, parseHealthTimeline, type EngineInfo, type HealthTimeline } from './inspect.js';

const SESSION_LABEL = LABELS.session;

export interface RemovalReport {
  /** Removed now, or already gone (a half-torn-down session is not an error). */
  removed: string[];
  failed: Array<{ id: string; message: string }>;
}

export interface EngineProbe {
  cliFound: boolean;
  clientVersion?: string;
  /** Present when the engine answered. */
  info?: EngineInfo;
  error?: string;
}

export interface SessionState {
  containers: ContainerRecord[];
  networks: NetworkRecord[];
}

export class Docker {
  private composeFlavour?: Promise<ComposeFlavour>;

  /** `composeCache`: where Compose v1's version may be remembered between starts (`run` only). */
  constructor(private readonly runner: CommandRunner, private readonly options: { composeCache?: ComposeVersionCache } = {}) {}

  /** Run a docker program; a missing binary becomes an exit-3 error with an install hint. */
  private async call(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    try {
      return await this.runner.run(argv, options);
    } catch (error) {
      throw programMissing(error) ?? error;
    }
  }

  private async checked(what: string, argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    const result = await this.call(argv, options);
    if (result.code !== 0) throw dockerFailure(what, result);
    return result;
  }

  /**
   * For doctor: never throws. `docker info` still prints the client's half when the engine is
   * unreachable, so one call tells "no CLI" from "no engine" from "engine up".
   */
  async probeEngine(timeoutMs = 10_000): Promise<EngineProbe> {
    let result: RunResult;
    try {
      result = await this.runner.run(['docker', 'info', '--format', '{{json .}}'], { timeoutMs });
    } catch (error) {
      const missing = programMissing(error);
      if (!missing) throw error;
      return { cliFound: false, error: missing.message };
    }
    const clientVersion = /"ClientInfo":\{[^}]*?"Version":"([^"]+)"/.exec(result.stdout)?.[1];
    if (result.code !== 0) {
      return { cliFound: true, clientVersion, error: dockerFailure('docker info', result).message };
    }
    try {
      return { cliFound: true, clientVersion, info: parseEngineInfo(result.stdout) };
    } catch (error) {
      return { cliFound: true, clientVersion, error: errorMessage(error) };
    }
  }

  async info(timeoutMs = 10_000): Promise<EngineInfo> {
    const result = await this.checked('docker info', ['docker', 'info', '--format', '{{json .}}'], { timeoutMs });
    return parsed('docker info', () => parseEngineInfo(result.stdout));
  }

  /** Detected once per Docker instance (one command run): v2 plugin, else v1, else none. */
  compose(): Promise<ComposeFlavour> {
    this.composeFlavour ??= detectCompose(this.runner, this.options.composeCache);
    return this.composeFlavour;
  }

  async imageExists(ref: string): Promise<boolean> {
    const result = await this.call(['docker', 'image', 'inspect', '--format', '{{.Id}}', ref]);
    if (result.code === 0) return true;
    if (!isEngineUnreachable(result.stderr) && isNoSuchObject(result.stderr)) return false;
    throw dockerFailure(`docker image inspect ${ref}`, result);
  }

  /** One label of an image: its value ('' when unset), or undefined when there is no such image. */
  async imageLabel(ref: string, label: string): Promise<string | undefined> {
    const result = await this.call(['docker', 'image', 'inspect', '--format', `{{index .Config.Labels ${JSON.stringify(label)}}}`, ref]);
    if (result.code === 0) return result.stdout.trim().replace(/^<no value>$/, '');
    if (!isEngineUnreachable(result.stderr) && isNoSuchObject(result.stderr)) return undefined;
    throw dockerFailure(`docker image inspect ${ref}`, result);
  }

  async buildImage(options: { tag: string; contextDir: string; buildArgs?: Record<string, string>; signal?: AbortSignal; noCache?: boolean }): Promise<void> {
    const args = Object.entries(options.buildArgs ?? {}).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
    if (options.noCache) args.unshift('--no-cache');
    const result = await this.call(['docker', 'build', '-t', options.tag, ...args, options.contextDir], { signal: options.signal });
    if (result.code !== 0) {
      const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-15).join('\n');
      const error = dockerFailure(`building ${options.tag}`, { ...result, stderr: result.stderr || tail });
      throw new ExternalError(`${error.message}\n${tail}`, { hint: error.hint ?? 'fix the build error above, or set DRYDOCK_EGRESS_BASE_IMAGE to a base image you have' });
    }
  }

  /** Create a shared network; "already exists" (another run got there first) is success. */
  async ensureNetwork(name: string, labels: Labels): Promise<'created' | 'existed'> {
    const labelArgs = Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
    const result = await this.call(['docker', 'network', 'create', ...labelArgs, name]);
    if (result.code === 0) return 'created';
    if (/already exists/i.test(result.stderr)) return 'existed';
    throw dockerFailure(`docker network create ${name}`, result);
  }

  /** Which of these container names exist (any state), in one call. */
  async existingContainers(names: readonly string[]): Promise<string[]> {
    if (names.length === 0) return [];
    const result = await this.call(['docker', 'container', 'inspect', '--format', '{{.Name}}', ...names]);
    const unexplained = result.stderr.split('\n').filter((l) => l.trim() !== '' && !isNoSuchObject(l));
    if (result.code !== 0 && (unexplained.length > 0 || isEngineUnreachable(result.stderr))) {
      throw dockerFailure('docker container inspect', result);
    }
    const found = new Set(result.stdout.split('\n').map((l) => l.trim().replace(/^\//, '')));
    return names.filter((n) => found.has(n));
  }

  /**
   * `docker inspect` of several objects of any kind (networks and containers) in ONE call: the
   * parsed documents of those that exist. Missing ones are left out; an engine error throws.
   */
  async inspectObjects(names: readonly string[]): Promise<unknown[]> {
    const result = await this.call(['docker', 'inspect', ...names]);
    const unexplained = result.stderr.split('\n').filter((l) => l.trim() !== '' && !isNoSuchObject(l));
    if (result.code !== 0 && (unexplained.length > 0 || isEngineUnreachable(result.stderr))) throw dockerFailure('docker inspect', result);
    const docs = parsed('docker inspect', () => JSON.parse(result.stdout.trim() || '[]') as unknown);
    return Array.isArray(docs) ? docs : [];
  }

  /**
   * Resolves true once the engine reports `container` healthy, false when `signal` ends the wait
   * first or the event stream ends (`docker events`, listening from the call on, so a container
   * created and made healthy later is seen; one CLI process, no polling).
   */
  async waitForHealthy(container: string, options: { signal: AbortSignal }): Promise<boolean> {
    if (options.signal.aborted) return false;
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    let healthy = false;
    try {
      await this.call(['docker', 'events', '--filter', 'type=container', '--filter', `container=${container}`, '--filter', 'event=health_status', '--format', '{{.Action}}'], {
        signal: stop.signal,
        onStdoutLine: (line) => {
          if (line.trim() !== 'health_status: healthy') return;
          healthy = true;
          stop.abort();
        },
      });
    } finally {
      options.signal.removeEventListener('abort', onAbort);
    }
    return healthy;
  }

  /**
   * A command in a running container as a given user, its stdin fed from `input` (which may still
   * be being computed when the command starts), output captured; never throws for its exit code.
   */
  async execWithInput(options: { container: string; user: string; cmd: readonly string[]; input: string | Promise<string>; timeoutMs: number }): Promise<RunResult> {
    return this.call(['docker', 'exec', '-i', '--user', options.user, options.container, ...options.cmd], { input: options.input, timeoutMs: options.timeoutMs });
  }

  /**
   * Everything drydock labelled: ONE container listing and ONE network listing, whatever the number
   * of sessions. `session` narrows both to one session's label.
   */
  async listSessionState(filter: { session?: string } = {}): Promise<SessionState> {
    const label = filter.session ? `label=${SESSION_LABEL}=${filter.session}` : `label=${SESSION_LABEL}`;
    // Both at once (started in this order): each docker CLI call costs ~100 ms of start-up, and
    // teardown waits for this listing.
    const [ps, nets] = await Promise.all([
      this.checked('docker ps', ['docker', 'ps', '-a', '--no-trunc', '--filter', label, '--format', '{{json .}}']),
      this.checked('docker network ls', ['docker', 'network', 'ls', '--no-trunc', '--filter', label, '--format', '{{json .}}']),
    ]);
    return parsed('docker ps / docker network ls', () => ({
      containers: parseContainerListing(ps.stdout),
      networks: parseNetworkListing(nets.stdout),
    }));
  }

  /** Every network on the engine (doctor counts them against the address pool). */
  async listNetworks(): Promise<NetworkRecord[]> {
    const result = await this.checked('docker network ls', ['docker', 'network', 'ls', '--no-trunc', '--format', '{{json .}}']);
    return parsed('docker network ls', () => parseNetworkListing(result.stdout));
  }

  async composeUp(options: { project: string; files: readonly string[]; cwd: string; signal?: AbortSignal }): Promise<RunResult> {
    const flavour = await this.compose();
    if (flavour.kind === 'none') throw new ExternalError(`no Compose found: ${flavour.reason}`, { hint: COMPOSE_HINT });
    const argv = composeArgv(flavour, { project: options.project, files: options.files, args: ['up', '-d'] });
    return this.call(argv, { cwd: options.cwd, signal: options.signal });
  }

  /** Run a command in a container with the terminal handed over; resolves to the command's exit code. */
  /**
   * `stdoutToStderr`: the command's stdout goes to drydock's stderr (`run --json`).
   * `passEnv` are NAMES: `-e NAME` makes the docker CLI take the value from its own environment
   * (drydock's), so a credential's value is never in an argv (lib/agent/credentials.ts).
   */
  async exec(container: string, cmd: readonly string[], options: { tty: boolean; signal?: AbortSignal; stdoutToStderr?: boolean; passEnv?: readonly string[] }): Promise<number> {
    const flags = options.tty ? ['-i', '-t'] : ['-i'];
    const env = (options.passEnv ?? []).flatMap((name) => ['-e', name]);
    const stdio = options.stdoutToStderr ? 'inherit-stdout-to-stderr' : 'inherit';
    const result = await this.call(['docker', 'exec', ...flags, ...env, container, ...cmd], { stdio, signal: options.signal });
    return result.code;
  }

  /** Run a command in a container and capture what it printed (no terminal); never throws for its exit code. */
  async execCaptured(container: string, cmd: readonly string[], options: { timeoutMs?: number } = {}): Promise<RunResult> {
    return this.call(['docker', 'exec', container, ...cmd], { timeoutMs: options.timeoutMs });
  }

  /** A container's state (`running`, `exited`, `paused`…), or undefined when it does not exist. */
  async containerState(container: string): Promise<string | undefined> {
    const result = await this.call(['docker', 'container', 'inspect', '--format', '{{.State.Status}}', container]);
    if (result.code === 0) return result.stdout.trim();
    if (!isEngineUnreachable(result.stderr) && isNoSuchObject(result.stderr)) return undefined;
    throw dockerFailure(`docker container inspect ${container}`, result);
  }

  /** Stop a container (it stays, for `stop`/`gc` to remove with its session). */
  async stopContainer(container: string, options: { timeSeconds?: number } = {}): Promise<void> {
    await this.checked(`docker stop ${container}`, ['docker', 'stop', '-t', String(options.timeSeconds ?? 2), container]);
  }

  /**
   * A container's stdout and stderr, line by line in the order written (docker's stamp passed
   * along), never collected: `gone` when there is no such container.
   */
  streamLogs(
    container: string,
    options: { onLine: (text: string, time: string | undefined) => void; follow?: boolean; timeoutMs?: number; signal?: AbortSignal },
  ): Promise<LogStreamResult> {
    return streamContainerLogs(this.runner, container, options);
  }

  async healthTimeline(container: string): Promise<HealthTimeline> {
    const result = await this.checked('docker inspect', ['docker', 'container', 'inspect', '--format', '{{json .}}', container]);
    return parsed('docker inspect', () => parseHealthTimeline(result.stdout));
  }

  /** All of them in ONE `docker rm -f` call. */
  removeContainers(ids: readonly string[]): Promise<RemovalReport> {
    return this.remove(['docker', 'rm', '-f'], ids);
  }

  /** All of them in ONE `docker network rm` call. */
  removeNetworks(ids: readonly string[]): Promise<RemovalReport> {
    return this.remove(['docker', 'network', 'rm'], ids);
  }

  /**
   * One removal call, asked again for what another process is removing at the same moment
   * (`drydock stop` while `run` tears down: "removal … is already in progress") until the engine
   * says it is gone. If that other removal fails, the last answer is this one's failure too: never
   * a success that was not seen.
   */
  private async remove(command: readonly string[], ids: readonly string[]): Promise<RemovalReport> {
    const report = await this.removeOnce(command, ids);
    for (let attempt = 0; attempt < REMOVAL_RETRIES; attempt++) {
      const busy = report.failed.filter((f) => /already in progress/i.test(f.message)).map((f) => f.id);
      if (busy.length === 0) break;
      await new Promise((done) => setTimeout(done, REMOVAL_RETRY_MS));
      const again = await this.removeOnce(command, busy);
      report.failed = [...report.failed.filter((f) => !busy.includes(f.id)), ...again.failed];
      report.removed.push(...again.removed);
    }
    return report;
  }

  private async removeOnce(command: readonly string[], ids: readonly string[]): Promise<RemovalReport> {
    if (ids.length === 0) return { removed: [], failed: [] };
    let result: RunResult;
    try {
      result = await this.call([...command, ...ids]);
    } catch (error) {
      // A missing docker CLI fails every id; anything else is a bug and must surface.
      if (!(error instanceof DrydockError)) throw error;
      return { removed: [], failed: ids.map((id) => ({ id, message: error.message })) };
    }
    return attributeRemoval(ids, result);
  }
}

/** How often, and how long apart, a removal another process has in progress is asked about again (10 s in all). */
const REMOVAL_RETRIES = 40;
const REMOVAL_RETRY_MS = 250;

/** Output docker gave but drydock cannot read is an external failure (exit 3), not a crash. */
function parsed<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new ExternalError(`${what} gave output drydock cannot read: ${errorMessage(error)}`, {
      hint: 'check that DOCKER_HOST / DOCKER_CONTEXT point at a Docker engine (API 1.41 or newer)',
    });
  }
}

/** `id` as a whole token: `drydock-a-1a2b` must not match a line about `drydock-a-1a2b-egress`. */
function mentions(line: string, id: string): boolean {
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_.-])${escaped}($|[^A-Za-z0-9_.-]|\\.(\\s|$))`).test(line);
}

/**
 * docker echoes each argument it removed on stdout and writes one stderr line per failure. An id
 * docker says does not exist is already gone, which is what teardown wanted.
 */
export function attributeRemoval(ids: readonly string[], result: RunResult): RemovalReport {
  const echoed = new Set(result.stdout.split('\n').map((l) => l.trim()));
  const errorLines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  const report: RemovalReport = { removed: [], failed: [] };
  for (const id of ids) {
    if (echoed.has(id)) {
      report.removed.push(id);
      continue;
    }
    const line = errorLines.find((l) => mentions(l, id));
    if (line && isNoSuchObject(line) && !isEngineUnreachable(line)) report.removed.push(id);
    else if (result.code === 0 && !line) report.removed.push(id);
    else report.failed.push({ id, message: firstLine(line ?? result.stderr) || `exit code ${result.code}` });
  }
  return report;
}
