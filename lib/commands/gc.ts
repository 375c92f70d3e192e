/**
 * `drydock gc`: reap what crashed sessions left behind. Plans from one snapshot (lib/session/
 * gc-plan.ts) and acts with a constant number of docker calls: one `rm -f` with every container,
 * one `network rm` with every network, however many sessions there are.
 */
import type { CommandContext, CommandResult } from '../context.js';
import { Docker } from '../docker/client.js';
import { processRunner, type CommandRunner } from '../docker/runner.js';
import { ExitCode } from '../errors.js';
import { archiveDir } from '../session/archive.js';
import { scanSessionDirs } from '../session/dirs.js';
import { isEmptyPlan, planGc, type GcPlan, type SessionDirState } from '../session/gc-plan.js';
import { systemClock, type Clock } from '../clock.js';
import { removeObjects } from '../session/removal.js';
import { reapSessionDirs } from '../session/reap-dirs.js';
import { requireSettings, resolveSettings } from '../settings.js';
import { finishCrashedGuard, type CrashedGuardReport } from '../workspace/gc-finish.js';

export interface GcOptions {
  dryRun?: boolean;
  json?: boolean;
  /** compose (the default) or kubernetes. */
  target?: string;
}

export interface GcDeps {
  runner?: CommandRunner;
  clock?: Clock;
  /** The session dirs on disk (default: scan `<state dir>/sessions`). */
  scanDirs?: () => SessionDirState[];
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
  const settings = resolveSettings({ env: ctx.env, cwd: ctx.cwd });
  requireSettings(settings, 'gcGrace');
  const grace = settings.gcGraceMs;
  const docker = new Docker(deps.runner ?? processRunner(settings.env));
  const clock = deps.clock ?? systemClock;
  const state = await docker.listSessionState();
  const dirs = (deps.scanDirs ?? (() => scanSessionDirs(settings.dirs.sessions)))();
  const plan = planGc({ ...state, dirs, now: clock.now() }, { graceMs: grace });

  if (opts.dryRun) {
    if (!ctx.json) ctx.out(formatPlan(plan));
    return { exitCode: ExitCode.Ok, data: { dryRun: true, plan } };
  }

  const removal = await removeObjects({ docker, containers: plan.containers, networks: plan.networks });
  const failures = [...removal.failures];
  const workspace: CrashedGuardReport[] = [];
  const { archived, removedDirs, failures: dirFailures } = reapSessionDirs({
    stateDir: settings.dirs.state,
    dirs: plan.dirs,
    // Its run died before it could look at the project: do it now, the agent is gone.
    beforeRemove: (dir) => {
      const finished = finishCrashedGuard({ session: dir.session, sessionDir: dir.path, stateDir: settings.dirs.state });
      if (!finished) return;
      workspace.push(finished);
      if (!ctx.json) for (const line of finished.lines) ctx.err(line);
    },
  });
  failures.push(...dirFailures);

  if (!ctx.json) {
    if (isEmptyPlan(plan)) ctx.out(formatPlan(plan));
    else {
      ctx.out(
        `removed ${removal.removedContainers.length} container(s), ${removal.removedNetworks.length} network(s), ` +
          `${removedDirs.length} session dir(s)${archived.length ? `; logs kept in ${archiveDir(settings.dirs.state)}` : ''}`,
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
      workspace,
      failures,
    },
  };
}
