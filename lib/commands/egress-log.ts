/**
 * `drydock egress log`'s output, rendered from the typed decisions as the log streams past:
 *   (default)        the refusal summary: each refused destination once, its count and its line
 *   --follow         each refused destination the first time it is seen, as the sidecar writes it
 *   --json           ONE document of the `--json` contract (lib/output.ts), written as it is read:
 *                    `data.decisions` holds one decision per line, then the summary; the document
 *                    is never held whole in memory, whatever the log's length
 *   --follow --json  one JSON decision per line (JSON Lines), for as long as it follows: a stream
 *                    that has no end cannot be one document
 */
import type { CommandContext, CommandResult } from '../context.js';
import type { Docker } from '../docker/client.js';
import { DrydockError, ExitCode, NegativeAnswer } from '../errors.js';
import type { Decision } from '../egress/decision.js';
import { EgressLogPipeline } from '../egress/log-pipeline.js';
import { MAX_DESTINATIONS, formatDenialSummary, formatRefusal } from '../egress/refusals.js';
import { decisionContext } from '../session/save-log.js';
import { allowlistHintFiles, type Settings } from '../settings.js';
import { safeJsonStringify } from '../terminal-text.js';
import type { RefusalReport } from '../egress/refusals.js';
import { readLinesSync } from '../session/capped-file.js';
import type { EgressLogOptions, LogSource } from './egress.js';

/**
 * Every line of the source through `pipeline`, never the whole log at once: the sidecar's
 * `docker logs` (followed, with `follow`), else the saved file. False when it was cut short.
 */
export async function readThrough(docker: Docker, source: LogSource, pipeline: EgressLogPipeline, opts: { follow?: boolean; signal?: AbortSignal } = {}): Promise<boolean> {
  if (source.container) {
    const read = await docker.streamLogs(source.container, { onLine: (text, time) => pipeline.line(text, time), follow: opts.follow, signal: opts.signal });
    if (read.outcome !== 'gone') return read.outcome === 'complete' || (opts.follow === true && read.outcome === 'aborted');
  }
  if (source.file) {
    readLinesSync(source.file, (line) => pipeline.line(line));
    return true;
  }
  throw new NegativeAnswer(`the sidecar of ${source.session} disappeared before its log could be read`);
}

export function denialsData(source: LogSource, report: RefusalReport) {
  return {
    session: source.session,
    source: source.container ? { container: source.container } : { file: source.file },
    observe: source.observe,
    allowed: report.allowed,
    denials: report.destinations,
    refusals: report,
  };
}

interface LogCommand {
  opts: EgressLogOptions;
  ctx: CommandContext;
  settings: Settings;
  docker: Docker;
  source: LogSource;
  signal?: AbortSignal;
}

export async function logCommand(c: LogCommand): Promise<CommandResult> {
  const { ctx, source } = c;
  const json = c.opts.json === true || ctx.json;
  const following = c.opts.follow === true && source.container !== undefined;
  if (json && following) return jsonLines(c);
  if (json) return jsonDocument(c);

  const seen = new Set<string>();
  const onDecision = following
    ? (d: Decision) => {
        if (d.action !== 'denied' || d.host === '') return;
        const key = `${d.protocol} ${d.host.toLowerCase()} ${d.port}`;
        if (seen.has(key)) return;
        if (seen.size >= MAX_DESTINATIONS) seen.clear(); // bounded: a name-per-request flood may repeat a line
        seen.add(key);
        ctx.out(formatRefusal(d, source.project));
      }
    : undefined;
  const pipeline = new EgressLogPipeline({ onDecision }, following ? contextOf(c) : undefined);
  if (following) ctx.err(`following ${source.container} (Ctrl-C to stop)`);
  else if (c.opts.follow) ctx.err(`${source.session} has ended; showing its saved log`);
  const report = pipeline.end(await readThrough(c.docker, source, pipeline, { follow: following, signal: c.signal }));
  if (!following) {
    const from = source.container ? `sidecar ${source.container}` : source.file;
    ctx.err(`${source.session} (${from}): ${report.allowed} request(s) allowed${source.observe ? ' — OBSERVE mode, nothing was filtered' : ''}`);
    ctx.out(formatDenialSummary(report.destinations, allowlistHintFiles(c.settings, source.project), report) || `the proxy refused nothing in ${source.session}`);
  }
  return { exitCode: ExitCode.Ok, data: denialsData(source, report) };
}

function contextOf(c: LogCommand) {
  return decisionContext(c.settings, { id: c.source.session, project: c.source.project ?? c.settings.project, observe: c.source.observe });
}

async function jsonLines(c: LogCommand): Promise<CommandResult> {
  const pipeline = new EgressLogPipeline({ onDecision: (d) => c.ctx.out(safeJsonStringify(d)) }, contextOf(c));
  pipeline.end(await readThrough(c.docker, c.source, pipeline, { follow: true, signal: c.signal }));
  return { exitCode: ExitCode.Ok, streamed: true };
}

/**
 * The contract's document, streamed: `data` first (its decisions one per line), then `ok`,
 * `exitCode` and `error`, which are known only at the end. A failure after the first line still
 * closes the document, with the error in it.
 */
async function jsonDocument(c: LogCommand): Promise<CommandResult> {
  const { ctx, source } = c;
  const head = safeJsonStringify({ session: source.session, source: source.container ? { container: source.container } : { file: source.file }, observe: source.observe });
  ctx.out(`{"data": ${head.slice(0, -1)}, "decisions": [`);
  let held: string | undefined;
  const pipeline = new EgressLogPipeline({
    onDecision: (d) => {
      if (held !== undefined) ctx.out(`${held},`);
      held = safeJsonStringify(d);
    },
  }, contextOf(c));
  let failure: DrydockError | undefined;
  let complete = false;
  try {
    complete = await readThrough(c.docker, source, pipeline, { signal: c.signal });
  } catch (error) {
    if (!(error instanceof DrydockError)) throw error;
    failure = error;
  }
  const report = pipeline.end(complete);
  if (held !== undefined) ctx.out(held);
  const tail = safeJsonStringify({ allowed: report.allowed, denials: report.destinations, refusals: report });
  const exitCode = failure ? failure.exitCode : ExitCode.Ok;
  const error = failure ? { kind: failure.name, message: failure.message, hint: failure.hint, diagnostics: failure.diagnostics } : null;
  ctx.out(`], ${tail.slice(1)}, "ok": ${exitCode === 0}, "exitCode": ${exitCode}, "error": ${safeJsonStringify(error)}}`);
  return { exitCode, streamed: true };
}
