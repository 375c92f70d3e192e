import { ExternalError } from '../errors.js';
import { agentContainerName, egressContainerName } from '../render/names.js';
import { newSessionId } from './id.js';

export interface PickSessionIdOptions {
  project: string;
  /** Which of these container names exist on the engine (one docker call per attempt). */
  existingContainers: (names: string[]) => Promise<string[]>;
  /** A session directory left by an earlier session (kept until gc) also makes an id taken. */
  sessionDirExists: (id: string) => boolean;
  random?: () => string;
  maxAttempts?: number;
}

/**
 * A fresh `<project>-<4 hex>` that no container and no session directory uses. Retried with a new
 * id on a collision; bounded, because 16 collisions in 65536 ids means something else is wrong.
 */
export async function pickSessionId(options: PickSessionIdOptions): Promise<string> {
  const attempts = options.maxAttempts ?? 16;
  const taken: string[] = [];
  for (let attempt = 0; attempt < attempts; attempt++) {
    const id = newSessionId(options.project, options.random);
    if (taken.includes(id)) continue;
    if (options.sessionDirExists(id)) {
      taken.push(id);
      continue;
    }
    const existing = await options.existingContainers([agentContainerName(id), egressContainerName(id)]);
    if (existing.length === 0) return id;
    taken.push(id);
  }
  throw new ExternalError(`could not find a free session id for project "${options.project}" after ${attempts} tries (taken: ${taken.join(', ')})`, {
    hint: 'reap finished sessions with `drydock gc`, or stop running ones with `drydock stop --project <name>`',
  });
}
