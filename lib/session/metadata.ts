/**
 * `<sessionDir>/session.json`: who started a session and when. Written atomically by `run` before
 * anything is created, so `gc` can tell a session that is still starting from a crashed one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs-atomic.js';

export const METADATA_FILE = 'session.json';
export const EGRESS_LOG_FILE = 'egress.log';
/** The same log as one JSON decision per line (lib/egress/decision.ts). */
export const EGRESS_DECISIONS_FILE = 'egress-decisions.jsonl';

export interface SessionMetadata {
  id: string;
  project: string;
  mode: 'contain' | 'dood';
  observe: boolean;
  /** ISO 8601. */
  createdAt: string;
  /** The `drydock run` process that owns the session, and the host it runs on. */
  pid: number;
  hostname: string;
  endedAt?: string;
  exitCode?: number;
}

export function writeSessionMetadata(dir: string, metadata: SessionMetadata): void {
  writeFileAtomic(join(dir, METADATA_FILE), `${JSON.stringify(metadata, null, 2)}\n`);
}

/** The metadata, or undefined when it is missing or not ours (never throws: gc must go on). */
export function readSessionMetadata(dir: string): SessionMetadata | undefined {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(join(dir, METADATA_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const m = value as Partial<SessionMetadata>;
  if (typeof m.id !== 'string' || typeof m.createdAt !== 'string' || typeof m.pid !== 'number') return undefined;
  return {
    id: m.id,
    project: typeof m.project === 'string' ? m.project : '',
    mode: m.mode === 'dood' ? 'dood' : 'contain',
    observe: m.observe === true,
    createdAt: m.createdAt,
    pid: m.pid,
    hostname: typeof m.hostname === 'string' ? m.hostname : '',
    endedAt: typeof m.endedAt === 'string' ? m.endedAt : undefined,
    exitCode: typeof m.exitCode === 'number' ? m.exitCode : undefined,
  };
}
