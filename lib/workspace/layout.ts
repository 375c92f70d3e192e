/**
 * What in a project directory the host runs by itself: git's config and hooks (a `core.fsmonitor`
 * runs on the next `git status`, a shell prompt's included), the editor and shell auto-run files,
 * and the build and CI files a user runs without reading. `scanWorkspace` finds them (bounded, never
 * following a symlink out of the project); the lists below are the one place that names them.
 */
import { lstatSync, readdirSync, readFileSync, realpathSync, type Dirent } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { isWithin } from './trusted-paths.js';

/** Files and dirs at a repository's root that an editor or shell runs on opening it. */
export const AUTORUN_PATHS = ['.envrc', '.vscode', '.idea', '.devcontainer'] as const;

/** Build and CI files the host runs (by hand or in CI): listed when the session created or changed them. */
export const HOST_EXECUTABLE_FILES = [
  'Makefile', 'makefile', 'GNUmakefile', 'package.json', 'justfile', 'Justfile', '.justfile', 'Taskfile.yml', 'Taskfile.yaml',
  '.pre-commit-config.yaml', '.gitlab-ci.yml', '.gitattributes', '.gitmodules', '.npmrc', '.yarnrc', '.yarnrc.yml',
  'pyproject.toml', 'setup.py', 'setup.cfg', 'tox.ini', 'noxfile.py', 'conftest.py', 'Dockerfile', 'compose.yaml',
  'compose.yml', 'docker-compose.yml', 'docker-compose.yaml', '.tool-versions', 'mise.toml', '.mise.toml',
] as const;
export const HOST_EXECUTABLE_DIRS = ['.github/workflows', '.husky', '.circleci', '.githooks'] as const;

/** Inside a git dir: what git runs or follows to another config (`commondir` names the dir whose config applies). */
export const GIT_DIR_EXECUTABLE = ['config', 'hooks', 'commondir', 'config.worktree'] as const;

/** Directories never descended into when looking for nested repositories: large, and never a repo root. */
const SKIPPED_DIRS = new Set(['node_modules', '.git', '.hg', '.svn', 'target', '.venv', 'venv', '__pycache__', '.cache']);

export interface WorkspaceLayout {
  /** The project directory with every symlink resolved. */
  root: string;
  /** Repository roots inside the project (relative; '' is the project itself), including ones without .git. */
  repoRoots: string[];
  /** Git directories inside the project (relative), from `.git` dirs, `.git` files, `modules/`, `worktrees/` and `commondir`. */
  gitDirs: string[];
  /** `.git` files (relative): they name the git dir that applies, so the agent must not rewrite them. */
  gitFiles: string[];
  /** Whether the search for nested repositories stopped at its bound. */
  truncated: boolean;
}

export interface ScanOptions {
  /** Directories looked at in the search for nested repositories. */
  maxDirs?: number;
  maxDepth?: number;
}

function kindOf(path: string): 'file' | 'dir' | 'symlink' | 'other' | undefined {
  try {
    const stat = lstatSync(path);
    return stat.isSymbolicLink() ? 'symlink' : stat.isFile() ? 'file' : stat.isDirectory() ? 'dir' : 'other';
  } catch {
    return undefined;
  }
}

/** The real path of an existing path if it lies inside `root`, else undefined. */
export function realInside(path: string, root: string): string | undefined {
  try {
    const real = realpathSync(path);
    return isWithin(real, root) ? real : undefined;
  } catch {
    return undefined;
  }
}

/** `gitdir: <path>` of a `.git` file, resolved against the file's directory. */
function gitFileTarget(file: string): string | undefined {
  try {
    const match = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(file, 'utf8').slice(0, 4096));
    return match ? resolve(dirname(file), match[1]!) : undefined;
  } catch {
    return undefined;
  }
}

function entriesOf(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** A git dir and the ones it leads to: `commondir`, submodules under `modules/`, linked worktrees. */
function collectGitDir(dir: string, root: string, into: Set<string>, budget: { dirs: number }): void {
  const real = realInside(dir, root);
  if (!real || into.has(real) || kindOf(real) !== 'dir') return;
  into.add(real);
  const common = (() => {
    try {
      return resolve(real, readFileSync(join(real, 'commondir'), 'utf8').trim());
    } catch {
      return undefined;
    }
  })();
  if (common) collectGitDir(common, root, into, budget);
  for (const nest of ['modules', 'worktrees']) {
    const queue = [join(real, nest)];
    while (queue.length > 0 && budget.dirs-- > 0) {
      const current = queue.shift()!;
      for (const entry of entriesOf(current)) {
        if (!entry.isDirectory()) continue;
        const child = join(current, entry.name);
        // A git dir has HEAD; a dir under modules/ without one is a path component of a nested name.
        if (kindOf(join(child, 'HEAD')) === 'file') collectGitDir(child, root, into, budget);
        else if (nest === 'modules') queue.push(child);
      }
    }
  }
}

export function scanWorkspace(projectDir: string, options: ScanOptions = {}): WorkspaceLayout {
  const root = realpathSync(projectDir);
  const maxDepth = options.maxDepth ?? 4;
  const budget = { dirs: options.maxDirs ?? 5_000 };
  const gitDirs = new Set<string>();
  const gitFiles: string[] = [];
  const repoRoots = new Set<string>(['']);
  let truncated = false;
  const queue: Array<{ dir: string; depth: number }> = [{ dir: root, depth: 0 }];
  while (queue.length > 0) {
    const { dir, depth } = queue.shift()!;
    const entries = entriesOf(dir);
    for (const entry of entries) {
      if (entry.name !== '.git') continue;
      repoRoots.add(relative(root, dir));
      const path = join(dir, '.git');
      if (entry.isDirectory()) collectGitDir(path, root, gitDirs, budget);
      else if (entry.isFile()) {
        gitFiles.push(relative(root, path));
        const target = gitFileTarget(path);
        if (target) collectGitDir(target, root, gitDirs, budget);
      }
    }
    for (const entry of entries) {
      if (!entry.isDirectory() || SKIPPED_DIRS.has(entry.name)) continue;
      if (depth + 1 > maxDepth || budget.dirs <= 0) {
        truncated = true;
        continue;
      }
      budget.dirs--;
      queue.push({ dir: join(dir, entry.name), depth: depth + 1 });
    }
  }
  return {
    root,
    repoRoots: [...repoRoots].sort(),
    gitDirs: [...gitDirs].map((d) => relative(root, d)).sort(),
    gitFiles: gitFiles.sort(),
    truncated,
  };
}

export { kindOf as pathKind };
