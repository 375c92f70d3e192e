/**
 * `drydock egress log` and `drydock egress suggest`: read a session's proxy log — the live
 * sidecar's `docker logs`, else the `egress.log` that `run`/`stop` saved at teardown — and say what
 * was refused (with the allowlist line that would allow it) or turn what an --observe session
 * reached into an allowlist. The parsing and suggesting are pure (lib/egress/log.ts, suggest.ts).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadAllowlists } from '../allowlist/sources.js';
import type { CommandContext, CommandResult } from '../context.js';
import { Docker } from '../docker/client.js';
import { processRunner, type CommandRunner } from '../docker/runner.js';
import { DrydockError, ExitCode, ExternalError, NegativeAnswer, UsageError, formatDiagnostic } from '../errors.js';
import { requestOf, type Decision } from '../egress/decision.js';
import { EgressLogPipeline } from '../egress/log-pipeline.js';
import { MAX_DESTINATIONS, formatDenialSummary, formatRefusal, type RefusalReport } from '../egress/refusals.js';
import { formatSuggestion, suggestAllowlist, type ObservedDestination } from '../egress/suggest.js';
import { readLinesSync } from '../session/capped-file.js';
import { decisionContext } from '../session/save-log.js';
import { safeJsonStringify } from '../terminal-text.js';
import { allowlistFilesOf, resolveProjectName, sessionDir, sessionsDir, userAllowlistPaths } from '../paths.js';
import { validateSessionId } from '../session/id.js';
import { EGRESS_LOG_FILE, readSessionMetadata } from '../session/metadata.js';
import { describeSession, groupSessions, type SessionView } from '../session/model.js';

export interface EgressLogOptions {
  session?: string;
  follow?: boolean;
  json?: boolean;
}

export interface EgressSuggestOptions {
  session?: string;
  project?: string;
  collapse?: boolean;
  json?: boolean;
}

export interface EgressDeps {
  runner?: CommandRunner;
  /** Stops `--follow` (the CLI's Ctrl-C ends the process anyway). */
  signal?: AbortSignal;
}

/** Where a session's proxy log is read from. */
interface LogSource {
  session: string;
  project?: string;
  observe: boolean;
  /** The live (or stopped but not removed) sidecar container… */
  container?: string;
  /** …else the log saved at teardown. */
  file?: string;
}

function savedLogPath(ctx: CommandContext, session: string): string | undefined {
  const path = join(sessionDir(ctx.env, session), EGRESS_LOG_FILE);
  return existsSync(path) ? path : undefined;
}

/** Sessions whose log was saved, newest last, for the "name one" hint. */
function savedSessions(ctx: CommandContext): string[] {
  const root = sessionsDir(ctx.env);
  try {
    return readdirSync(root)
      .filter((name) => existsSync(join(root, name, EGRESS_LOG_FILE)))
      .map((name) => ({ name, mtime: statSync(join(root, name, EGRESS_LOG_FILE)).mtimeMs }))
      .sort((a, b) => a.mtime - b.mtime)
      .map((s) => s.name);
  } catch {
    return [];
  }
}

function fromFile(ctx: CommandContext, session: string, file: string, view?: SessionView): LogSource {
  const metadata = readSessionMetadata(sessionDir(ctx.env, session));
  return { session, file, project: view?.project ?? metadata?.project, observe: view?.observe ?? metadata?.observe ?? false };
}

async function findSource(ctx: CommandContext, docker: Docker, opts: { session?: string; project?: string }): Promise<LogSource> {
  if (opts.session !== undefined) {
    const session = validateSessionId(opts.session);
    let view: SessionView | undefined;
    try {
      [view] = groupSessions(await docker.listSessionState({ session }));
    } catch (error) {
      // No engine (or no docker CLI): the saved log still answers.
      const file = savedLogPath(ctx, session);
      if (error instanceof DrydockError && file) return fromFile(ctx, session, file);
      throw error;
    }
    if (view?.egress) return { session, container: view.egress.name, project: view.project, observe: view.observe };
    const file = savedLogPath(ctx, session);
    if (file) return fromFile(ctx, session, file, view);
    if (view) {
      throw new NegativeAnswer(`session ${session} has no egress proxy (${view.mode === 'dood' ? 'dood mode: nothing is filtered' : 'its sidecar is gone'}) and no saved log`, {
        hint: 'egress logs exist for contained sessions: drydock run --mode contain',
      });
    }
    throw new NegativeAnswer(`no session ${session}: no sidecar and no saved log at ${join(sessionDir(ctx.env, session), EGRESS_LOG_FILE)}`, {
      hint: 'drydock egress log with no argument picks the live session',
    });
  }
  let all: SessionView[];
  try {
    all = groupSessions(await docker.listSessionState());
  } catch (error) {
    const saved = savedSessions(ctx);
    if (!(error instanceof DrydockError) || saved.length === 0) throw error;
    // Without the engine there are no live sessions to pick from, but saved logs can still be read.
    throw new ExternalError(error.message, { hint: `${error.hint ? `${error.hint}; or ` : ''}read a saved log: drydock egress log ${saved[saved.length - 1]}` });
  }
  const live = all.filter((v) => v.live && (opts.project === undefined || v.project === opts.project));
  if (live.length > 1) {
    throw new UsageError(`${live.length} live sessions; name one:\n${live.map((v) => `  ${describeSession(v)}`).join('\n')}`, {
      hint: `drydock egress ${opts.project === undefined ? 'log' : 'suggest'} ${live[0]!.id}`,
    });
  }
  const [only] = live;
  if (!only) {
    const saved = savedSessions(ctx).slice(-5);
    throw new NegativeAnswer(`no live drydock session${opts.project === undefined ? '' : ` of project ${opts.project}`}`, {
      hint: saved.length ? `read a finished session's saved log: drydock egress log ${saved[saved.length - 1]} (saved: ${saved.join(', ')})` : 'start one with drydock run',
    });
  }
  if (only.egress) return { session: only.id, container: only.egress.name, project: only.project, observe: only.observe };
  const file = savedLogPath(ctx, only.id);
  if (file) return fromFile(ctx, only.id, file, only);
  throw new NegativeAnswer(`the live session ${only.id} has no egress proxy (${only.mode === 'dood' ? 'dood mode: nothing is filtered' : 'no sidecar'})`);
}

/**
 * Every line of the source through `pipeline`, never the whole log at once: the sidecar's
 * `docker logs` (followed, with `follow`), else the saved file. False when it was cut short.
 */
async function readThrough(docker: Docker, source: LogSource, pipeline: EgressLogPipeline, opts: { follow?: boolean; signal?: AbortSignal } = {}): Promise<boolean> {
  if (source.container) {
    const read = await docker.streamLogs(source.container, { onLine: (text, time) => pipeline.line(text, time), follow: opts.follow, signal: opts.signal });
    if (read.outcome !== 'gone') return read.outcome === 'complete' || (opts.follow === true && read.outcome === 'aborted');
  }
  if (source.file) {
    readLinesSync(source.file, (line) => pipeline.line(line));
    return true;
  }
  throw new NegativeAnswer(`the sidecar of ${source.session} disappeared before its log could be read`);
}

function denialsData(source: LogSource, report: RefusalReport) {
  return {
    session: source.session,
    source: source.container ? { container: source.container } : { file: source.file },
    observe: source.observe,
    allowed: report.allowed,
    denials: report.destinations,
    refusals: report,
  };
}

/**
 * `egress log`: the refusal summary; with `--json`, one JSON decision per line (lib/egress/
 * decision.ts), as the log is read; with `--follow`, as the sidecar writes it.
 */
export async function log(opts: EgressLogOptions, ctx: CommandContext, deps: EgressDeps = {}): Promise<CommandResult> {
  const json = opts.json === true || ctx.json;
  const runner = deps.runner ?? processRunner(ctx.env);
  const docker = new Docker(runner);
  const source = await findSource(ctx, docker, { session: opts.session });
  const following = opts.follow === true && source.container !== undefined;
  const decisions = json || following ? decisionContext({ env: ctx.env, session: source.session, project: source.project ?? '', observe: source.observe }) : undefined;
  const seen = new Set<string>();
  const onDecision = json
    ? (d: Decision) => ctx.out(safeJsonStringify(d))
    : following
      ? (d: Decision) => {
          if (d.action !== 'denied' || d.host === '') return;
          const key = `${d.protocol} ${d.host.toLowerCase()} ${d.port}`;
          if (seen.has(key)) return;
          if (seen.size >= MAX_DESTINATIONS) seen.clear(); // bounded: a name-per-request flood may repeat a line
          seen.add(key);
          ctx.out(formatRefusal(d));
        }
      : undefined;
  const pipeline = new EgressLogPipeline({ onDecision }, decisions);
  if (following && !json) ctx.err(`following ${source.container} (Ctrl-C to stop)`);
  if (opts.follow && !following && !json) ctx.err(`${source.session} has ended; showing its saved log`);
  const complete = await readThrough(docker, source, pipeline, { follow: following, signal: deps.signal });
  const report = pipeline.end(complete);
  const data = denialsData(source, report);
  if (json) return { exitCode: ExitCode.Ok };
  if (!following) {
    const from = source.container ? `sidecar ${source.container}` : source.file;
    ctx.err(`${source.session} (${from}): ${data.allowed} request(s) allowed${source.observe ? ' — OBSERVE mode, nothing was filtered' : ''}`);
    ctx.out(formatDenialSummary(report.destinations, allowlistFilesOf(ctx.env, source.project), report) || `the proxy refused nothing in ${source.session}`);
  }
  return { exitCode: ExitCode.Ok, data };
}

export async function suggest(opts: EgressSuggestOptions, ctx: CommandContext, deps: EgressDeps = {}): Promise<CommandResult> {
  const docker = new Docker(deps.runner ?? processRunner(ctx.env));
  const projectFilter = opts.project === undefined ? undefined : resolveProjectName(opts.project, ctx.cwd);
  const source = await findSource(ctx, docker, { session: opts.session, project: projectFilter });
  const project = projectFilter ?? source.project ?? resolveProjectName(undefined, ctx.cwd);
  // Each destination once (bounded): the suggester needs destinations, not every request.
  const destinations = new Map<string, ObservedDestination>();
  let unlisted = 0;
  const pipeline = new EgressLogPipeline({
    onEvent: (event) => {
      const req = requestOf(event);
      if (!req) return;
      const key = `${req.protocol} ${req.host.toLowerCase()} ${req.port} ${event.truncated === true}`;
      if (destinations.has(key)) return;
      if (destinations.size >= MAX_DESTINATIONS) unlisted += 1;
      else destinations.set(key, { ...req, truncated: event.truncated === true });
    },
  });
  await readThrough(docker, source, pipeline);
  pipeline.end();
  if (unlisted > 0) ctx.err(`warning: the log names more than ${MAX_DESTINATIONS} destinations; only the first ${MAX_DESTINATIONS} are considered`);

  const loaded = loadAllowlists({ env: ctx.env, project });
  for (const d of loaded.errors) ctx.err(`warning: ${formatDiagnostic(d)} (that line is ignored here)`);
  if (!source.observe) {
    ctx.err(`warning: ${source.session} was not an --observe session: its log shows only what the filter refused and what it already allowed; \`drydock run --observe\` records every destination`);
  }
  const suggestion = suggestAllowlist(
    [...destinations.values()],
    { collapse: opts.collapse === true, existing: loaded.entries },
  );
  const [globalList, projectList] = userAllowlistPaths(ctx.env, project);
  const text = formatSuggestion(suggestion, [
    `drydock egress suggest: what session ${source.session} reached${source.observe ? ' (observe mode)' : ''}, as an allowlist.`,
    'Review every line before saving: whatever is listed here, the agent can reach.',
    `Save as ${projectList} (this project), or append to ${globalList} (every project).`,
    ...(suggestion.lines.length === 0 ? ['Nothing to add: the session reached nothing beyond what is already allowed.'] : []),
  ]);
  if (!ctx.json) ctx.out(text);
  return {
    exitCode: ExitCode.Ok,
    data: { session: source.session, project, observe: source.observe, savePath: projectList, text, ...suggestion },
  };
}
