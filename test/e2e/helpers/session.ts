/**
 * Reading what `drydock run` says about itself: the `--json` document it prints last, and the
 * timing lines `DRYDOCK_RUN_TIMING=1` adds to stderr.
 */
import { report } from './drydock.js';

export interface RunDocument {
  sessionId: string;
  mode: string;
  observe: boolean;
  exitCode: number;
  sessionDir: string;
  egressLog: string | null;
  teardownFailures: string[];
}

/**
 * With `--json` stdout is exactly one document (`{ok, exitCode, data, error}`; the agent command's
 * own output went to stderr): the whole of stdout must parse, and `data` is run's result.
 */
export function runDocument(stdout: string): RunDocument {
  let doc: { ok: boolean; data: RunDocument | null; error: unknown };
  try {
    doc = JSON.parse(stdout) as typeof doc;
  } catch {
    throw new Error(`drydock run --json: stdout is not one JSON document:\n${stdout}`);
  }
  if (!doc.data) throw new Error(`drydock run --json failed: ${JSON.stringify(doc.error)}`);
  return doc.data;
}

/** `drydock: timing: <what>: <n> ms` lines, by what. */
export function timings(stderr: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const match of stderr.matchAll(/^drydock: timing: (.+): (\d+) ms/gm)) found.set(match[1]!, Number(match[2]));
  return found;
}

/** Prints drydock's own timings and the one measured from outside (never asserted). */
export function reportRunTimings(label: string, stderr: string, outside?: { startedAt: number; firstCommandAt?: number }): void {
  for (const [what, ms] of timings(stderr)) report(`${label}: ${what}`, ms, 'drydock run, DRYDOCK_RUN_TIMING=1');
  if (outside?.firstCommandAt) {
    report(`${label}: drydock run spawned → first line of the agent's command`, outside.firstCommandAt - outside.startedAt, 'measured by the test');
  }
}
