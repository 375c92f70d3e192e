import { spawn } from 'node:child_process';
import type { Env } from '../context.js';

export interface RunOptions {
  /** Written to the child's stdin, then stdin is closed. */
  input?: string;
  /**
   * `inherit` hands the terminal to the child (interactive `docker exec -it`); output is then not
   * captured. `inherit-stdout-to-stderr` does the same but sends the child's stdout to drydock's
   * stderr, so drydock's own stdout carries nothing but its `--json` document.
   */
  stdio?: 'pipe' | 'inherit' | 'inherit-stdout-to-stderr';
  /** Called for each complete line of stdout as it arrives (for `docker logs -f`). */
  onStdoutLine?: (line: string) => void;
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
        let pending = '';
        let timedOut = false;
        const timer = options.timeoutMs
          ? setTimeout(() => {
              timedOut = true;
              child.kill('SIGKILL');
            }, options.timeoutMs)
          : undefined;
        child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          if (options.onStdoutLine) {
            pending += chunk;
            const lines = pending.split('\n');
            pending = lines.pop() ?? '';
            for (const line of lines) options.onStdoutLine(line);
          }
        });
        child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
          stderr += chunk;
        });
        if (child.stdin) {
          child.stdin.on('error', () => {}); // the child may exit before reading its input
          child.stdin.end(options.input ?? '');
        }
        child.on('error', (error: NodeJS.ErrnoException) => {
          if (timer) clearTimeout(timer);
          if (error.code === 'ENOENT' || error.code === 'EACCES') reject(new ProgramNotFound(program, error));
          else if (error.name === 'AbortError') resolve({ code: 130, stdout, stderr, signal: 'SIGTERM' });
          else reject(error);
        });
        child.on('close', (code, signal) => {
          if (timer) clearTimeout(timer);
          if (options.onStdoutLine && pending) options.onStdoutLine(pending);
          resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, signal, timedOut });
        });
      });
    },
  };
}
