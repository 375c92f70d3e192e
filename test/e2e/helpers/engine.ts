/**
 * The e2e tier's access to the Docker engine that test/e2e/engine.sh started (DOCKER_HOST points
 * at it). A file that finds no engine skips, except in CI or with DRYDOCK_E2E=1, where a missing
 * engine is a failure: the tier must never pass by proving nothing.
 */
import { execFile } from 'node:child_process';
import { afterAll, describe, it } from 'vitest';
import { stopBackgroundRuns } from './children.js';

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program with an argument array (never a shell) and never rejects: the caller judges the code. */
export function exec(argv: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {}): Promise<Exec> {
  const [program, ...args] = argv;
  return new Promise((resolve) => {
    const child = execFile(
      program!,
      args,
      { env: options.env ?? process.env, cwd: options.cwd, timeout: options.timeoutMs ?? 300_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    child.stdin?.on('error', () => {});
    child.stdin?.end(options.input ?? ''); // nothing under test may wait on a terminal
  });
}

export function docker(args: readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<Exec> {
  return exec(['docker', ...args], options);
}

/** `docker …` that must succeed; the error carries what docker said. */
export async function dockerOk(args: readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const result = await docker(args, options);
  if (result.code !== 0) throw new Error(`docker ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

export function e2eRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.DRYDOCK_E2E === '1';
}

type Probe = { ok: true; serverVersion: string } | { ok: false; reason: string };

async function probeEngine(): Promise<Probe> {
  const dir = process.env.DRYDOCK_E2E_DIR;
  // Only ever the engine engine.sh started in its own network namespace: never a developer's
  // engine that DOCKER_HOST happens to name, whose network is the machine's.
  if (!dir || process.env.DOCKER_HOST !== `unix://${dir}/docker.sock`) {
    return { ok: false, reason: 'no e2e engine in this environment (run the tier with `bash test/e2e/run.sh`, or eval "$(test/e2e/engine.sh env)")' };
  }
  const info = await docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 10_000 });
  if (info.code !== 0) return { ok: false, reason: `no Docker engine answers at ${process.env.DOCKER_HOST}: ${info.stderr.trim()}` };
  return { ok: true, serverVersion: info.stdout.trim() };
}

export const engine: Probe = await probeEngine();

/**
 * `describe` when an engine answers; otherwise a suite whose one test fails with the reason (CI,
 * DRYDOCK_E2E=1) or a skipped suite (a developer's machine without the tier set up).
 */
export function describeE2E(name: string, body: () => void): void {
  if (engine.ok) {
    describe(name, () => {
      // Registered first so it runs last (after hooks run in reverse): after the file's own cleanup.
      afterAll(() => stopBackgroundRuns());
      body();
    });
  } else if (e2eRequired()) {
    describe(name, () => {
      it('needs a Docker engine', () => {
        throw new Error(`e2e tier required (CI=true or DRYDOCK_E2E=1) but ${engine.reason}`);
      });
    });
  } else {
    describe.skip(name, body);
  }
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
