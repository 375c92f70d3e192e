import { spawn } from 'node:child_process';
import type { Env } from '../context.js';

export interface RunOptions {
  /**
   * Written to the child's stdin, then stdin is closed. A promise is written when it settles (the
   * child starts at once and reads when the value is there; a rejection just closes stdin), so a
   * slow child start overlaps with computing what it reads (the self-test's probe).
   */
  input?: string | Promise<string>;
  /**
   * `inherit` hands the terminal to the child (interactive `docker exec -it`); output is then not
   * captured. `inherit-stdout-to-stderr` does the same but sends the child's stdout to drydock's
   * stderr, so drydock's own stdout carries nothing but its `--json` document.
   */
  stdio?: 'pipe' | 'inherit' | 'inherit-stdout-to-stderr';
  /**
   * Called for each line of stdout as it arrives (for `docker logs`). The stream is then NOT kept
   * in the result (`stdout` is ''): a log of any length passes through in bounded memory. A line
   * longer than MAX_STREAMED_LINE is cut there (the rest of it is dropped).
   */
  onStdoutLine?: (line: string) => void;
  /** The same for stderr. */
  onStderrLine?: (line: string) => void;
  /** Kill the child after this many milliseconds (the result then has `timedOut: true`). */
  timeoutMs?: number;
  /** Extra environment on top of the runner's own. */
  env?: Record<string, string>;
  cwd?: string;
  /** Aborting kills the child (used by `--follow` and signal handling). */
  signal?: AbortSignal;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  signal?: NodeJS.Signals | null;
  timedOut?: boolean;
}

/**
 * The one way drydock runs external programs: an argument array, never a shell string, so nothing
 * a user or a label contains can be interpreted by a shell. `argv[0]` is the program.
 */
export interface CommandRunner {
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
}

/** The longest line handed to a line callback; tinyproxy's lines stop at 800 bytes. */
export const MAX_STREAMED_LINE = 64 * 1024;

/** Splits chunks into lines, holding at most MAX_STREAMED_LINE characters of an unfinished line. */
export class LineSplitter {
  private pending = '';
  private dropping = false;

  constructor(private readonly onLine: (line: string) => void, private readonly maxLine = MAX_STREAMED_LINE) {}

  push(chunk: string): void {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      this.take(chunk.slice(start, nl));
      if (!this.dropping) this.onLine(this.pending);
      this.pending = '';
      this.dropping = false;
      start = nl + 1;
    }
    this.take(chunk.slice(start));
  }

  end(): void {
    if (this.pending !== '' && !this.dropping) this.onLine(this.pending);
    this.pending = '';
  }

  private take(piece: string): void {
    if (this.dropping || piece === '') return;
    this.pending += piece;
    if (this.pending.length > this.maxLine) {
      this.onLine(this.pending.slice(0, this.maxLine));
      this.pending = '';
      this.dropping = true;
    }
  }
}

/** Thrown by the real runner when the program itself cannot be started (ENOENT, EACCES). */
export class ProgramNotFound extends Error {
  constructor(readonly program: string, cause: unknown) {
    super(`${program}: not found or not executable`, { cause });
  }
}

export function processRunner(baseEnv: Env = process.env): CommandRunner {
  return {
    run(argv, options = {}) {
      const [program, ...args] = argv;
      if (!program) return Promise.reject(new Error('runner: empty argv'));
      return new Promise((resolve, reject) => {
        const child = spawn(program, args, {
          env: { ...baseEnv, ...options.env },
          cwd: options.cwd,
          stdio: options.stdio === 'inherit' ? 'inherit' : options.stdio === 'inherit-stdout-to-stderr' ? ['inherit', 2, 'inherit'] : ['pipe', 'pipe', 'pipe'],
          signal: options.signal,
        });
        let stdout = '';
        let stderr = '';
        let timedOut = false;
        const timer = options.timeoutMs
          ? setTimeout(() => {
              timedOut = true;
              child.kill('SIGKILL');
            }, options.timeoutMs)
          : undefined;
        const outLines = options.onStdoutLine ? new LineSplitter(options.onStdoutLine) : undefined;
        const errLines = options.onStderrLine ? new LineSplitter(options.onStderrLine) : undefined;
        child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
          if (outLines) outLines.push(chunk);
          else stdout += chunk;
        });
        child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
          if (errLines) errLines.push(chunk);
          else stderr += chunk;
        });
        if (child.stdin) {
          child.stdin.on('error', () => {}); // the child may exit before reading its input
          const stdin = child.stdin;
          const input = options.input;
          if (input === undefined || typeof input === 'string') stdin.end(input ?? '');
          else input.then((text) => stdin.end(text), () => stdin.end());
        }
        child.on('error', (error: NodeJS.ErrnoException) => {
          if (timer) clearTimeout(timer);
          if (error.code === 'ENOENT' || error.code === 'EACCES') reject(new ProgramNotFound(program, error));
          else if (error.name === 'AbortError') resolve({ code: 130, stdout, stderr, signal: 'SIGTERM' });
          else reject(error);
        });
        child.on('close', (code, signal) => {
          if (timer) clearTimeout(timer);
          outLines?.end();
          errLines?.end();
          resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, signal, timedOut });
        });
      });
    },
  };
}
