/**
 * `drydock allowlist add|remove ENTRY… [--project NAME | --global]`: change one user list, then
 * apply the result to every running session it affects, live (lib/live/). Thin: the edit, the
 * planner and the swap are pure or injected; this shell reads, locks, writes and prints.
 *
 * Order, so that nothing is half-done on bad input: lock; edit the text (parser-checked, exit 2 on
 * any error); list the running sessions; compile and check every affected session's new filter
 * with the new text (exit 2 if another of its lists is broken); only then write the list and swap
 * the sessions' filters. A session that cannot apply it keeps its previous filter or is stopped
 * closed, and the command says so and exits 3.
 */
import { resolverServersOf } from '../egress/address-floor.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { planListEdit, type ListEditOutcome } from '../allowlist/edit.js';
import { acquireLock } from '../allowlist/lock.js';
import { loadAllowlists, readFileIfExists } from '../allowlist/sources.js';
import type { AllowEntry } from '../allowlist/types.js';
import type { CommandContext, CommandResult } from '../context.js';
import { Docker } from '../docker/client.js';
import { processRunner, type CommandRunner } from '../docker/runner.js';
import { DrydockError, ExitCode, ExternalError, UsageError, errorMessage, type Diagnostic } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { proxyLimitsOf } from '../egress/tinyproxy-conf.js';
import { FILE_NAMES } from '../names.js';
import { applyGeneration, isFailure, prepareGeneration, type LiveOutcome } from '../live/apply.js';
import { planLiveUpdate, type ListScope, type LivePlan } from '../live/plan.js';
import { allowlistPathsFor, resolveSettings, sessionDirOf, type Settings } from '../settings.js';
import { groupSessions } from '../session/model.js';

export interface AllowlistEditOptions {
  entries: string[];
  project?: string;
  global?: boolean;
  json?: boolean;
}

export interface AllowlistEditDeps {
  runner?: CommandRunner;
}

export const LOCK_FILE = '.allowlist.lock';

function targetOf(opts: AllowlistEditOptions, settings: Settings): { path: string; scope: ListScope } {
  if (opts.global && opts.project !== undefined) {
    throw new UsageError('--global and --project name different lists: give one of them', { hint: 'drydock allowlist add --global HOST, or --project NAME HOST' });
  }
  const { global, project } = settings.allowlists;
  return opts.global ? { path: global, scope: { kind: 'global' } } : { path: project, scope: { kind: 'project', project: settings.project } };
}

function outcomeLine(op: 'add' | 'remove', path: string, o: ListEditOutcome): string {
  if (o.change === 'added') return `added ${o.entry} to ${path}`;
  if (o.change === 'removed') return `removed ${o.entry} from ${path}${o.note ? ` (${o.note})` : ''}`;
  return `${o.entry}: ${o.note ?? 'unchanged'}${op === 'add' ? ', not added again' : ''}`;
}

async function edit(op: 'add' | 'remove', opts: AllowlistEditOptions, ctx: CommandContext, deps: AllowlistEditDeps): Promise<CommandResult> {
  const settings = resolveSettings({ env: ctx.env, cwd: ctx.cwd, project: opts.project });
  const target = targetOf(opts, settings);
  const lock = await acquireLock(join(settings.dirs.config, LOCK_FILE));
  try {
    const before = readFileIfExists(target.path);
    const sources = loadAllowlists({ files: settings.allowlists });
    const others = sources.sources.filter((s) => s.path !== target.path);
    const plan = planListEdit({ op, entries: opts.entries, list: { path: target.path, text: before }, others });
    if (!plan.ok) {
      const n = plan.diagnostics.length;
      throw new UsageError(`nothing changed: ${n} problem${n === 1 ? '' : 's'} with \`drydock allowlist ${op}\``, {
        diagnostics: plan.diagnostics,
        hint: 'fix the entries above and run it again; neither the list nor any session was changed',
      });
    }
    for (const warning of plan.warnings) ctx.err(`warning: ${warning}`);

    // The running sessions this list affects, from one listing.
    const docker = new Docker(deps.runner ?? processRunner(settings.env));
    let live: LivePlan = { targets: [], skipped: [] };
    let engineError: string | undefined;
    try {
      live = planLiveUpdate(groupSessions(await docker.listSessionState()), target.scope);
    } catch (error) {
      if (!(error instanceof DrydockError)) throw error;
      engineError = error.message;
    }

    // Every affected session's new filter, compiled and checked before anything is written.
    const readFile = (path: string) => (path === target.path ? plan.text : readFileIfExists(path));
    const problems: Diagnostic[] = [];
    const prepared = live.targets.map((t) => {
      const loaded = loadAllowlists({ files: allowlistPathsFor(settings, t.project), readFile });
      problems.push(...loaded.errors);
      return { t, entries: loaded.entries as AllowEntry[] };
    });
    if (problems.length > 0) {
      throw new UsageError('nothing changed: a running session\'s allowlists have errors, so its new filter cannot be compiled', {
        diagnostics: problems,
        hint: 'fix the lines above; neither the list nor any session was changed',
      });
    }
    let generations;
    try {
      // Each session keeps the MaxClients/Timeout and the upstream resolvers it was started with.
      const own = <T>(session: string, file: string, read: (text: string) => T): T | undefined => {
        try {
          return read(readFileSync(join(sessionDirOf(settings, session), FILE_NAMES.egressDir, file), 'utf8'));
        } catch {
          return undefined;
        }
      };
      generations = prepared.map(({ t, entries }) => ({
        t,
        entries,
        egress: prepareGeneration(t, entries, {
          proxyLimits: own(t.session, FILE_NAMES.tinyproxyConf, proxyLimitsOf),
          resolverServers: own(t.session, FILE_NAMES.resolverConf, resolverServersOf),
        }),
      }));
    } catch (error) {
      throw new ExternalError(`nothing changed: ${errorMessage(error)}`, { hint: 'this is a drydock bug; please report it' });
    }

    if (plan.changed) writeFileAtomic(target.path, plan.text);
    for (const o of plan.outcomes) if (!ctx.json) ctx.out(outcomeLine(op, target.path, o));

    const outcomes: LiveOutcome[] = await Promise.all(
      generations.map(({ t, entries, egress }) =>
        applyGeneration({ docker, sessionDir: sessionDirOf(settings, t.session), target: t, egress, entries }).catch(
          (error): LiveOutcome => ({ session: t.session, status: 'failed', change: { added: [], removed: [] }, line: `${t.session}: NOT updated: ${errorMessage(error)} — check it with drydock egress log ${t.session}` }),
        ),
      ),
    );
    if (!ctx.json) {
      for (const o of outcomes) (isFailure(o) ? ctx.err : ctx.out)(`session ${o.line}`);
      for (const s of live.skipped) ctx.out(`session ${s.session}: not updated: ${s.reason}`);
      if (engineError) ctx.err(`drydock: could not list the running sessions (${engineError}): any running session was NOT updated`);
      else if (live.targets.length === 0 && live.skipped.length === 0) ctx.out(`no running session uses this list${target.scope.kind === 'project' ? ` (project ${target.scope.project})` : ''}; new sessions will`);
    }
    const failed = engineError !== undefined || outcomes.some(isFailure);
    return {
      exitCode: failed ? ExitCode.External : ExitCode.Ok,
      data: {
        op,
        list: target.path,
        scope: target.scope,
        changed: plan.changed,
        entries: plan.outcomes,
        sessions: outcomes.map(({ session, status, change, line, ms }) => ({ session, status, added: change.added, removed: change.removed, message: line, ms: ms ?? null })),
        skipped: live.skipped,
        engineError: engineError ?? null,
      },
    };
  } finally {
    lock.release();
  }
}

export function add(opts: AllowlistEditOptions, ctx: CommandContext, deps: AllowlistEditDeps = {}): Promise<CommandResult> {
  return edit('add', opts, ctx, deps);
}

export function remove(opts: AllowlistEditOptions, ctx: CommandContext, deps: AllowlistEditDeps = {}): Promise<CommandResult> {
  return edit('remove', opts, ctx, deps);
}

