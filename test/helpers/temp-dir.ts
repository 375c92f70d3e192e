/**
 * Temp dirs for tests, removed when the test that made one ends, passed or failed (or, made outside
 * a test — at a file's top level or in beforeAll — when its file ends: temp-dir-setup.ts). Every
 * name starts with `drydock-`, the prefix the tier's leak check (temp-guard.ts) looks for.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

const fileScoped: string[] = [];

export interface TempDirOptions {
  /** The parent directory (default: the OS temp dir, which each tier points at its own root). */
  under?: string;
}

function remove(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** `<tmp>/drydock-<name>-XXXXXX`, created now, gone when the current test (else file) ends. */
export function tempDir(name: string, options: TempDirOptions = {}): string {
  const dir = mkdtempSync(join(options.under ?? tmpdir(), `drydock-${name}-`));
  try {
    onTestFinished(() => remove(dir));
  } catch {
    // Not inside a test (or its beforeEach): the dir lives as long as its file.
    fileScoped.push(dir);
  }
  return dir;
}

/** Called after each file (temp-dir-setup.ts): the file-scoped dirs go. */
export function removeFileTempDirs(): void {
  for (const dir of fileScoped.splice(0)) remove(dir);
}
