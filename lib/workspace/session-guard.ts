/**
 * The workspace guard of one session, as `run` uses it: before the start, the read-only mounts and
 * a snapshot of the host-executable paths; after the teardown (when nothing can write any more), what
 * the session created or changed there, what was quarantined, and the setuid files and outward
 * symlinks it planted. Everything here reads the project; nothing it reads is run or trusted.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { writeFileAtomic } from '../fs-atomic.js';
import type { BindMount } from '../render/compose-types.js';
import { planWorkspaceGuard, type GuardMount, type PathInfo } from './guard-plan.js';
import { pathKind, realInside, scanWorkspace, type WorkspaceLayout } from './layout.js';
import { findPlanted, type PlantedEntry } from './planted.js';
import { moveToQuarantine, quarantineUnits, type Quarantined } from './quarantine.js';
import { diffSnapshots, takeSnapshot, watchedPaths, type Fingerprint, type Snapshot, type WorkspaceChange } from './snapshot.js';

export const WORKSPACE_MOUNT = '/workspace';
/** Inside the session directory: the empty dir behind placeholder mounts, and the saved start (for gc). */
export const GUARD_EMPTY_DIR = 'workspace-guard-empty';
export const GUARD_START_FILE = 'workspace-guard.json';
/**
 * Under the state dir, `quarantine/<session>/`: not inside the session directory, which gc removes
 * once the session is over — what was moved out of the project is the user's to review and delete.
 */
export const QUARANTINE_DIR = 'quarantine';

export function quarantineDirOf(stateDir: string, sessionId: string): string {
  return join(stateDir, QUARANTINE_DIR, sessionId);
}

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

/**
 * The start, saved in the session directory, so that `gc` can finish the guard of a session whose
 * `drydock run` died (kill -9, a crash) before it could. `run` removes it once it finished itself.
 */
export function saveGuardStart(start: WorkspaceGuardStart, sessionDir: string): void {
  const { snapshot, ...rest } = start;
  writeFileAtomic(join(sessionDir, GUARD_START_FILE), `${JSON.stringify({ version: 1, ...rest, snapshot: [...snapshot] })}\n`, 0o600);
}

export function loadGuardStart(sessionDir: string): WorkspaceGuardStart | undefined {
  const path = join(sessionDir, GUARD_START_FILE);
  if (!existsSync(path)) return undefined;
  const saved = JSON.parse(readFileSync(path, 'utf8')) as Omit<WorkspaceGuardStart, 'snapshot'> & { version: number; snapshot: Array<[string, Fingerprint]> };
  if (saved.version !== 1) return undefined;
  const { version: _version, snapshot, ...rest } = saved;
  return { ...rest, snapshot: new Map(snapshot) };
}

export function forgetGuardStart(sessionDir: string): void {
  rmSync(join(sessionDir, GUARD_START_FILE), { force: true });
}

/** After the teardown: what the session left among the host-executable paths, with the auto-run ones quarantined. */
export function finishWorkspaceGuard(start: WorkspaceGuardStart, options: { quarantineDir: string }): WorkspaceReport {
  removePlaceholders(start);
  const end = scanWorkspace(start.root);
  const paths = [...new Set([...watchedPaths(start.layout), ...watchedPaths(end)])];
  const changes = diffSnapshots(start.snapshot, takeSnapshot(start.root, paths));
  const units = start.enabled ? quarantineUnits({ changes, start: start.layout, end }) : [];
  const quarantined = moveToQuarantine({ root: start.root, units, into: options.quarantineDir });
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
