/**
 * A log file written line by line with a size cap, in bounded memory: the first part of the log
 * goes straight to disk, the last part is kept in a ring of at most `tailBytes`, and what falls
 * between is counted and replaced by one marker line. Written to a temp file in the target's
 * directory and renamed into place by `finish`, so a reader sees the old file or the whole new
 * one; `discard` leaves nothing behind. Writes are synchronous and batched, so a fast producer is
 * held back by the disk instead of queueing in memory.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { LineSplitter } from '../docker/runner.js';

export interface CappedFileOptions {
  /** The file's largest size in bytes (the marker line aside). */
  maxBytes: number;
  /** How much of that is the log's end (default a quarter). */
  tailBytes?: number;
}

export interface CappedFileResult {
  path: string;
  /** Bytes and lines written to the file (marker excluded). */
  bytes: number;
  lines: number;
  /** Lines (and their bytes) of the log left out between the head and the tail. */
  omittedLines: number;
  omittedBytes: number;
}

const BATCH = 64 * 1024;

export class CappedLineFile {
  private readonly tmp: string;
  private fd: number | undefined;
  private readonly headCap: number;
  private readonly tailCap: number;
  private headBytes = 0;
  private headLines = 0;
  private batch: string[] = [];
  private batchBytes = 0;
  private readonly tail: Array<{ text: string; bytes: number }> = [];
  private tailStart = 0;
  private tailBytes = 0;
  private omittedLines = 0;
  private omittedBytes = 0;
  /** The most bytes the tail ring ever held (for the bounded-memory test). */
  tailHighWater = 0;

  constructor(readonly path: string, options: CappedFileOptions) {
    this.tailCap = Math.max(0, Math.min(options.tailBytes ?? Math.floor(options.maxBytes / 4), options.maxBytes));
    this.headCap = options.maxBytes - this.tailCap;
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    this.fd = openSync(this.tmp, 'wx', 0o644);
  }

  /** True once the head is full and there is no tail to keep (`tailBytes: 0`): further lines are only counted. */
  get full(): boolean {
    return this.tailCap === 0 && this.omittedLines > 0;
  }

  /** A line left out without being made (its size unknown): counted in the marker. */
  omit(): void {
    this.omittedLines += 1;
  }

  /** One line, without its newline. */
  write(line: string): void {
    const text = `${line}\n`;
    const bytes = Buffer.byteLength(text);
    if (this.tailStart === this.tail.length && this.omittedLines === 0 && this.headBytes + bytes <= this.headCap) {
      this.headBytes += bytes;
      this.headLines += 1;
      this.batch.push(text);
      this.batchBytes += bytes;
      if (this.batchBytes >= BATCH) this.flush();
      return;
    }
    if (bytes > this.tailCap) {
      this.omittedLines += 1;
      this.omittedBytes += bytes;
      return;
    }
    this.tail.push({ text, bytes });
    this.tailBytes += bytes;
    while (this.tailBytes > this.tailCap) {
      const dropped = this.tail[this.tailStart]!;
      this.tailStart += 1;
      this.tailBytes -= dropped.bytes;
      this.omittedLines += 1;
      this.omittedBytes += dropped.bytes;
    }
    if (this.tailStart > 4096 && this.tailStart * 2 > this.tail.length) {
      this.tail.splice(0, this.tailStart);
      this.tailStart = 0;
    }
    this.tailHighWater = Math.max(this.tailHighWater, this.tailBytes);
  }

  /** Write the tail (after a marker line when something was left out) and rename into place. */
  finish(marker: (omitted: { lines: number; bytes: number }) => string): CappedFileResult {
    if (this.omittedLines > 0) this.push(`${marker({ lines: this.omittedLines, bytes: this.omittedBytes })}\n`);
    let tailLines = 0;
    for (let i = this.tailStart; i < this.tail.length; i += 1) {
      this.push(this.tail[i]!.text);
      tailLines += 1;
    }
    this.flush();
    closeSync(this.fd!);
    this.fd = undefined;
    renameSync(this.tmp, this.path);
    return {
      path: this.path,
      bytes: this.headBytes + this.tailBytes,
      lines: this.headLines + tailLines,
      omittedLines: this.omittedLines,
      omittedBytes: this.omittedBytes,
    };
  }

  discard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.tmp, { force: true });
  }

  private push(text: string): void {
    this.batch.push(text);
    this.batchBytes += text.length;
    if (this.batchBytes >= BATCH) this.flush();
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const data = this.batch.join('');
    this.batch = [];
    this.batchBytes = 0;
    let buffer = Buffer.from(data);
    while (buffer.length > 0) buffer = buffer.subarray(writeSync(this.fd!, buffer));
  }
}

/** `12.3 MiB`, for the marker line and messages. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Every line of a file, read in chunks: a file of any size in bounded memory. */
export function readLinesSync(path: string, onLine: (line: string) => void): void {
  const fd = openSync(path, 'r');
  try {
    const splitter = new LineSplitter(onLine);
    const decoder = new StringDecoder('utf8');
    const buffer = Buffer.alloc(BATCH);
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) splitter.push(decoder.write(buffer.subarray(0, n)));
    splitter.push(decoder.end());
    splitter.end();
  } finally {
    closeSync(fd);
  }
}
