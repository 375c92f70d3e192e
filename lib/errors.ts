/**
 * Exit codes flow to one place (lib/cli.ts). Commands return a code or throw one of these.
 *   0 ok · 1 a negative answer (host denied, a doctor check failed) · 2 bad input or usage ·
 *   3 the engine or an external program failed.
 */
export const ExitCode = {
  Ok: 0,
  Negative: 1,
  Usage: 2,
  External: 3,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** One problem in one input file, printed as `FILE:LINE: what is wrong — how to fix it`. */
export interface Diagnostic {
  file: string;
  line: number;
  message: string;
  fix?: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}: ${d.message}${d.fix ? ` — ${d.fix}` : ''}`;
}

export interface DrydockErrorOptions {
  /** One line telling the user how to fix it. */
  hint?: string;
  diagnostics?: Diagnostic[];
  cause?: unknown;
}

export class DrydockError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint?: string;
  readonly diagnostics: Diagnostic[];

  constructor(message: string, exitCode: ExitCodeValue, options: DrydockErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.diagnostics = options.diagnostics ?? [];
  }
}

/** Bad input or usage: malformed allowlist line, unknown mode, conflicting flags. Exit 2. */
export class UsageError extends DrydockError {
  constructor(message: string, options: DrydockErrorOptions = {}) {
    super(message, ExitCode.Usage, options);
  }
}

/** The engine or an external program failed (docker, compose, tinyproxy). Exit 3. */
export class ExternalError extends DrydockError {
  constructor(message: string, options: DrydockErrorOptions = {}) {
    super(message, ExitCode.External, options);
  }
}

/** A negative answer that is not a malfunction (unknown session, failed check). Exit 1. */
export class NegativeAnswer extends DrydockError {
  constructor(message: string, options: DrydockErrorOptions = {}) {
    super(message, ExitCode.Negative, options);
  }
}

/** The message of anything thrown, for one-line reports. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
