import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';

/** Session ids are `<project>-<4 hex>`; the project part is already sanitised. */
export function newSessionId(project: string, random: () => string = () => randomBytes(2).toString('hex')): string {
  return `${project}-${random()}`;
}

const SESSION_ID = /^[a-z0-9][a-z0-9_-]*-[0-9a-f]{4}$/;

export function isSessionId(id: string): boolean {
  return SESSION_ID.test(id) && id.length <= 60;
}

/** A session id given by the user ends up in container and network names: keep it to that shape. */
export function validateSessionId(id: string): string {
  if (!isSessionId(id)) {
    throw new UsageError(`invalid session id "${id}"`, {
      hint: 'a session id is <project>-<4 hex digits>, for example myapp-3f9a',
    });
  }
  return id;
}
