/**
 * Compose v1 is a Python program: `docker-compose version` costs 0.5–0.8 s of interpreter start-up
 * on a 2-core machine, and `run` asked it at every start only to learn the version string it shows
 * in the banner. This remembers that string, keyed by the identity of the file PATH resolves
 * `docker-compose` to (device, inode, size, mtime, ctime, real path), in the state dir.
 *
 * What it can and cannot decide (fail closed):
 * - It never chooses WHICH program runs: `up` always runs the `docker-compose` PATH finds at that
 *   moment, and the v2 plugin (`docker compose version`, a fast Go call) is still asked first.
 * - Any replacement of that file changes its inode or ctime (which no user can set back), so the
 *   next start asks the new binary; a cache it cannot read, an entry for another file, or a PATH it
 *   cannot resolve for certain (a relative or empty entry depends on the cwd) means: ask.
 * - A cached answer skips only the version question; a binary that broke since then fails at `up`
 *   like any compose failure (exit 3, the session torn down).
 * - Only a parsed version of an unchanged file is stored (the identity is read before and after
 *   the probe), written atomically; the state dir is one the agent cannot write (trusted-paths).
 */
import { accessSync, constants, readFileSync, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { writeFileAtomic } from '../fs-atomic.js';

export interface BinaryIdentity {
  path: string;
  realPath: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export interface CachedComposeVersion {
  identity: BinaryIdentity;
  version: string;
}

/** The adapter detectCompose uses: the identity of the binary now, and the stored entry. */
export interface ComposeVersionCache {
  identify(): BinaryIdentity | undefined;
  read(): CachedComposeVersion | undefined;
  write(entry: CachedComposeVersion): void;
}

const KEYS = ['path', 'realPath', 'dev', 'ino', 'size', 'mtimeMs', 'ctimeMs'] as const;

export function sameBinary(a: BinaryIdentity, b: BinaryIdentity): boolean {
  return KEYS.every((k) => a[k] === b[k]);
}

/** What parseComposeVersion can return: digits first, then only version characters. */
const VERSION = /^\d+\.\d+(?:\.\d+)?[0-9A-Za-z.+-]*$/;

/**
 * The file execvp would run for `program` with this PATH: the first entry holding an executable
 * regular file. Undefined when that cannot be said without the cwd (a relative or empty entry
 * before it) or nothing is found.
 */
export function resolveOnPath(program: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) return undefined;
    const candidate = join(dir, program);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      continue;
    }
  }
  return undefined;
}

export function identifyBinary(path: string): BinaryIdentity | undefined {
  try {
    const realPath = realpathSync(path);
    const st = statSync(realPath);
    return { path, realPath, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
  } catch {
    return undefined;
  }
}

function parseEntry(text: string): CachedComposeVersion | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const entry = doc as { v?: unknown; version?: unknown; identity?: Record<string, unknown> };
  if (entry?.v !== 1 || typeof entry.version !== 'string' || !VERSION.test(entry.version) || !entry.identity) return undefined;
  const id = entry.identity;
  if (typeof id.path !== 'string' || typeof id.realPath !== 'string') return undefined;
  if (!KEYS.slice(2).every((k) => typeof id[k] === 'number' && Number.isFinite(id[k]))) return undefined;
  return { version: entry.version, identity: Object.fromEntries(KEYS.map((k) => [k, id[k]])) as unknown as BinaryIdentity };
}

/** The real cache: one small JSON file (the state dir's `compose-version.json`), for `docker-compose` on this PATH. */
export function fileComposeCache(options: { file: string; pathVar: string | undefined }): ComposeVersionCache {
  return {
    identify() {
      const path = resolveOnPath('docker-compose', options.pathVar);
      return path === undefined ? undefined : identifyBinary(path);
    },
    read() {
      try {
        return parseEntry(readFileSync(options.file, 'utf8'));
      } catch {
        return undefined;
      }
    },
    write(entry) {
      if (!VERSION.test(entry.version)) return;
      try {
        writeFileAtomic(options.file, `${JSON.stringify({ v: 1, version: entry.version, identity: entry.identity })}\n`);
      } catch {
        // Best effort: a state dir we cannot write means the next start asks again.
      }
    },
  };
}
