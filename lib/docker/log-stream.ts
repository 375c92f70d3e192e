/**
 * A container's log, line by line, in bounded memory: `docker logs --timestamps` with both of its
 * streams handed to callbacks (never collected), merged back into the order they were written,
 * time-boxed, abortable. The reader never holds more than a window of lines, however long the log.
 */
import { dockerFailure, isEngineUnreachable, isNoSuchObject, programMissing } from './failure.js';
import type { CommandRunner } from './runner.js';

const STAMPED = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ?(.*)$/s;

/** Fixed-width fractional seconds so that string order is time order (docker trims trailing zeros). */
export function normaliseTime(time: string): string {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$/.exec(time);
  if (!match) return time;
  return `${match[1]}.${(match[2] ?? '').padEnd(9, '0')}${match[3]}`;
}

interface Queued {
  key: string;
  time: string;
  text: string;
}

/** How many lines one stream may run ahead of the other before its oldest line is let through. */
export const MERGE_WINDOW = 4096;

/**
 * docker writes a container's stdout and stderr to two pipes; each is in time order, and the two
 * drift apart by at most what the pipes buffer. So a line is released once the other stream has
 * shown a later (or equal) time or has ended — or, to stay bounded, once its own stream holds
 * MERGE_WINDOW lines. On equal times stdout goes first. A line without a stamp keeps the time of
 * the stamped line before it in its own stream.
 */
export class StreamMerger {
  private readonly queues: [Queued[], Queued[]] = [[], []];
  private readonly heads = [0, 0];
  private readonly last = ['', ''];
  private readonly ended = [false, false];
  private flushing = false;
  /** The most lines ever held at once (for the bounded-memory test). */
  highWater = 0;

  constructor(private readonly emit: (text: string, time: string | undefined) => void, private readonly window = MERGE_WINDOW) {}

  push(stream: 0 | 1, line: string): void {
    const match = STAMPED.exec(line);
    let time = this.last[stream]!;
    if (match) time = this.last[stream] = match[1]!;
    this.queues[stream].push({ key: match ? normaliseTime(match[1]!) : this.keyOf(stream), time, text: match ? match[2]! : line });
    this.drain();
  }

  end(stream: 0 | 1): void {
    this.ended[stream] = true;
    this.drain();
  }

  /**
   * Release every queued line now, in time order. While following a live log one stream may stay
   * silent for good (tinyproxy writes only to stderr): without this its lines would wait for the
   * merge window to fill. The follower calls it once the log has been quiet for a moment.
   */
  flush(): void {
    this.flushing = true;
    this.drain();
    this.flushing = false;
  }

  private keyOf(stream: 0 | 1): string {
    const q = this.queues[stream];
    return q.length > this.heads[stream]! ? q[q.length - 1]!.key : this.last[stream] ? normaliseTime(this.last[stream]!) : '';
  }

  private size(stream: 0 | 1): number {
    return this.queues[stream].length - this.heads[stream]!;
  }

  private drain(): void {
    this.highWater = Math.max(this.highWater, this.size(0) + this.size(1));
    for (;;) {
      const a = this.size(0) > 0 ? this.queues[0][this.heads[0]!]! : undefined;
      const b = this.size(1) > 0 ? this.queues[1][this.heads[1]!]! : undefined;
      let pick: 0 | 1 | undefined;
      if (a && b) pick = a.key <= b.key ? 0 : 1;
      else if (a) pick = this.ended[1] || this.flushing || this.size(0) > this.window ? 0 : undefined;
      else if (b) pick = this.ended[0] || this.flushing || this.size(1) > this.window ? 1 : undefined;
      if (pick === undefined) return;
      const item = this.queues[pick][this.heads[pick]!]!;
      this.heads[pick]! += 1;
      if (this.heads[pick]! > 1024 && this.heads[pick]! * 2 > this.queues[pick].length) {
        this.queues[pick].splice(0, this.heads[pick]!);
        this.heads[pick] = 0;
      }
      this.emit(item.text, item.time || undefined);
    }
  }
}

/** Both streams of `docker logs --timestamps`, merged (the whole text: for small inputs and tests). */
export function mergeTimestampedStreams(stdout: string, stderr: string): string {
  const out: string[] = [];
  const merger = new StreamMerger((text) => out.push(`${text}\n`), Infinity);
  for (const line of stdout.split('\n')) if (line !== '') merger.push(0, line);
  for (const line of stderr.split('\n')) if (line !== '') merger.push(1, line);
  merger.end(0);
  merger.end(1);
  return out.join('');
}

export type LogStreamOutcome =
  /** Read to its end (or, following, until stopped by the caller). */
  | 'complete'
  /** No such container. */
  | 'gone'
  /** The time box ran out; what was read so far was delivered. */
  | 'timed_out'
  /** The caller's signal stopped it. */
  | 'aborted';

export interface LogStreamResult {
  outcome: LogStreamOutcome;
  lines: number;
}

/** How often a follower releases what it holds (a line may then be shown up to this late). */
export const FOLLOW_FLUSH_MS = 200;

/** docker's own complaints (lines on stderr without a stamp), kept for the error message. */
const ERROR_TAIL = 20;

export interface StampedLogOptions {
  onLine: (text: string, time: string | undefined) => void;
  follow?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** How one streamed read of a stamped log ended, before the program's own answer is judged. */
export interface StampedLogRead {
  /** Set when the time box or the caller's signal ended it. */
  stopped?: 'timed_out' | 'aborted';
  lines: number;
  code: number;
  /** The program's own complaints (its last ERROR_TAIL unstamped stderr lines). */
  stderr: string;
}

/**
 * Run a log command whose lines carry RFC 3339 stamps (`docker logs --timestamps`, `kubectl logs
 * --timestamps`) and hand each line to `onLine` (text without the stamp, and the stamp), never
 * collecting the log; time-boxed and abortable. `stderrIsLog`: docker's stderr is the container's
 * stderr (stamped lines, merged back in by time); kubectl prints the container's streams already
 * merged on stdout, and only its own complaints on stderr.
 */
export async function readStampedLog(runner: CommandRunner, argv: readonly string[], options: StampedLogOptions & { stderrIsLog: boolean }): Promise<StampedLogRead> {
  let open = true;
  let lines = 0;
  const merger = new StreamMerger((text, time) => {
    if (!open) return; // a line flushed after the reader gave up
    lines += 1;
    options.onLine(text, time);
  });
  if (!options.stderrIsLog) merger.end(1); // one stream: each line passes straight through
  const complaints: string[] = [];
  const signals = [options.signal, options.timeoutMs !== undefined ? AbortSignal.timeout(options.timeoutMs) : undefined].filter((s): s is AbortSignal => s !== undefined);
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  // Following: what arrived is shown within a moment, even while the other stream stays silent.
  const flusher = options.follow ? setInterval(() => merger.flush(), FOLLOW_FLUSH_MS) : undefined;
  let result;
  try {
    result = await runner.run(argv, {
      signal,
      onStdoutLine: (line) => merger.push(0, line),
      onStderrLine: (line) => {
        if (options.stderrIsLog && STAMPED.test(line)) merger.push(1, line);
        else if (complaints.push(line) > ERROR_TAIL) complaints.shift();
      },
    });
  } finally {
    if (flusher) clearInterval(flusher);
  }
  const stopped = signal?.aborted === true;
  merger.end(0); // what was read before a stop is delivered too
  merger.end(1);
  open = false;
  const read: StampedLogRead = { lines, code: result.code, stderr: complaints.join('\n') };
  if (stopped) read.stopped = options.signal?.aborted ? 'aborted' : 'timed_out';
  return read;
}

/**
 * Stream `docker logs --timestamps [--follow] CONTAINER` into `onLine` (text without docker's
 * stamp, and that stamp). Resolves when the log has been read, the container is gone, the time
 * box is over or the signal fired; throws an ExternalError when docker fails otherwise.
 */
export async function streamContainerLogs(runner: CommandRunner, container: string, options: StampedLogOptions): Promise<LogStreamResult> {
  const argv = ['docker', 'logs', '--timestamps', ...(options.follow ? ['--follow'] : []), container];
  let read;
  try {
    read = await readStampedLog(runner, argv, { ...options, stderrIsLog: true });
  } catch (error) {
    throw programMissing(error) ?? error;
  }
  const { lines, stderr } = read;
  if (read.stopped) return { outcome: read.stopped, lines };
  if (read.code !== 0) {
    if (!isEngineUnreachable(stderr) && isNoSuchObject(stderr)) return { outcome: 'gone', lines };
    throw dockerFailure(`docker logs ${container}`, { code: read.code, stdout: '', stderr });
  }
  return { outcome: 'complete', lines };
}
