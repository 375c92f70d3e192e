/**
 * The kubectl adapter: the only code of the kubernetes target that runs a program, through the
 * same injected CommandRunner as the docker adapter (argv arrays, never a shell). Every call names
 * the context explicitly once `run` has read the current one, so a `kubectl config use-context`
 * in another terminal cannot move half a session to another cluster.
 */
import { readStampedLog, type LogStreamResult, type StampedLogOptions } from '../docker/log-stream.js';
import { ProgramNotFound, type CommandRunner, type RunResult } from '../docker/runner.js';
import { ExternalError } from '../errors.js';
import { LABEL_OBSERVE, LABEL_PROJECT, LABEL_ROLE, LABEL_SESSION, LABEL_TARGET } from './names.js';

export const KUBECTL_HINT = 'install kubectl and point its current context at the cluster (kubectl config use-context NAME)';

export interface NamespaceRecord {
  name: string;
  session: string;
  project: string;
  /** Observe mode (its decisions say what would have been refused). */
  observe: boolean;
  createdAtMs?: number;
  /** Set while the namespace is being deleted. */
  terminating: boolean;
}

function firstLines(result: RunResult, count = 5): string {
  const text = `${result.stderr}\n${result.stdout}`.split('\n').map((l) => l.trim()).filter(Boolean);
  return text.slice(0, count).join('; ');
}

export class Kubectl {
  constructor(
    private readonly runner: CommandRunner,
    private context?: string,
  ) {}

  get contextName(): string | undefined {
    return this.context;
  }

  private argv(args: string[]): string[] {
    return ['kubectl', ...(this.context ? ['--context', this.context] : []), ...args];
  }

  private async run(args: string[], options: Parameters<CommandRunner['run']>[1] = {}): Promise<RunResult> {
    try {
      return await this.runner.run(this.argv(args), options);
    } catch (error) {
      if (error instanceof ProgramNotFound) throw new ExternalError('kubectl was not found on PATH', { hint: KUBECTL_HINT, cause: error });
      throw error;
    }
  }

  private async ok(what: string, args: string[], options: Parameters<CommandRunner['run']>[1] = {}): Promise<RunResult> {
    const result = await this.run(args, options);
    if (result.code !== 0) throw new ExternalError(`kubectl ${what} failed: ${firstLines(result) || `exit ${result.code}`}`, { hint: KUBECTL_HINT });
    return result;
  }

  /** Reads kubectl's current context and pins every later call to it. */
  async pinCurrentContext(): Promise<string> {
    const result = await this.ok('config current-context', ['config', 'current-context']);
    const name = result.stdout.trim();
    if (name === '') throw new ExternalError('kubectl has no current context', { hint: KUBECTL_HINT });
    this.context = name;
    return name;
  }

  /** `kubectl apply -f -` with the manifests on stdin (never a file another process could swap). */
  async apply(yaml: string, signal?: AbortSignal): Promise<void> {
    await this.ok('apply', ['apply', '-f', '-'], { input: yaml, signal });
  }

  /** True once the Pod is Ready, false if it was not within the timeout (or cannot become so). */
  async waitReady(namespace: string, pod: string, timeoutS: number, signal?: AbortSignal): Promise<{ ready: boolean; output: string }> {
    const result = await this.run(['-n', namespace, 'wait', '--for=condition=Ready', `pod/${pod}`, `--timeout=${timeoutS}s`], { signal });
    return { ready: result.code === 0, output: firstLines(result) };
  }

  async podPhase(namespace: string, pod: string, signal?: AbortSignal): Promise<string> {
    const result = await this.ok('get pod', ['-n', namespace, 'get', 'pod', pod, '-o', 'jsonpath={.status.phase}'], { signal });
    return result.stdout.trim();
  }

  async serviceAddress(namespace: string, service: string): Promise<string> {
    const result = await this.ok('get service', ['-n', namespace, 'get', 'service', service, '-o', 'jsonpath={.spec.clusterIP}']);
    return result.stdout.trim();
  }

  /**
   * A short log read whole, or undefined when the Pod is gone: only for the probe's few lines of its
   * own verdict. A proxy's log (the agent can make it any size) goes through streamLogs.
   */
  async logs(namespace: string, pod: string, container: string): Promise<string | undefined> {
    const result = await this.run(['-n', namespace, 'logs', pod, '-c', container]);
    if (result.code === 0) return result.stdout;
    if (/not ?found/i.test(result.stderr)) return undefined;
    throw new ExternalError(`kubectl logs ${pod} failed: ${firstLines(result)}`, { hint: KUBECTL_HINT });
  }

  /**
   * A container's log, line by line (`--timestamps`: the stamp passed along), never collected, read
   * by the same reader as `docker logs`: time-boxed, abortable, `gone` when the Pod is.
   */
  async streamLogs(namespace: string, pod: string, container: string, options: StampedLogOptions): Promise<LogStreamResult> {
    let read;
    try {
      read = await readStampedLog(this.runner, this.argv(['-n', namespace, 'logs', '--timestamps', pod, '-c', container]), { ...options, stderrIsLog: false });
    } catch (error) {
      if (error instanceof ProgramNotFound) throw new ExternalError('kubectl was not found on PATH', { hint: KUBECTL_HINT, cause: error });
      throw error;
    }
    if (read.stopped) return { outcome: read.stopped, lines: read.lines };
    if (read.code === 0) return { outcome: 'complete', lines: read.lines };
    if (/not ?found/i.test(read.stderr)) return { outcome: 'gone', lines: read.lines };
    throw new ExternalError(`kubectl logs ${pod} failed: ${firstLines({ code: read.code, stdout: '', stderr: read.stderr }) || `exit ${read.code}`}`, { hint: KUBECTL_HINT });
  }

  /** The user's command in the agent, terminal handed over; its exit code. */
  async exec(namespace: string, pod: string, container: string, cmd: string[], options: { tty: boolean; signal?: AbortSignal }): Promise<number> {
    const result = await this.run(['-n', namespace, 'exec', options.tty ? '-it' : '-i', pod, '-c', container, '--', ...cmd], {
      stdio: 'inherit',
      signal: options.signal,
    });
    return result.code;
  }

  async deletePod(namespace: string, pod: string): Promise<void> {
    await this.ok('delete pod', ['-n', namespace, 'delete', 'pod', pod, '--ignore-not-found', '--wait=false']);
  }

  /**
   * Tear down by label: the session's namespace, and with it everything in it. `--wait=false`:
   * the API server finishes the deletion (Pods get their short grace period) after we return.
   */
  async deleteSessions(sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    const selector = `${LABEL_SESSION} in (${[...sessionIds].sort().join(',')})`;
    await this.ok('delete namespace', ['delete', 'namespace', '-l', selector, '--ignore-not-found', '--wait=false']);
  }

  /** Which of these namespace names exist. */
  async existingNamespaces(names: readonly string[]): Promise<string[]> {
    const result = await this.ok('get namespace', ['get', 'namespace', ...names, '--ignore-not-found', '-o', 'name']);
    return result.stdout.split('\n').map((l) => l.trim().replace(/^namespace\//, '')).filter(Boolean);
  }

  async runningAgentSessions(): Promise<string[]> {
    const result = await this.ok('get pods', ['get', 'pods', '--all-namespaces', '-l', `${LABEL_ROLE}=agent,${LABEL_TARGET}=kubernetes`, '-o', 'json']);
    return parseRunningAgents(result.stdout);
  }

  /** Every drydock session namespace on the cluster, from one listing. */
  async listSessionNamespaces(): Promise<NamespaceRecord[]> {
    const result = await this.ok('get namespaces', ['get', 'namespaces', '-l', LABEL_SESSION, '-o', 'json']);
    return parseNamespaceList(result.stdout);
  }
}

/** Sessions whose agent Pod is Running, from one listing across namespaces. */
export function parseRunningAgents(json: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new ExternalError('kubectl get pods did not print JSON', { hint: KUBECTL_HINT });
  }
  const items = Array.isArray((doc as { items?: unknown }).items) ? (doc as { items: unknown[] }).items : [];
  const sessions = items
    .filter((item) => (item as { status?: { phase?: unknown } }).status?.phase === 'Running')
    .map((item) => ((item as { metadata?: { labels?: Record<string, string> } }).metadata?.labels ?? {})[LABEL_SESSION])
    .filter((s): s is string => typeof s === 'string');
  return [...new Set(sessions)].sort();
}

export function parseNamespaceList(json: string): NamespaceRecord[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new ExternalError('kubectl get namespaces did not print JSON', { hint: KUBECTL_HINT });
  }
  const items = Array.isArray((doc as { items?: unknown }).items) ? (doc as { items: unknown[] }).items : [];
  const records: NamespaceRecord[] = [];
  for (const item of items) {
    const meta = (item as { metadata?: Record<string, unknown> }).metadata ?? {};
    const labels = (meta.labels ?? {}) as Record<string, string>;
    const session = labels[LABEL_SESSION];
    if (typeof meta.name !== 'string' || typeof session !== 'string') continue;
    const created = typeof meta.creationTimestamp === 'string' ? Date.parse(meta.creationTimestamp) : NaN;
    records.push({
      name: meta.name,
      session,
      project: labels[LABEL_PROJECT] ?? '',
      observe: labels[LABEL_OBSERVE] === 'true',
      createdAtMs: Number.isNaN(created) ? undefined : created,
      terminating: meta.deletionTimestamp !== undefined,
    });
  }
  return records.sort((a, b) => a.name.localeCompare(b.name));
}
