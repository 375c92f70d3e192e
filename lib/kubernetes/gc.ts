/**
 * `drydock gc --target kubernetes`: reap the session namespaces crashed runs left on kubectl's
 * current context. Planned (pure, `planKubernetesGc`) from one namespace listing, one listing of
 * agent Pods and the session directories on disk, with compose's rules: a session is kept while
 * its `drydock run` is alive, or — when its owner cannot be known (another machine, no
 * session.json) — while its agent runs or within the grace period. Deleted by label in one call.
 */
import type { CommandContext, CommandResult } from '../context.js';
import { systemClock } from '../clock.js';
import type { GcDeps, GcOptions } from '../commands/gc.js';
import { processRunner } from '../docker/runner.js';
import { ExitCode } from '../errors.js';
import { archiveDir } from '../session/archive.js';
import { reapSessionDirs } from '../session/reap-dirs.js';
import { scanSessionDirs } from '../session/dirs.js';
import type { SessionDirState } from '../session/gc-plan.js';
import { Kubectl, type NamespaceRecord } from './kubectl.js';
import { requireSettings, resolveSettings } from '../settings.js';
import { deleteSessions } from './teardown.js';

export interface KubernetesGcPlan {
  namespaces: Array<{ name: string; session: string; reason: string }>;
  dirs: Array<{ session: string; path: string }>;
  kept: Array<{ session: string; reason: string }>;
}

export function planKubernetesGc(state: {
  namespaces: NamespaceRecord[];
  runningAgents: string[];
  dirs: SessionDirState[];
  now: number;
  graceMs: number;
}): KubernetesGcPlan {
  const dirs = new Map(state.dirs.map((d) => [d.session, d]));
  const plan: KubernetesGcPlan = { namespaces: [], dirs: [], kept: [] };
  for (const ns of state.namespaces) {
    if (ns.terminating) continue;
    const dir = dirs.get(ns.session);
    let reason: string | undefined;
    if (dir?.owner === 'alive') {
      plan.kept.push({ session: ns.session, reason: 'its drydock run is still alive' });
      continue;
    }
    if (dir?.owner === 'dead') reason = 'its drydock run is gone';
    else if (state.runningAgents.includes(ns.session)) {
      plan.kept.push({ session: ns.session, reason: 'its agent Pod is running and its owner is not known' });
      continue;
    } else {
      const created = [dir?.createdAtMs, ns.createdAtMs].filter((t): t is number => t !== undefined);
      const newest = created.length ? Math.max(...created) : undefined;
      if (newest !== undefined && state.now - newest < state.graceMs) {
        plan.kept.push({ session: ns.session, reason: `created ${Math.round((state.now - newest) / 1000)}s ago, may still be starting (grace ${Math.round(state.graceMs / 1000)}s)` });
        continue;
      }
      reason = 'its agent Pod is not running';
    }
    plan.namespaces.push({ name: ns.name, session: ns.session, reason });
    if (dir) plan.dirs.push({ session: ns.session, path: dir.path });
  }
  return plan;
}

export function formatKubernetesPlan(plan: KubernetesGcPlan): string {
  const lines = [
    ...plan.namespaces.map((n) => `remove namespace ${n.name} (${n.session}: ${n.reason})`),
    ...plan.dirs.map((d) => `remove session dir ${d.path} (logs archived first)`),
    ...plan.kept.map((k) => `keep ${k.session}: ${k.reason}`),
  ];
  return plan.namespaces.length === 0 ? ['nothing to collect', ...lines].join('\n') : lines.join('\n');
}

export async function gcKubernetes(opts: GcOptions, ctx: CommandContext, deps: GcDeps = {}): Promise<CommandResult> {
  const settings = resolveSettings({ env: ctx.env, cwd: ctx.cwd });
  requireSettings(settings, 'gcGrace');
  const grace = settings.gcGraceMs;
  const kubectl = new Kubectl(deps.runner ?? processRunner(settings.env));
  const context = await kubectl.pinCurrentContext();
  const clock = deps.clock ?? systemClock;
  const namespaces = await kubectl.listSessionNamespaces();
  const runningAgents = await kubectl.runningAgentSessions();
  const dirs = (deps.scanDirs ?? (() => scanSessionDirs(settings.dirs.sessions)))();
  const plan = planKubernetesGc({ namespaces, runningAgents, dirs, now: clock.now(), graceMs: grace });

  if (opts.dryRun) {
    if (!ctx.json) ctx.out(formatKubernetesPlan(plan));
    return { exitCode: ExitCode.Ok, data: { target: 'kubernetes', context, dryRun: true, plan } };
  }
  const failures = await deleteSessions(kubectl, plan.namespaces.map((n) => n.session));
  // A session dir goes only with its namespace: if the delete failed, the next gc still finds both.
  const removedNamespaces = failures.length ? [] : plan.namespaces.map((n) => n.name);
  const { archived, removedDirs, failures: dirFailures } = reapSessionDirs({ stateDir: settings.dirs.state, dirs: failures.length ? [] : plan.dirs });
  failures.push(...dirFailures);
  if (!ctx.json) {
    if (plan.namespaces.length === 0) ctx.out(formatKubernetesPlan(plan));
    else {
      ctx.out(`removed ${removedNamespaces.length} namespace(s) on context ${context}, ${removedDirs.length} session dir(s)${archived.length ? `; logs kept in ${archiveDir(settings.dirs.state)}` : ''}`);
      for (const k of plan.kept) ctx.out(`kept ${k.session}: ${k.reason}`);
    }
    for (const f of failures) ctx.err(`drydock: ${f}`);
  }
  return {
    exitCode: failures.length ? ExitCode.External : ExitCode.Ok,
    data: { target: 'kubernetes', context, dryRun: false, plan, removed: { namespaces: removedNamespaces, dirs: removedDirs }, archived, failures },
  };
}
