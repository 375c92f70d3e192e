/**
 * Which running sessions a change to one allowlist affects, and what it changes in each. Pure:
 * decided from one listing of the engine (lib/session/model.ts).
 *   global list   every running contained session, whatever its project
 *   project list  the running contained sessions of that project
 * A dood session has no filter and an --observe session filters nothing: both are named as not
 * updated, never silently passed over. A session whose sidecar is not running cannot be updated.
 */
import type { SessionView } from '../session/model.js';

export type ListScope = { kind: 'global' } | { kind: 'project'; project: string };

export interface LiveTarget {
  session: string;
  project: string;
  sidecar: string;
}

export interface LivePlan {
  targets: LiveTarget[];
  /** Running sessions in scope that are not updated, each with the reason. */
  skipped: Array<{ session: string; reason: string }>;
}

export function inScope(scope: ListScope, project: string | undefined): boolean {
  return scope.kind === 'global' || project === scope.project;
}

export function planLiveUpdate(sessions: readonly SessionView[], scope: ListScope): LivePlan {
  const plan: LivePlan = { targets: [], skipped: [] };
  for (const view of sessions) {
    if (!view.live || !inScope(scope, view.project)) continue;
    if (view.mode === 'dood') {
      plan.skipped.push({ session: view.id, reason: 'dood mode: no egress filter to update' });
    } else if (view.observe) {
      plan.skipped.push({ session: view.id, reason: 'observe mode: nothing is filtered, so nothing to update' });
    } else if (!view.egress) {
      plan.skipped.push({ session: view.id, reason: 'no sidecar found: its agent has no egress at all' });
    } else if (!['running', 'paused', 'restarting'].includes(view.egress.state)) {
      // Paused or restarting: it will run again with whatever filter it holds, so it is a target
      // (the update then fails and says so, or the restart reads the new files).
      plan.skipped.push({ session: view.id, reason: `its sidecar is ${view.egress.state}: the agent has no egress until it runs again` });
    } else if (view.project === undefined) {
      plan.skipped.push({ session: view.id, reason: 'its containers carry no project label: drydock cannot tell which lists apply' });
    } else {
      plan.targets.push({ session: view.id, project: view.project, sidecar: view.egress.name });
    }
  }
  return plan;
}

export interface EntryChange {
  added: string[];
  removed: string[];
}

/** What a session gains and loses, by canonical entry text. */
export function entryChange(before: readonly string[], after: readonly string[]): EntryChange {
  const was = new Set(before);
  const now = new Set(after);
  return { added: after.filter((e) => !was.has(e)), removed: before.filter((e) => !now.has(e)) };
}

export function describeChange(change: EntryChange): string {
  const parts = [...change.added.map((e) => `+${e}`), ...change.removed.map((e) => `-${e}`)];
  return parts.length === 0 ? 'no change' : parts.join(' ');
}
