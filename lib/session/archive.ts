/**
 * Before gc deletes a session directory, its logs go to a size-capped archive:
 * `$DRYDOCK_STATE_DIR/gc-archive/<session>.log`, the last 256 KiB of each session, and at most
 * 16 MiB in all (the oldest archives are dropped first). What was denied stays inspectable after
 * the session is gone without the state directory growing without bound.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describeRequest } from '../allowlist/match.js';
import { EgressLogPipeline } from '../egress/log-pipeline.js';
import { denialAction, type DenialSummary } from '../egress/refusals.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { escapeControls } from '../terminal-text.js';
import { readLinesSync } from './capped-file.js';
import { EGRESS_LOG_FILE, METADATA_FILE } from './metadata.js';

export const PER_SESSION_CAP = 256 * 1024;
export const TOTAL_CAP = 16 * 1024 * 1024;

export function archiveDir(stateDir: string): string {
  return join(stateDir, 'gc-archive');
}

/** The last `cap` bytes, starting at a line boundary so no line is cut in half. */
export function tailBytes(text: string, cap: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= cap) return text;
  const tail = bytes.subarray(bytes.length - cap).toString('utf8');
  const newline = tail.indexOf('\n');
  return newline >= 0 ? tail.slice(newline + 1) : tail;
}

export interface ArchivedFile {
  name: string;
  size: number;
  mtimeMs: number;
}

/** Which archive files to delete so the rest fit in `cap`: oldest first. Pure. */
export function planArchivePrune(files: readonly ArchivedFile[], cap: number): string[] {
  let total = files.reduce((sum, f) => sum + f.size, 0);
  const drop: string[] = [];
  for (const file of [...files].sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name))) {
    if (total <= cap) break;
    drop.push(file.name);
    total -= file.size;
  }
  return drop;
}

/** At most this many refused destinations are listed in an archive's header. */
const MAX_SUMMARY_LINES = 200;

/**
 * What the whole log refused, as header comment lines. The archive keeps only the log's tail, and
 * a long session's tail is mostly the sidecar's once-a-second healthcheck: without this summary
 * the refusals of the session's first hours would be lost. Escaped: the hosts came from the agent.
 */
function refusedSummary(denials: readonly DenialSummary[]): string {
  if (denials.length === 0) return '# refused: nothing\n';
  const lines = denials.slice(0, MAX_SUMMARY_LINES).map((d) => escapeControls(`# refused ${describeRequest(d)} ×${d.count} — ${denialAction(d)}`));
  if (denials.length > MAX_SUMMARY_LINES) lines.push(`# … and ${denials.length - MAX_SUMMARY_LINES} more refused destinations`);
  return `# refused over the whole session (the log below is its last part only):\n${lines.join('\n')}\n`;
}

/**
 * One pass over a log's lines: the refusal summary of all of them, and the last `cap` bytes of
 * them kept (a ring: never more than `cap` in memory, however long the log).
 */
function summariseAndTail(eachLine: (onLine: (line: string) => void) => void, cap: number): { denials: DenialSummary[]; tail: string[]; tailBytes: number } {
  const pipeline = new EgressLogPipeline();
  const tail: Array<{ line: string; bytes: number }> = [];
  let start = 0;
  let bytes = 0;
  eachLine((line) => {
    pipeline.line(line);
    const size = Buffer.byteLength(line) + 1;
    tail.push({ line, bytes: size });
    bytes += size;
    while (bytes > cap && start < tail.length) bytes -= tail[start++]!.bytes;
    if (start > 4096 && start * 2 > tail.length) {
      tail.splice(0, start);
      start = 0;
    }
  });
  return { denials: pipeline.end().destinations, tail: tail.slice(start).map((t) => t.line), tailBytes: bytes };
}

function assemble(options: { session: string; metadata?: string; cap?: number }, log: ReturnType<typeof summariseAndTail> | undefined, trailingNewline: boolean): string {
  const header = `# drydock session ${options.session}\n${(options.metadata ?? '').trim().replace(/^/gm, '# ')}\n${log ? refusedSummary(log.denials) : ''}`;
  if (!log) return header;
  const budget = Math.max(0, (options.cap ?? PER_SESSION_CAP) - Buffer.byteLength(header));
  const lines = log.tail;
  let bytes = log.tailBytes - (trailingNewline ? 0 : 1);
  let first = 0;
  while (bytes > budget && first < lines.length) bytes -= Buffer.byteLength(lines[first++]!) + 1;
  const kept = lines.slice(first).join('\n');
  return header + kept + (trailingNewline && kept !== '' ? '\n' : '');
}

/**
 * The archive text of one session dir: its metadata and what it refused as a header, then the tail
 * of its egress log.
 */
export function archiveText(options: { session: string; metadata?: string; egressLog?: string; cap?: number }): string | undefined {
  if (options.egressLog === undefined && options.metadata === undefined) return undefined;
  const text = options.egressLog;
  const log = text === undefined || text === '' ? undefined : summariseAndTail((onLine) => text.split('\n').forEach((l) => onLine(l)), options.cap ?? PER_SESSION_CAP);
  return assemble(options, log, false);
}

/** The same from a log file, streamed: a saved log of any size is read in bounded memory. */
export function archiveFileText(options: { session: string; metadata?: string; egressLogPath?: string; cap?: number }): string | undefined {
  const path = options.egressLogPath && existsSync(options.egressLogPath) ? options.egressLogPath : undefined;
  if (path === undefined && options.metadata === undefined) return undefined;
  const log = path ? summariseAndTail((onLine) => readLinesSync(path, onLine), options.cap ?? PER_SESSION_CAP) : undefined;
  return assemble(options, log, true);
}

const readIfThere = (path: string): string | undefined => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);

/**
 * Archive one session dir's logs (if it has any), then prune the archive to its total cap —
 * unless `prune: false`, for a caller archiving many sessions that prunes once at the end
 * (pruning lists and stats the whole archive: once per session would be quadratic).
 */
export function archiveSessionLogs(options: { stateDir: string; session: string; dir: string; totalCap?: number; prune?: boolean }): string | undefined {
  const text = archiveFileText({
    session: options.session,
    metadata: readIfThere(join(options.dir, METADATA_FILE)),
    egressLogPath: join(options.dir, EGRESS_LOG_FILE),
  });
  if (text === undefined) return undefined;
  const dir = archiveDir(options.stateDir);
  const path = join(dir, `${options.session}.log`);
  writeFileAtomic(path, text);
  if (options.prune !== false) pruneArchive(dir, options.totalCap ?? TOTAL_CAP);
  return path;
}

export function pruneArchive(dir: string, cap: number): string[] {
  const files: ArchivedFile[] = readdirSync(dir)
    .filter((name) => name.endsWith('.log'))
    .map((name) => {
      const stat = statSync(join(dir, name));
      return { name, size: stat.size, mtimeMs: stat.mtimeMs };
    });
  const drop = planArchivePrune(files, cap);
  for (const name of drop) rmSync(join(dir, name), { force: true });
  return drop;
}
