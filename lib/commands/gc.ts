/**
 * `drydock gc`: reap what crashed sessions left behind. Plans from one snapshot (lib/session/
 * gc-plan.ts) and acts with a constant number of docker calls: one `rm -f` with every container,
 * one `network rm` with every network, however many sessions there are.
 */
import { rmSync } from 'node:fs';
import type { CommandContext, CommandResult, Env } from '../context.js';
import { Docker } from '../docker/client.js';
import { processRunner, type CommandRunner } from '../docker/runner.js';
import { ExitCode, UsageError, errorMessage } from '../errors.js';
import { TOTAL_CAP as ARCHIVE_TOTAL_CAP, archiveDir, archiveSessionLogs, pruneArchive } from '../session/archive.js';
import { scanSessionDirs } from '../session/dirs.js';
import { DEFAULT_GRACE_MS, isEmptyPlan, planGc, type GcPlan, type SessionDirState } from '../session/gc-plan.js';
import { systemClock, type Clock } from '../session/signals.js';
import { removeObjects } from '../session/removal.js';

export interface GcOptions {
  dryRun?: boolean;
  json?: boolean;
  /** compose (the default) or kubernetes. */
  target?: string;
}

export interface GcDeps {
  runner?: CommandRunner;
  clock?: Clock;
  /** The session dirs on disk (default: scan `$DRYDOCK_STATE_DIR/sessions`). */
  scanDirs?: () => SessionDirState[];
}

/**
 * `DRYDOCK_GC_GRACE_SECONDS`: how long a session whose owner cannot be seen (no session.json on this
 * host) counts as still starting. Default 300.
 */
export function graceMs(env: Env): number {
  const raw = env.DRYDOCK_GC_GRACE_SECONDS;
  if (raw === undefined || raw === '') return DEFAULT_GRACE_MS;
  if (!/^[0-9]{1,7}$/.test(raw)) {
    throw new UsageError(`DRYDOCK_GC_GRACE_SECONDS: "${raw}" is not a whole number of seconds`, { hint: 'set it to e.g. 300, or unset it' });
  }
  return Number(raw) * 1000;
}

export function formatPlan(plan: GcPlan): string {
  if (isEmptyPlan(plan)) {
    if (!plan.kept.length) return 'nothing to collect';
    return ['nothing to collect', ...plan.kept.map((k) => `keep ${k.session}: ${k.reason}`)].join('\n');
  }
  const lines: string[] = [];
  for (const c of plan.containers) lines.push(`remove container ${c.name} (${c.session}: ${c.reason})`);
  for (const n of plan.networks) lines.push(`remove network ${n.name} (${n.session}: ${n.reason})`);
  for (const d of plan.dirs) lines.push(`remove session dir ${d.path} (${d.reason}; logs archived first)`);
  for (const k of plan.kept) lines.push(`keep ${k.session}: ${k.reason}`);
  return lines.join('\n');
}

export async function gc(opts: GcOptions, ctx: CommandContext, deps: GcDeps = {}): Promise<CommandResult> {
  if (opts.target === 'kubernetes') return (await import('../kubernetes/gc.js')).gcKubernetes(opts, ctx, deps);
  const grace = graceMs(ctx.env);
  const docker = new Docker(deps.runner ?? processRunner(ctx.env));
  const clock = deps.clock ?? systemClock;
  const state = await docker.listSessionState();
  const dirs = (deps.scanDirs ?? (() => scanSessionDirs(ctx.env)))();
  const plan = planGc({ ...state, dirs, now: clock.now() }, { graceMs: grace });

  if (opts.dryRun) {
    if (!ctx.json) ctx.out(formatPlan(plan));
    return { exitCode: ExitCode.Ok, data: { dryRun: true, plan } };
  }

  const removal = await removeObjects({ docker, containers: plan.containers, networks: plan.networks });
  const failures = [...removal.failures];
  const archived: string[] = [];
  const removedDirs: string[] = [];
  for (const dir of plan.dirs) {
    try {
      const path = archiveSessionLogs({ env: ctx.env, session: dir.session, dir: dir.path, prune: false });
      if (path) archived.push(path);
      rmSync(dir.path, { recursive: true, force: true });
      removedDirs.push(dir.path);
    } catch (error) {
      failures.push(`could not remove session dir ${dir.path}: ${errorMessage(error)}`);
    }
  }

  if (archived.length > 0) {
    try {
      pruneArchive(archiveDir(ctx.env), ARCHIVE_TOTAL_CAP);
    } catch (error) {
      failures.push(`could not prune the gc archive: ${errorMessage(error)}`);
    }
  }

  if (!ctx.json) {
    if (isEmptyPlan(plan)) ctx.out(formatPlan(plan));
    else {
      ctx.out(
        `removed ${removal.removedContainers.length} container(s), ${removal.removedNetworks.length} network(s), ` +
          `${removedDirs.length} session dir(s)${archived.length ? `; logs kept in ${archiveDir(ctx.env)}` : ''}`,
      );
      for (const k of plan.kept) ctx.out(`kept ${k.session}: ${k.reason}`);
    }
    for (const f of failures) ctx.err(`drydock: ${f}`);
  }
  return {
    exitCode: failures.length ? ExitCode.External : ExitCode.Ok,
    data: {
      dryRun: false,
      plan,
      removed: { containers: removal.removedContainers, networks: removal.removedNetworks, dirs: removedDirs },
      archived,
      failures,
    },
  };
}
