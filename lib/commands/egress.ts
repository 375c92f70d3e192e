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
import { requestOf } from '../egress/decision.js';
import { EgressLogPipeline } from '../egress/log-pipeline.js';
import { MAX_DESTINATIONS } from '../egress/refusals.js';
import { formatSuggestion, suggestAllowlist, type ObservedDestination } from '../egress/suggest.js';
import { logCommand, readThrough } from './egress-log.js';
import { allowlistPathsFor, resolveSettings, sessionDirOf, type Settings } from '../settings.js';
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
export interface LogSource {
  session: string;
  project?: string;
  observe: boolean;
  /** The live (or stopped but not removed) sidecar container… */
  container?: string;
  /** …else the log saved at teardown. */
  file?: string;
}

function savedLogPath(settings: Settings, session: string): string | undefined {
  const path = join(sessionDirOf(settings, session), EGRESS_LOG_FILE);
  return existsSync(path) ? path : undefined;
}

/** Sessions whose log was saved, newest last, for the "name one" hint. */
function savedSessions(settings: Settings): string[] {
  const root = settings.dirs.sessions;
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

function fromFile(settings: Settings, session: string, file: string, view?: SessionView): LogSource {
  const metadata = readSessionMetadata(sessionDirOf(settings, session));
  return { session, file, project: view?.project ?? metadata?.project, observe: view?.observe ?? metadata?.observe ?? false };
}

async function findSource(settings: Settings, docker: Docker, opts: { session?: string; project?: string }): Promise<LogSource> {
  if (opts.session !== undefined) {
    const session = validateSessionId(opts.session);
    let view: SessionView | undefined;
    try {
      [view] = groupSessions(await docker.listSessionState({ session }));
    } catch (error) {
      // No engine (or no docker CLI): the saved log still answers.
      const file = savedLogPath(settings, session);
      if (error instanceof DrydockError && file) return fromFile(settings, session, file);
      throw error;
    }
    if (view?.egress) return { session, container: view.egress.name, project: view.project, observe: view.observe };
    const file = savedLogPath(settings, session);
    if (file) return fromFile(settings, session, file, view);
    if (view) {
      throw new NegativeAnswer(`session ${session} has no egress proxy (${view.mode === 'dood' ? 'dood mode: nothing is filtered' : 'its sidecar is gone'}) and no saved log`, {
        hint: 'egress logs exist for contained sessions: drydock run --mode contain',
      });
    }
    throw new NegativeAnswer(`no session ${session}: no sidecar and no saved log at ${join(sessionDirOf(settings, session), EGRESS_LOG_FILE)}`, {
      hint: 'drydock egress log with no argument picks the live session',
    });
  }
  let all: SessionView[];
  try {
    all = groupSessions(await docker.listSessionState());
  } catch (error) {
    const saved = savedSessions(settings);
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
    const saved = savedSessions(settings).slice(-5);
    throw new NegativeAnswer(`no live drydock session${opts.project === undefined ? '' : ` of project ${opts.project}`}`, {
      hint: saved.length ? `read a finished session's saved log: drydock egress log ${saved[saved.length - 1]} (saved: ${saved.join(', ')})` : 'start one with drydock run',
    });
  }
  if (only.egress) return { session: only.id, container: only.egress.name, project: only.project, observe: only.observe };
  const file = savedLogPath(settings, only.id);
  if (file) return fromFile(settings, only.id, file, only);
  throw new NegativeAnswer(`the live session ${only.id} has no egress proxy (${only.mode === 'dood' ? 'dood mode: nothing is filtered' : 'no sidecar'})`);
}

/** `egress log` (lib/commands/egress-log.ts): the refusal summary, or the decisions as JSON. */
export async function log(opts: EgressLogOptions, ctx: CommandContext, deps: EgressDeps = {}): Promise<CommandResult> {
  const settings = resolveSettings({ env: ctx.env, cwd: ctx.cwd });
  const runner = deps.runner ?? processRunner(settings.env);
  const docker = new Docker(runner);
  const source = await findSource(settings, docker, { session: opts.session });
  return logCommand({ opts, ctx, settings, docker, source, signal: deps.signal });
}

export async function suggest(opts: EgressSuggestOptions, ctx: CommandContext, deps: EgressDeps = {}): Promise<CommandResult> {
  const settings = resolveSettings({ env: ctx.env, cwd: ctx.cwd, project: opts.project });
  const docker = new Docker(deps.runner ?? processRunner(settings.env));
  const projectFilter = opts.project === undefined ? undefined : settings.project;
  const source = await findSource(settings, docker, { session: opts.session, project: projectFilter });
  const project = projectFilter ?? source.project ?? settings.project;
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

  const files = allowlistPathsFor(settings, project);
  const loaded = loadAllowlists({ files });
  for (const d of loaded.errors) ctx.err(`warning: ${formatDiagnostic(d)} (that line is ignored here)`);
  if (!source.observe) {
    ctx.err(`warning: ${source.session} was not an --observe session: its log shows only what the filter refused and what it already allowed; \`drydock run --observe\` records every destination`);
  }
  const suggestion = suggestAllowlist(
    [...destinations.values()],
    { collapse: opts.collapse === true, existing: loaded.entries },
  );
  const { global: globalList, project: projectList } = files;
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
