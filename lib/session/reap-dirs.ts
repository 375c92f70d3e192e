/**
 * gc's last step, whatever the target: each session directory it may remove keeps its logs in the
 * gc archive first, then goes; the archive is pruned once, not once per session. Each failure is
 * reported and the others still happen.
 */
import { rmSync } from 'node:fs';
import { errorMessage } from '../errors.js';
import { TOTAL_CAP as ARCHIVE_TOTAL_CAP, archiveDir, archiveSessionLogs, pruneArchive } from './archive.js';

export interface ReapedDirs {
  archived: string[];
  removedDirs: string[];
  failures: string[];
}

export function reapSessionDirs(options: {
  stateDir: string;
  dirs: ReadonlyArray<{ session: string; path: string }>;
  /** Called for each directory before its removal (compose: finish a crashed run's workspace guard). */
  beforeRemove?: (dir: { session: string; path: string }) => void;
}): ReapedDirs {
  const reaped: ReapedDirs = { archived: [], removedDirs: [], failures: [] };
  for (const dir of options.dirs) {
    options.beforeRemove?.(dir);
    try {
      const path = archiveSessionLogs({ stateDir: options.stateDir, session: dir.session, dir: dir.path, prune: false });
      if (path) reaped.archived.push(path);
      rmSync(dir.path, { recursive: true, force: true });
      reaped.removedDirs.push(dir.path);
    } catch (error) {
      reaped.failures.push(`could not remove session dir ${dir.path}: ${errorMessage(error)}`);
    }
  }
  if (reaped.archived.length > 0) {
    try {
      pruneArchive(archiveDir(options.stateDir), ARCHIVE_TOTAL_CAP);
    } catch (error) {
      reaped.failures.push(`could not prune the gc archive: ${errorMessage(error)}`);
    }
  }
  return reaped;
}
