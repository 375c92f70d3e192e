/**
 * The `--json` contract: every command prints exactly ONE document on stdout, of one shape, on
 * success and on error alike (README "JSON output"):
 *
 *   { "ok": true|false, "exitCode": N, "data": {…} | null, "error": {…} | null }
 *
 * `ok` is `exitCode === 0`. `data` is the command's own result (null when it failed with an
 * error); `error` is set only when the command failed with one: `kind` (UsageError, ExternalError,
 * NegativeAnswer, InternalError), `message`, and when known `hint` and `diagnostics` (FILE:LINE).
 * A negative answer that is not an error (`allowlist check` denied, a failed doctor check) has
 * `ok: false`, its data, and `error: null`. Nothing else is written to stdout under --json: progress
 * and warnings go to stderr, and so does the agent's own output in `run --json`.
 */
import type { Diagnostic } from './errors.js';
import { safeJsonStringify } from './terminal-text.js';

export interface JsonError {
  kind: string;
  message: string;
  hint?: string;
  diagnostics?: Diagnostic[];
}

export interface JsonDocument {
  ok: boolean;
  exitCode: number;
  data: unknown;
  error: JsonError | null;
}

export function resultDocument(exitCode: number, data: unknown): JsonDocument {
  return { ok: exitCode === 0, exitCode, data: data ?? null, error: null };
}

export function errorDocument(exitCode: number, error: JsonError): JsonDocument {
  return { ok: false, exitCode, data: null, error };
}

export function formatJson(doc: JsonDocument): string {
  // Terminal-safe: a host name from the proxy log cannot smuggle C1 or bidi controls through `--json`.
  return `${safeJsonStringify(doc, 2)}\n`;
}
