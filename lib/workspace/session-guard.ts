/**
 * The workspace guard of one session, as `run` uses it: before the start, the read-only mounts and
 * a snapshot of the host-executable paths; after the teardown (when nothing can write any more), what
 * the session created or changed there, what was quarantined, and the setuid files and outward
 * symlinks it planted. Everything here reads the project; nothing it reads is run or trusted.
 */
import { lstatSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import type { BindMount } from '../render/compose-types.js';
import { planWorkspaceGuard, type GuardMount, type PathInfo } from './guard-plan.js';
import { pathKind, realInside, scanWorkspace, type WorkspaceLayout } from './layout.js';
import { findPlanted, type PlantedEntry } from './planted.js';
import { moveToQuarantine, quarantineUnits, type Quarantined } from './quarantine.js';
import { diffSnapshots, takeSnapshot, watchedPaths, type Snapshot, type WorkspaceChange } from './snapshot.js';

export const WORKSPACE_MOUNT = '/workspace';
/** Inside the session directory: the empty dir behind placeholder mounts, and where quarantined paths go. */
export const GUARD_EMPTY_DIR = 'workspace-guard-empty';
export const QUARANTINE_DIR = 'quarantine';

export interface WorkspaceGuardStart {
  enabled: boolean;
  root: string;
  layout: WorkspaceLayout;
  mounts: GuardMount[];
  snapshot: Snapshot;
  startedMs: number;
}

export interface WorkspaceReport {
  guarded: boolean;
  protectedPaths: string[];
  changes: WorkspaceChange[];
  quarantined: Quarantined[];
  planted: PlantedEntry[];
  /** Bounds that were hit, one line each (the report is then incomplete). */
  incomplete: string[];
}

function infoAt(root: string): (rel: string) => PathInfo {
  return (rel) => {
    const abs = join(root, rel);
    const kind = pathKind(abs);
    if (kind === undefined) return undefined;
    if (kind !== 'symlink') return { kind };
    const real = realInside(abs, root);
    return real === undefined ? { kind } : { kind, realRel: relative(root, real) };
  };
}

/** Scan the project, plan the guard and take the starting snapshot. `enabled: false` still snapshots (the report is kept). */
export function startWorkspaceGuard(options: { projectDir: string; enabled: boolean; nowMs: number }): WorkspaceGuardStart {
  const layout = scanWorkspace(options.projectDir);
  const mounts = options.enabled ? planWorkspaceGuard(layout, infoAt(layout.root)) : [];
  return {
    enabled: options.enabled,
    root: layout.root,
    layout,
    mounts,
    snapshot: takeSnapshot(layout.root, watchedPaths(layout)),
    // ctime has whole-second precision on some filesystems: a second of slack, never less.
    startedMs: options.nowMs - 1_000,
  };
}

/** The guard's mounts as compose bind mounts; placeholders bind an empty dir of the session. */
export function guardBindMounts(start: WorkspaceGuardStart, options: { projectDir: string; sessionDir: string }): BindMount[] {
  const empty = join(options.sessionDir, GUARD_EMPTY_DIR);
  if (start.mounts.some((m) => m.placeholder)) mkdirSync(empty, { recursive: true, mode: 0o555 });
  return start.mounts.map((m) => ({
    type: 'bind',
    // Under the project path as /workspace mounts it (the render's invariant compares the two).
    source: m.placeholder ? empty : join(options.projectDir, m.rel),
    target: posix.join(WORKSPACE_MOUNT, m.rel),
    ...(m.readOnly ? { read_only: true } : {}),
  }));
}

/** A placeholder's mount point is an empty dir the engine made on the host: it goes again. */
function removePlaceholders(start: WorkspaceGuardStart): void {
  for (const m of start.mounts) {
    if (!m.placeholder) continue;
    const abs = join(start.root, m.rel);
    try {
      if (lstatSync(abs).isDirectory() && readdirSync(abs).length === 0) rmdirSync(abs);
    } catch {
      // Gone already, or not empty (then the diff reports it).
    }
  }
}

/** After the teardown: what the session left among the host-executable paths, with the auto-run ones quarantined. */
export function finishWorkspaceGuard(start: WorkspaceGuardStart, options: { sessionDir: string }): WorkspaceReport {
  removePlaceholders(start);
  const end = scanWorkspace(start.root);
  const paths = [...new Set([...watchedPaths(start.layout), ...watchedPaths(end)])];
  const changes = diffSnapshots(start.snapshot, takeSnapshot(start.root, paths));
  const units = start.enabled ? quarantineUnits({ changes, start: start.layout, end }) : [];
  const quarantined = moveToQuarantine({ root: start.root, units, into: join(options.sessionDir, QUARANTINE_DIR) });
  const planted = findPlanted({ root: start.root, sinceMs: start.startedMs });
  const incomplete: string[] = [];
  if (start.layout.truncated || end.truncated) incomplete.push('the search for nested repositories stopped at its bound (depth 4, 5,000 directories)');
  if (planted.truncated) incomplete.push(`the scan for setuid files and outward symlinks stopped after ${planted.entriesSeen} entries`);
  return {
    guarded: start.enabled,
    protectedPaths: start.mounts.filter((m) => m.readOnly).map((m) => m.rel),
    changes,
    quarantined,
    planted: planted.found,
    incomplete,
  };
}
