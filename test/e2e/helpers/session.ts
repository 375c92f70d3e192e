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

/** With `--json` the agent command's own output comes first, then drydock's document. */
export function runDocument(stdout: string): RunDocument {
  const last = stdout.lastIndexOf('\n{\n');
  const start = last >= 0 ? last + 1 : stdout.startsWith('{\n') ? 0 : -1;
  if (start < 0) throw new Error(`no JSON document in drydock's output:\n${stdout}`);
  return JSON.parse(stdout.slice(start)) as RunDocument;
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
