/** The session directories on disk, with what gc needs to know about each one's owner. */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { SessionDirState } from './gc-plan.js';
import { isSessionId } from './id.js';
import { readSessionMetadata, type SessionMetadata } from './metadata.js';

/** Is a process with this pid alive? EPERM means it exists but belongs to someone else. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function ownerOf(
  metadata: SessionMetadata | undefined,
  probe: { hostname: string; pidAlive: (pid: number) => boolean },
): SessionDirState['owner'] {
  if (!metadata) return 'unknown';
  if (metadata.endedAt) return 'dead';
  if (metadata.hostname !== probe.hostname) return 'unknown';
  return probe.pidAlive(metadata.pid) ? 'alive' : 'dead';
}

/** Directories whose name is not a session id are not drydock's and are left alone. */
export function scanSessionDirs(
  /** `<state>/sessions` (settings.dirs.sessions). */
  root: string,
  probe: { hostname: string; pidAlive: (pid: number) => boolean } = { hostname: hostname(), pidAlive },
): SessionDirState[] {
  let names: string[];
  try {
    names = readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && isSessionId(d.name))
      .map((d) => d.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names.sort().map((session) => {
    const path = join(root, session);
    const metadata = readSessionMetadata(path);
    const created = metadata ? Date.parse(metadata.createdAt) : Number.NaN;
    return {
      session,
      path,
      createdAtMs: Number.isNaN(created) ? statSync(path).mtimeMs : created,
      owner: ownerOf(metadata, probe),
    };
  });
}

/** An exclusive mkdir: true if this call created the session directory, false if it already existed. */
export function reserveSessionDir(dir: string): boolean {
  mkdirSync(dirname(dir), { recursive: true });
  try {
    mkdirSync(dir, { mode: 0o755 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}
