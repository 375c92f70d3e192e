/**
 * `drydock ls [--json]`: the running sessions, one line each: id, project, mode, age, and how many
 * requests its proxy refused so far (read from the sidecar's log by the egress log parser). One
 * container listing, then one `docker logs` per contained session, in parallel.
 */
import type { CommandContext, CommandResult } from '../context.js';
import { Docker } from '../docker/client.js';
import { processRunner, type CommandRunner } from '../docker/runner.js';
import { DrydockError, ExitCode } from '../errors.js';
import { EgressLogPipeline } from '../egress/log-pipeline.js';
import { groupSessions, type SessionView } from '../session/model.js';

export interface LsOptions {
  json?: boolean;
}

export interface LsDeps {
  runner?: CommandRunner;
  now?: () => number;
}

export interface SessionRow {
  id: string;
  project: string | null;
  mode: string;
  observe: boolean;
  /** Milliseconds since the agent container was created; null when docker did not say. */
  ageMs: number | null;
  /** Requests the proxy refused so far; null in dood mode (no proxy) or when its log was unreadable. */
  refusals: number | null;
  sidecar: string | null;
}

/** `42s`, `5m`, `3h12m`, `2d4h`. */
export function formatAge(ms: number | null): string {
  if (ms === null || ms < 0) return '?';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d${h % 24 ? `${h % 24}h` : ''}`;
}

export function sessionRow(view: SessionView, refusals: number | null, now: number): SessionRow {
  const created = view.agent?.createdAtMs;
  return {
    id: view.id,
    project: view.project ?? null,
    mode: view.mode ?? '?',
    observe: view.observe,
    ageMs: created === undefined ? null : now - created,
    refusals,
    sidecar: view.egress?.name ?? null,
  };
}

export function formatRows(rows: readonly SessionRow[]): string {
  if (rows.length === 0) return 'no running drydock session';
  const table = [
    ['SESSION', 'PROJECT', 'MODE', 'AGE', 'REFUSED'],
    ...rows.map((r) => [r.id, r.project ?? '?', r.observe ? `${r.mode} (observe)` : r.mode, formatAge(r.ageMs), r.refusals === null ? '-' : String(r.refusals)]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** How long `ls` reads one sidecar's log before counting what it has. */
const LS_LOG_READ_MS = 10_000;

async function refusalsOf(docker: Docker, view: SessionView): Promise<number | null> {
  if (!view.egress) return null;
  try {
    // Streamed and time-boxed: a flooded sidecar's log is counted in bounded memory, and never holds `ls` up for long.
    const pipeline = new EgressLogPipeline();
    const read = await docker.streamLogs(view.egress.name, { onLine: (text, time) => pipeline.line(text, time), timeoutMs: LS_LOG_READ_MS });
    if (read.outcome === 'gone') return null;
    return pipeline.end(read.outcome === 'complete').refused;
  } catch (error) {
    if (error instanceof DrydockError) return null;
    throw error;
  }
}

export async function ls(opts: LsOptions, ctx: CommandContext, deps: LsDeps = {}): Promise<CommandResult> {
  const docker = new Docker(deps.runner ?? processRunner(ctx.env));
  const now = (deps.now ?? Date.now)();
  const live = groupSessions(await docker.listSessionState()).filter((v) => v.live);
  const rows = await Promise.all(live.map(async (view) => sessionRow(view, await refusalsOf(docker, view), now)));
  if (!ctx.json && !opts.json) ctx.out(formatRows(rows));
  return { exitCode: ExitCode.Ok, data: { sessions: rows } };
}
