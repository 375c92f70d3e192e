/**
 * Keeping a session's proxy log at teardown: the sidecar's `docker logs` streamed once, in bounded
 * memory, into `egress.log` (the raw log, size-capped: its first part and its last part) and
 * `egress-decisions.jsonl` (one JSON decision per line, capped the same way), while the refusal
 * summary is computed. Time-boxed: a log that cannot be read in time is cut there, and teardown goes
 * on to remove the session whatever the reading did.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadAllowlists } from '../allowlist/sources.js';
import type { Docker } from '../docker/client.js';
import { DrydockError, errorMessage } from '../errors.js';
import { allowlistPathsFor, type Settings } from '../settings.js';
import type { DecisionContext } from '../egress/decision.js';
import { EgressLogPipeline } from '../egress/log-pipeline.js';
import type { RefusalReport } from '../egress/refusals.js';
import { safeJsonStringify } from '../terminal-text.js';
import { CappedLineFile, formatBytes, type CappedFileResult } from './capped-file.js';
import { EGRESS_DECISIONS_FILE, EGRESS_LOG_FILE } from './metadata.js';

import { DEFAULT_LOG_CAP, DEFAULT_LOG_READ_MS } from './log-limits.js';

export { DEFAULT_LOG_CAP, DEFAULT_LOG_READ_MS } from './log-limits.js';

/** What a session's decisions are explained with: its project's allowlists as they are now. */
export function decisionContext(settings: Pick<Settings, 'allowlists'>, session: { id: string; project: string; observe: boolean }): DecisionContext {
  const files = allowlistPathsFor(settings, session.project);
  const loaded = loadAllowlists({ files });
  return { session: session.id, entries: loaded.entries, projectList: files.project, observe: session.observe };
}

/** Lines kept for the "sidecar never became healthy" message. */
const LAST_LINES = 10;

export interface SavedLog {
  /** `egress.log`, when the session dir existed and the sidecar had a log. */
  path?: string;
  decisionsPath?: string;
  /** What the log refused; undefined when the sidecar was already gone. */
  refusals?: RefusalReport;
  /** The log's last lines (raw: escape before printing). */
  lastLines: string[];
  /** Set when the cap left part of the log out of the saved files. */
  omitted?: { lines: number; bytes: number };
  error?: string;
}

/** Where a proxy's log is read from: the docker adapter, or the kubectl one (lib/kubernetes/teardown.ts). */
export type LogSource = Pick<Docker, 'streamLogs'>;

export interface SaveLogOptions {
  docker: LogSource;
  /** The log's name in messages (the sidecar container, or the proxy Pod). */
  container: string;
  dir?: string;
  /** For the decisions file; without it only egress.log is written. */
  decisions?: DecisionContext;
  maxBytes?: number;
  timeoutMs?: number;
  /** Stops the reading early (a second Ctrl-C): removal still follows. */
  signal?: AbortSignal;
}

const marker = (what: string) => (o: { lines: number; bytes: number }) =>
  `# drydock: ${o.lines} lines (${formatBytes(o.bytes)}) of ${what} left out here: the file keeps its first and last part only`;
const decisionsMarker = (o: { lines: number }) =>
  safeJsonStringify({ truncated: true, omittedDecisions: o.lines, note: 'the cap was reached: later decisions are not in this file; egress.log keeps the end of the log' });

/** The sidecar's (or proxy Pod's) log into the session dir, never held whole in memory. */
export async function saveEgressLog(options: SaveLogOptions): Promise<SavedLog> {
  const maxBytes = options.maxBytes ?? DEFAULT_LOG_CAP;
  const dir = options.dir && existsSync(options.dir) ? options.dir : undefined;
  let raw: CappedLineFile | undefined;
  let decisions: CappedLineFile | undefined;
  try {
    raw = dir ? new CappedLineFile(join(dir, EGRESS_LOG_FILE), { maxBytes }) : undefined;
    // The decisions file keeps the session's first decisions; egress.log keeps the log's end as well.
    decisions = dir && options.decisions ? new CappedLineFile(join(dir, EGRESS_DECISIONS_FILE), { maxBytes, tailBytes: 0 }) : undefined;
  } catch (error) {
    raw?.discard();
    raw = undefined;
    return { lastLines: [], error: `could not save the sidecar's log in ${options.dir}: ${errorMessage(error)}`, ...(await summaryOnly(options)) };
  }
  const last: string[] = [];
  const pipeline = new EgressLogPipeline(
    {
      onLine: (line) => {
        raw?.write(line);
        if (last.push(line.replace(/^\d{4}-\d\d-\d\dT\S+ /, '')) > LAST_LINES) last.shift();
      },
      onDecision: decisions ? (d) => decisions!.write(safeJsonStringify(d)) : undefined,
      wantsDecisions: () => {
        if (!decisions?.full) return true;
        decisions.omit();
        return false;
      },
    },
    options.decisions,
  );
  let outcome;
  try {
    outcome = await options.docker.streamLogs(options.container, {
      onLine: (text, time) => pipeline.line(text, time),
      timeoutMs: options.timeoutMs ?? DEFAULT_LOG_READ_MS,
      signal: options.signal,
    });
  } catch (error) {
    raw?.discard();
    decisions?.discard();
    if (!(error instanceof DrydockError)) throw error;
    return { lastLines: last, error: `could not read the sidecar's log (${options.container}): ${errorMessage(error).split('\n')[0]}` };
  }
  if (outcome.outcome === 'gone') {
    raw?.discard();
    decisions?.discard();
    return { lastLines: [] };
  }
  const complete = outcome.outcome === 'complete';
  const refusals = pipeline.end(complete);
  const saved: SavedLog = { refusals, lastLines: last };
  if (!complete) {
    const why = outcome.outcome === 'timed_out' ? `after ${Math.round((options.timeoutMs ?? DEFAULT_LOG_READ_MS) / 1000)} s` : 'when asked to stop';
    saved.error = `stopped reading the sidecar's log ${why} (${outcome.lines} lines read); what was read is saved and summarised`;
  }
  try {
    let result: CappedFileResult | undefined;
    if (raw) {
      if (!complete) raw.write(`# drydock: the log was read ${outcome.outcome === 'timed_out' ? 'until the time limit' : 'until stopped'}: the rest of it is not here`);
      result = raw.finish(marker('the log'));
      saved.path = result.path;
    }
    if (decisions) saved.decisionsPath = decisions.finish(decisionsMarker).path;
    if (result && result.omittedLines > 0) saved.omitted = { lines: result.omittedLines, bytes: result.omittedBytes };
  } catch (error) {
    raw?.discard();
    decisions?.discard();
    saved.error = `could not save the sidecar's log to ${join(dir!, EGRESS_LOG_FILE)}: ${errorMessage(error)}`;
  }
  return saved;
}

/** The summary without files, for a session dir that cannot be written. */
async function summaryOnly(options: SaveLogOptions): Promise<Pick<SavedLog, 'refusals'>> {
  const pipeline = new EgressLogPipeline();
  try {
    const outcome = await options.docker.streamLogs(options.container, {
      onLine: (text, time) => pipeline.line(text, time),
      timeoutMs: options.timeoutMs ?? DEFAULT_LOG_READ_MS,
      signal: options.signal,
    });
    return outcome.outcome === 'gone' ? {} : { refusals: pipeline.end(outcome.outcome === 'complete') };
  } catch (error) {
    if (!(error instanceof DrydockError)) throw error;
    return {};
  }
}
