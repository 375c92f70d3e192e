import { ExternalError } from '../errors.js';
import { ProgramNotFound, type RunResult } from './runner.js';

export const ENGINE_HINT = 'is the engine running? set DOCKER_HOST (or DOCKER_CONTEXT) to reach it';
export const COMPOSE_HINT = 'install docker compose v2 (the docker-compose-plugin) or docker-compose';
export const DOCKER_CLI_HINT = 'install the docker CLI (Debian: apt-get install docker.io) or put it on PATH';

/** The first non-empty line of a program's error output: what the user needs, without the noise. */
export function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}

/** The engine could not be reached at all (as opposed to: it answered "no"). */
export function isEngineUnreachable(stderr: string): boolean {
  return /cannot connect to the docker daemon|is the docker daemon running|error during connect|connect: (no such file|connection refused|permission denied)|dial unix .*: connect|context ".*" does not exist/i.test(
    stderr,
  );
}

/** `docker … <name>` said the object does not exist (container, image, network). */
export function isNoSuchObject(line: string): boolean {
  return /no such (container|image|object|network)|not found/i.test(line);
}

/** Turn a failed docker call into the exit-3 error the user sees: what failed, docker's own words, a fix. */
export function dockerFailure(what: string, result: RunResult, hint?: string): ExternalError {
  const detail = firstLine(result.stderr) || firstLine(result.stdout) || `exit code ${result.code}`;
  const timedOut = result.timedOut ? ' (timed out)' : '';
  return new ExternalError(`${what} failed${timedOut}: ${detail}`, {
    hint: hint ?? (isEngineUnreachable(result.stderr) || result.timedOut ? ENGINE_HINT : undefined),
  });
}

/** A program that is not installed: the docker CLI or docker-compose. */
export function programMissing(error: unknown): ExternalError | undefined {
  if (!(error instanceof ProgramNotFound)) return undefined;
  const hint = error.program === 'docker-compose' ? COMPOSE_HINT : DOCKER_CLI_HINT;
  return new ExternalError(`${error.program}: not found or not executable`, { hint, cause: error });
}
