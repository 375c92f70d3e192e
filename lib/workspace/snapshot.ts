/**
 * Fingerprints of the host-executable paths of a project, taken when a session starts and again
 * after it ended, so drydock can say what the session created or changed among the files the host
 * runs by itself. Taking a snapshot reads files (bounded); comparing two is pure.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import { AUTORUN_PATHS, GIT_DIR_EXECUTABLE, HOST_EXECUTABLE_DIRS, HOST_EXECUTABLE_FILES, type WorkspaceLayout } from './layout.js';

export interface Fingerprint {
  kind: 'file' | 'dir' | 'symlink' | 'other';
  /** A digest of the content (files), the link text (symlinks), or '' (dirs). */
  digest: string;
  /** package.json: each script's digest, so a change can name the scripts. */
  scripts?: Record<string, string>;
}

export type Snapshot = Map<string, Fingerprint>;

export interface WorkspaceChange {
  /** Project-relative path, POSIX separators. */
  path: string;
  change: 'created' | 'changed';
  /** package.json: the scripts added, removed or changed. */
  scripts?: string[];
}

/** Files larger than this are fingerprinted by size and mtime only. */
const HASHED_BYTES = 4 * 1024 * 1024;
/** Entries listed inside one watched directory at most. */
const DIR_ENTRIES = 2_000;

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function scriptsOf(text: string): Record<string, string> | undefined {
  try {
    const scripts = (JSON.parse(text) as { scripts?: unknown }).scripts;
    if (scripts === undefined) return {};
    if (typeof scripts !== 'object' || scripts === null) return undefined;
    return Object.fromEntries(Object.entries(scripts).map(([name, body]) => [name, sha(JSON.stringify(body))]));
  } catch {
    return undefined;
  }
}

function fingerprint(abs: string, rel: string): Fingerprint | undefined {
  let stat;
  try {
    stat = lstatSync(abs);
  } catch {
    return undefined;
  }
  if (stat.isSymbolicLink()) return { kind: 'symlink', digest: sha(readlinkSync(abs)) };
  if (stat.isDirectory()) return { kind: 'dir', digest: '' };
  if (!stat.isFile()) return { kind: 'other', digest: `${stat.mode}` };
  if (stat.size > HASHED_BYTES) return { kind: 'file', digest: `size ${stat.size} mtime ${stat.mtimeMs} mode ${stat.mode}` };
  const content = readFileSync(abs);
  // The mode counts too: a hook or script made executable is a change.
  const fp: Fingerprint = { kind: 'file', digest: `${sha(content)} mode ${stat.mode & 0o7777}` };
  if (posix.basename(rel) === 'package.json') {
    const scripts = scriptsOf(content.toString('utf8'));
    if (scripts) Object.assign(fp, { digest: sha(JSON.stringify(scripts)), scripts });
  }
  return fp;
}

/** A path and, for a directory, everything below it (bounded), never following a symlink. */
function record(root: string, rel: string, into: Snapshot): void {
  const fp = fingerprint(join(root, rel), rel);
  if (!fp) return;
  into.set(rel, fp);
  if (fp.kind !== 'dir') return;
  const queue = [rel];
  let listed = 0;
  while (queue.length > 0 && listed < DIR_ENTRIES) {
    const dir = queue.shift()!;
    let names: string[];
    try {
      names = readdirSync(join(root, dir)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (++listed > DIR_ENTRIES) break;
      const childRel = posix.join(dir, name);
      const child = fingerprint(join(root, childRel), childRel);
      if (!child) continue;
      into.set(childRel, child);
      if (child.kind === 'dir') queue.push(childRel);
    }
  }
}

/** The host-executable paths of every repository root and git dir in the layout. */
export function watchedPaths(layout: Pick<WorkspaceLayout, 'repoRoots' | 'gitDirs'>): string[] {
  const paths = new Set<string>();
  for (const root of layout.repoRoots) {
    for (const name of [...AUTORUN_PATHS, ...HOST_EXECUTABLE_FILES, ...HOST_EXECUTABLE_DIRS]) paths.add(posix.join(root || '.', name).replace(/^\.\//, ''));
    paths.add(posix.join(root || '.', '.git').replace(/^\.\//, ''));
  }
  for (const gitDir of layout.gitDirs) for (const name of GIT_DIR_EXECUTABLE) paths.add(posix.join(gitDir, name));
  return [...paths].sort();
}

export function takeSnapshot(root: string, paths: readonly string[]): Snapshot {
  const snapshot: Snapshot = new Map();
  for (const rel of paths) {
    // A `.git` is watched for being created or replaced, not for what is inside (objects change on every commit).
    if (posix.basename(rel) === '.git') {
      const fp = fingerprint(join(root, rel), rel);
      if (fp) snapshot.set(rel, fp);
    } else record(root, rel, snapshot);
  }
  return snapshot;
}

function changedScripts(before: Fingerprint, after: Fingerprint): string[] | undefined {
  if (!before.scripts || !after.scripts) return undefined;
  const names = new Set([...Object.keys(before.scripts), ...Object.keys(after.scripts)]);
  return [...names].filter((n) => before.scripts![n] !== after.scripts![n]).sort();
}

/** What is new or different in `after`; directories count only when they are new. Sorted by path. */
export function diffSnapshots(before: Snapshot, after: Snapshot): WorkspaceChange[] {
  const changes: WorkspaceChange[] = [];
  for (const [path, fp] of after) {
    const old = before.get(path);
    if (!old) {
      changes.push({ path, change: 'created' });
    } else if (old.kind !== fp.kind || old.digest !== fp.digest) {
      if (fp.kind === 'dir' && old.kind === 'dir') continue;
      const scripts = changedScripts(old, fp);
      changes.push(scripts ? { path, change: 'changed', scripts } : { path, change: 'changed' });
    }
  }
  return changes.sort((a, b) => a.path.localeCompare(b.path));
}
