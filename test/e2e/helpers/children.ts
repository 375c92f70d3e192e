/**
 * The processes the e2e tests start and leave running (background `drydock run`s). Every one is
 * stopped: by its test, else after its file (describeE2E), else when the worker exits.
 */
import type { ChildProcess } from 'node:child_process';

const running = new Set<ChildProcess>();

export function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/** SIGTERM (so drydock tears its session down), then SIGKILL after a grace period. */
export async function stopBackgroundRuns(graceMs = 60_000): Promise<void> {
  const left = [...running];
  if (left.length === 0) return;
  const exits = left.map((child) => new Promise<void>((done) => (child.exitCode !== null || child.signalCode !== null ? done() : child.once('exit', () => done()))));
  for (const child of left) child.kill('SIGTERM');
  const timer = setTimeout(() => left.forEach((child) => child.kill('SIGKILL')), graceMs);
  await Promise.all(exits);
  clearTimeout(timer);
}

// Last resort if the worker exits with runs still going (a crash, a timeout): they must not outlive it.
process.on('exit', () => running.forEach((child) => child.kill('SIGKILL')));
