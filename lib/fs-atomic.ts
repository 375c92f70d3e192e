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
 * were written, so a failure leaves none of the new files behind.
 */
export function writeFilesAtomic(files: ReadonlyArray<{ path: string; content: string; mode?: number }>): void {
  const staged: Array<{ tmp: string; path: string }> = [];
  try {
    for (const file of files) {
      const dir = dirname(file.path);
      mkdirSync(dir, { recursive: true });
      const tmp = join(dir, `.${basename(file.path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      writeFileSync(tmp, file.content, { mode: file.mode ?? 0o644 });
      staged.push({ tmp, path: file.path });
    }
  } catch (error) {
    for (const s of staged) rmSync(s.tmp, { force: true });
    throw error;
  }
  for (const s of staged) renameSync(s.tmp, s.path);
}
