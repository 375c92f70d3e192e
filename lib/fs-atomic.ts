import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Write a file so that readers see the old content or the new, never half of it: a temp file in
 * the same directory (same filesystem, so rename is atomic), then rename over the target.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array, mode = 0o644): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, content, { mode });
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/**
 * Write several files as one step: every file is staged first and renamed only once all of them
 * were written, so a failure while writing leaves none of the new files behind. A rename that
 * fails (a target that became a directory, a vanished directory) stops the step: the files not
 * yet renamed stay as they were and no temp file is left; the error says which files were
 * already replaced.
 */
export function writeFilesAtomic(files: ReadonlyArray<{ path: string; content: string; mode?: number }>): void {
  const staged: Array<{ tmp: string; path: string }> = [];
  try {
    for (const file of files) {
      const dir = dirname(file.path);
      mkdirSync(dir, { recursive: true });
      const tmp = join(dir, `.${basename(file.path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      // Staged before the write: a write that fails halfway leaves a temp file to remove too.
      staged.push({ tmp, path: file.path });
      writeFileSync(tmp, file.content, { mode: file.mode ?? 0o644 });
    }
  } catch (error) {
    for (const s of staged) rmSync(s.tmp, { force: true });
    throw error;
  }
  for (let i = 0; i < staged.length; i++) {
    try {
      renameSync(staged[i]!.tmp, staged[i]!.path);
    } catch (error) {
      for (const s of staged.slice(i)) rmSync(s.tmp, { force: true });
      const done = staged.slice(0, i).map((s) => s.path);
      if (error instanceof Error) error.message += done.length ? ` (already replaced: ${done.join(', ')})` : ' (no file was replaced)';
      throw error;
    }
  }
}
