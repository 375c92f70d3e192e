/**
 * Which paths of the project the agent sees read-only, as a pure function of the project's layout.
 * The agent must still be able to commit (objects, refs, the index and HEAD stay writable), so a git
 * dir is mounted writable — which also makes it a mount point the agent cannot rename away and
 * replace with a copy — and its config, hooks, commondir and config.worktree are mounted read-only
 * on top. The auto-run files at each repository root (.envrc, .vscode/, …) that exist are read-only.
 */
import { posix } from 'node:path';
import { AUTORUN_PATHS, type WorkspaceLayout } from './layout.js';

export type PathKind = 'file' | 'dir' | 'symlink' | 'other';

/** What is at a project-relative path: its kind, and for a symlink where it really leads inside the project. */
export type PathInfo = { kind: PathKind; realRel?: string } | undefined;

export interface GuardMount {
  /** Project-relative path (POSIX separators) of what is mounted, and where under /workspace. */
  rel: string;
  readOnly: boolean;
  /** Mount an empty read-only directory here: the path does not exist, and must not be created. */
  placeholder?: boolean;
  why: string;
}

const join = (...parts: string[]) => posix.join(...parts.filter((p) => p !== ''));

export function planWorkspaceGuard(layout: Pick<WorkspaceLayout, 'gitDirs' | 'gitFiles' | 'repoRoots'>, info: (rel: string) => PathInfo): GuardMount[] {
  const mounts = new Map<string, GuardMount>();
  const add = (mount: GuardMount) => {
    // '' is /workspace itself (a bare repository as the project): its own mount already exists.
    if (mount.rel !== '' && !mounts.has(mount.rel)) mounts.set(mount.rel, mount);
  };
  /** A real file or dir is mounted where it is; a symlink inside the project, where it leads; anything else not at all. */
  const protect = (rel: string, why: string) => {
    const at = info(rel);
    if (at?.kind === 'file' || at?.kind === 'dir') add({ rel, readOnly: true, why });
    else if (at?.kind === 'symlink' && at.realRel !== undefined && at.realRel !== '') {
      const real = info(at.realRel);
      if (real?.kind === 'file' || real?.kind === 'dir') add({ rel: at.realRel, readOnly: true, why: `${why} (via ${rel})` });
    }
  };
  for (const gitDir of layout.gitDirs) {
    add({ rel: gitDir, readOnly: false, why: 'git dir (a mount point, so it cannot be swapped for a copy)' });
    protect(join(gitDir, 'config'), 'git config (core.fsmonitor, core.hooksPath, aliases run on the host)');
    protect(join(gitDir, 'commondir'), 'git commondir (names the config that applies)');
    protect(join(gitDir, 'config.worktree'), 'git worktree config');
    if (info(join(gitDir, 'hooks')) === undefined) add({ rel: join(gitDir, 'hooks'), readOnly: true, placeholder: true, why: 'git hooks (none yet: kept empty)' });
    else protect(join(gitDir, 'hooks'), 'git hooks');
  }
  for (const gitFile of layout.gitFiles) protect(gitFile, '.git file (names the git dir that applies)');
  for (const root of layout.repoRoots) for (const name of AUTORUN_PATHS) protect(join(root, name), 'runs when an editor or shell opens the folder');
  // Parents before children, so each mount lands on top of the one that contains it.
  return [...mounts.values()].sort((a, b) => a.rel.split('/').length - b.rel.split('/').length || a.rel.localeCompare(b.rel));
}
