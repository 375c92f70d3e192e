/**
 * After a session: setuid/setgid files and symlinks leading out of the project that the session
 * created (a change time after the session started — the agent can set mtimes, not ctimes). A
 * setuid file is a way onto the host for whoever runs it; a symlink out of the project makes the
 * next tool that writes "inside the project" write a host file instead. Bounded walk, no symlink
 * followed.
 */
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { isWithin } from './trusted-paths.js';

export interface PlantedEntry {
  path: string;
  kind: 'setuid' | 'setgid' | 'symlink-out';
  /** setuid/setgid: the octal mode; symlink-out: the link's text. */
  detail: string;
}

export interface PlantedScan {
  found: PlantedEntry[];
  /** The walk stopped at its bound before it had seen everything. */
  truncated: boolean;
  entriesSeen: number;
}

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;

export function findPlanted(options: { root: string; sinceMs: number; maxEntries?: number }): PlantedScan {
  const max = options.maxEntries ?? 200_000;
  const found: PlantedEntry[] = [];
  const queue = [''];
  let seen = 0;
  while (queue.length > 0) {
    const rel = queue.shift()!;
    let names: string[];
    try {
      names = readdirSync(join(options.root, rel));
    } catch {
      continue;
    }
    for (const name of names) {
      if (++seen > max) return { found, truncated: true, entriesSeen: seen - 1 };
      const childRel = rel === '' ? name : posix.join(rel, name);
      const abs = join(options.root, childRel);
      let stat;
      try {
        stat = lstatSync(abs);
      } catch {
        continue;
      }
      if (stat.isDirectory()) {
        queue.push(childRel);
        continue;
      }
      if (stat.ctimeMs < options.sinceMs) continue;
      if (stat.isSymbolicLink()) {
        const target = readlinkSync(abs);
        if (!isWithin(resolve(dirname(abs), target), options.root)) found.push({ path: childRel, kind: 'symlink-out', detail: target });
      } else if (stat.isFile() && stat.mode & (S_ISUID | S_ISGID)) {
        const mode = (stat.mode & 0o7777).toString(8).padStart(4, '0');
        found.push({ path: childRel, kind: stat.mode & S_ISUID ? 'setuid' : 'setgid', detail: mode });
      }
    }
  }
  return { found: found.sort((a, b) => a.path.localeCompare(b.path)), truncated: false, entriesSeen: seen };
}
