import { ExternalError } from '../errors.js';
import { agentContainerName, egressContainerName } from '../names.js';
import { newSessionId } from './id.js';

export interface PickSessionIdOptions {
  project: string;
  /** Which of these container names exist on the engine (one docker call per attempt). */
  existingContainers: (names: string[]) => Promise<string[]>;
  /**
   * Creates the session directory if, and only if, it does not exist yet (an exclusive mkdir):
   * false when it exists — left by an earlier session (kept until gc), or just reserved by a
   * concurrent `run` that drew the same id. Reserving, not just checking, closes that race.
   */
  reserveSessionDir: (id: string) => boolean;
  /** Gives back a reserved directory whose id turned out to be taken by containers. */
  releaseSessionDir: (id: string) => void;
  random?: () => string;
  maxAttempts?: number;
}

/**
 * A fresh `<project>-<4 hex>` that no container and no session directory uses, with its session
 * directory reserved. Retried with a new id on a collision; bounded, because 16 collisions in
 * 65536 ids means something else is wrong.
 */
export async function pickSessionId(options: PickSessionIdOptions): Promise<string> {
  const attempts = options.maxAttempts ?? 16;
  const taken: string[] = [];
  for (let attempt = 0; attempt < attempts; attempt++) {
    const id = newSessionId(options.project, options.random);
    if (taken.includes(id)) continue;
    if (!options.reserveSessionDir(id)) {
      taken.push(id);
      continue;
    }
    const existing = await options.existingContainers([agentContainerName(id), egressContainerName(id)]);
    if (existing.length === 0) return id;
    options.releaseSessionDir(id);
    taken.push(id);
  }
  throw new ExternalError(`could not find a free session id for project "${options.project}" after ${attempts} tries (taken: ${taken.join(', ')})`, {
    hint: 'reap finished sessions with `drydock gc`, or stop running ones with `drydock stop --project <name>`',
  });
}
