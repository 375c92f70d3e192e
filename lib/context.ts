/** The environment as drydock reads it (process.env, or a test's own object). */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * What every command receives instead of reaching for globals: the environment, the working
 * directory and the two output streams. Tests build one with `testContext()`.
 */
export interface CommandContext {
  env: Env;
  cwd: string;
  /** Human output (stdout). In --json mode commands must not write here; they return data. */
  out: (text: string) => void;
  /** Warnings and progress (stderr). */
  err: (text: string) => void;
  /** True when --json was given: the top-level prints the returned `data` as one document. */
  json: boolean;
}

/** What a command hands back to the single top-level exit path. */
export interface CommandResult {
  exitCode: number;
  /** Printed as one JSON document on stdout when --json is set. */
  data?: unknown;
  /** The command wrote its JSON to stdout itself, as it went (`egress log --json`): print nothing more. */
  streamed?: boolean;
}

export function processContext(json: boolean): CommandContext {
  return {
    env: process.env,
    cwd: process.cwd(),
    out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    json,
  };
}
