/**
 * Auto-run paths that a session created where none existed (an `.envrc`, a `.vscode/`, a new git
 * dir's config or hooks, a `commondir`) must not stay in the project, where the host would run them
 * on the next `cd`, editor open or `git status`. They are moved into the session directory — kept
 * for the user to review, never run — and each move is reported. Which paths go is pure
 * (`quarantineUnits`); the move is the only I/O.
 */
import { cpSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { AUTORUN_PATHS, type WorkspaceLayout } from './layout.js';
import type { WorkspaceChange } from './snapshot.js';

export interface Quarantined {
  path: string;
  /** Where it is now (absolute), or why it could not be moved. */
  movedTo?: string;
  error?: string;
}

/** What a session must not leave behind in a git dir: git runs or follows these. */
const GIT_DIR_QUARANTINE = ['config', 'hooks', 'commondir', 'config.worktree'];
/** In a git dir that existed at the start only these can be created (config and hooks are read-only mounts). */
const GIT_DIR_QUARANTINE_EXISTING = ['commondir', 'config.worktree'];

/**
 * The top-level paths to move: for each created change, the auto-run path or git-dir entry it lies
 * in. A path inside a created directory moves with that directory.
 */
export function quarantineUnits(options: {
  changes: readonly WorkspaceChange[];
  start: Pick<WorkspaceLayout, 'gitDirs' | 'repoRoots'>;
  end: Pick<WorkspaceLayout, 'gitDirs' | 'repoRoots'>;
}): string[] {
  const startGitDirs = new Set(options.start.gitDirs);
  const units = new Set<string>();
  const roots = [...new Set([...options.start.repoRoots, ...options.end.repoRoots])];
  const gitDirs = [...new Set([...options.start.gitDirs, ...options.end.gitDirs])];
  for (const { path, change } of options.changes) {
    if (change !== 'created') continue;
    for (const root of roots) {
      for (const name of AUTORUN_PATHS) {
        const unit = root === '' ? name : posix.join(root, name);
        if (path === unit || path.startsWith(`${unit}/`)) units.add(unit);
      }
    }
    for (const gitDir of gitDirs) {
      const names = startGitDirs.has(gitDir) ? GIT_DIR_QUARANTINE_EXISTING : GIT_DIR_QUARANTINE;
      for (const name of names) {
        const unit = posix.join(gitDir, name);
        if (path === unit || path.startsWith(`${unit}/`)) units.add(unit);
      }
    }
  }
  // A unit inside another unit moves with it.
  const sorted = [...units].sort();
  return sorted.filter((u) => !sorted.some((other) => other !== u && u.startsWith(`${other}/`)));
}

/** Move each unit from the project into `<into>/<unit>`; a failure is reported, the rest still move. */
export function moveToQuarantine(options: { root: string; units: readonly string[]; into: string }): Quarantined[] {
  return options.units.map((unit) => {
    const from = join(options.root, unit);
    const to = join(options.into, unit);
    try {
      mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
      try {
        renameSync(from, to);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
        // Another filesystem: copy without following a single symlink, then remove the original.
        cpSync(from, to, { recursive: true, verbatimSymlinks: true, dereference: false, errorOnExist: true, force: false });
        rmSync(from, { recursive: true, force: true });
      }
      return { path: unit, movedTo: to };
    } catch (error) {
      return { path: unit, error: (error as Error).message };
    }
  });
}
