/**
 * What `drydock gc` would reap, decided from one snapshot: one container listing, one network
 * listing, the session directories on disk, and the time. Pure: no docker, no fs.
 *
 * A session is protected (nothing of it is touched) while the `drydock run` that owns it is alive
 * (it may be building the image or waiting for the sidecar), or while its agent is up and its owner
 * is not known to be dead, or, when the owner cannot be known, within the grace period after it was
 * created. The agent container runs a keepalive (`sleep infinity`) and the command is `docker exec`ed
 * into it, so after `kill -9` of `drydock run` the agent stays "running" with nobody attached: when
 * session.json says the owner is dead, a running agent does not protect the session. A running
 * sidecar alone protects nothing either: without its agent it is an orphan.
 */
import type { ContainerRecord, NetworkRecord } from '../docker/listing.js';
import { containersOf, groupSessions, type SessionView } from './model.js';

export interface SessionDirState {
  session: string;
  path: string;
  /** When the directory (or its session.json) was created, ms since the epoch. */
  createdAtMs?: number;
  /** The owning `drydock run`: alive on this host, dead, or not knowable (no metadata, other host). */
  owner: 'alive' | 'dead' | 'unknown';
}

export interface GcState {
  containers: ContainerRecord[];
  networks: NetworkRecord[];
  dirs: SessionDirState[];
  now: number;
}

export interface GcPlan {
  containers: Array<{ id: string; name: string; session: string; reason: string }>;
  networks: Array<{ id: string; name: string; session: string; reason: string }>;
  dirs: Array<{ session: string; path: string; reason: string }>;
  kept: Array<{ session: string; reason: string }>;
}

/** Long enough for a run whose owner we cannot see to pull images and pass the healthcheck. */
export const DEFAULT_GRACE_MS = 5 * 60_000;

function protection(view: SessionView | undefined, dir: SessionDirState | undefined, now: number, graceMs: number): string | undefined {
  if (dir?.owner === 'alive') return 'its drydock run is still alive';
  if (dir?.owner === 'dead') return undefined;
  if (view?.live) return `agent ${view.agent?.name} is ${view.agent?.state}`;
  const times = [dir?.createdAtMs, ...(view ? containersOf(view).map((c) => c.createdAtMs) : [])].filter(
    (t): t is number => t !== undefined,
  );
  const newest = times.length ? Math.max(...times) : undefined;
  if (newest !== undefined && now - newest < graceMs) {
    return `created ${Math.round((now - newest) / 1000)}s ago, may still be starting (grace ${Math.round(graceMs / 1000)}s)`;
  }
  return undefined;
}

function orphanReason(view: SessionView, dir: SessionDirState | undefined): string {
  if (!view.agent) return 'its agent is gone';
  if (view.live && dir?.owner === 'dead') return `its drydock run is gone (agent ${view.agent.name} left ${view.agent.state})`;
  return `its agent ${view.agent.name} is ${view.agent.state}`;
}

export function planGc(state: GcState, options: { graceMs?: number } = {}): GcPlan {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const views = new Map(groupSessions({ containers: state.containers, networks: state.networks }).map((v) => [v.id, v]));
  const dirs = new Map(state.dirs.map((d) => [d.session, d]));
  const plan: GcPlan = { containers: [], networks: [], dirs: [], kept: [] };
  const ids = [...new Set([...views.keys(), ...dirs.keys()])].sort();

  for (const session of ids) {
    const view = views.get(session);
    const dir = dirs.get(session);
    const keep = protection(view, dir, state.now, graceMs);
    if (keep) {
      plan.kept.push({ session, reason: keep });
      continue;
    }
    if (view) {
      const reason = orphanReason(view, dir);
      for (const c of containersOf(view)) plan.containers.push({ id: c.id, name: c.name, session, reason });
      for (const n of view.networks) plan.networks.push({ id: n.id, name: n.name, session, reason });
    }
    if (dir) plan.dirs.push({ session, path: dir.path, reason: view ? orphanReason(view, dir) : 'no container of it is left' });
  }
  return plan;
}

export function isEmptyPlan(plan: GcPlan): boolean {
  return plan.containers.length === 0 && plan.networks.length === 0 && plan.dirs.length === 0;
}
