import { sameBinary, type ComposeVersionCache } from './compose-cache.js';
import { ProgramNotFound, type CommandRunner } from './runner.js';

/**
 * Which Compose drydock drives: the v2 plugin (`docker compose`) if the docker CLI has it, else
 * Debian's standalone v1.29 (`docker-compose`). Detected once per command and reported by doctor.
 */
export type ComposeFlavour =
  | { kind: 'v2'; version: string; command: readonly ['docker', 'compose'] }
  | { kind: 'v1'; version: string; command: readonly ['docker-compose'] }
  | { kind: 'none'; reason: string };

/** `Docker Compose version v2.24.5`, `docker-compose version 1.29.2, build unknown`, or `2.24.5` (--short). */
export function parseComposeVersion(stdout: string): string | undefined {
  const match = /(?:^|version\s+)v?(\d+\.\d+(?:\.\d+)?[0-9A-Za-z.+-]*?)(?:,|\s|$)/im.exec(stdout.trim());
  return match?.[1];
}

async function probe(runner: CommandRunner, argv: readonly string[]): Promise<string | undefined> {
  try {
    const result = await runner.run(argv, { timeoutMs: 15_000 });
    return result.code === 0 ? (parseComposeVersion(result.stdout) ?? 'unknown') : undefined;
  } catch (error) {
    if (error instanceof ProgramNotFound) return undefined;
    throw error;
  }
}

/**
 * The v2 plugin if the docker CLI answers for it, else v1. With a cache (`run` only; doctor always
 * asks), v1's version is taken from it when the file PATH finds is the one that gave it
 * (lib/docker/compose-cache.ts says why that can never run or trust another binary).
 */
export async function detectCompose(runner: CommandRunner, cache?: ComposeVersionCache): Promise<ComposeFlavour> {
  const v2 = await probe(runner, ['docker', 'compose', 'version']);
  if (v2 !== undefined) return { kind: 'v2', version: v2, command: ['docker', 'compose'] };
  const before = cache?.identify();
  const cached = before && cache?.read();
  if (before && cached && sameBinary(cached.identity, before)) return { kind: 'v1', version: cached.version, command: ['docker-compose'] };
  const v1 = await probe(runner, ['docker-compose', 'version']);
  if (v1 !== undefined) {
    const after = cache?.identify();
    if (cache && before && after && sameBinary(before, after) && v1 !== 'unknown') cache.write({ identity: after, version: v1 });
    return { kind: 'v1', version: v1, command: ['docker-compose'] };
  }
  return { kind: 'none', reason: 'neither `docker compose` nor `docker-compose` answered `version`' };
}

/** The argv for one compose invocation on a session's files: `-p` always, never a top-level `name:`. */
export function composeArgv(
  flavour: Extract<ComposeFlavour, { command: readonly string[] }>,
  options: { project: string; files: readonly string[]; args: readonly string[] },
): string[] {
  return [...flavour.command, '-p', options.project, ...options.files.flatMap((f) => ['-f', f]), ...options.args];
}

/** What a user reads in doctor and the banner: `docker compose v2.24.5` / `docker-compose 1.29.2 (v1)`. */
export function describeCompose(flavour: ComposeFlavour): string {
  if (flavour.kind === 'v2') return `docker compose ${flavour.version.startsWith('v') ? '' : 'v'}${flavour.version}`;
  if (flavour.kind === 'v1') return `docker-compose ${flavour.version} (v1)`;
  return 'none';
}
