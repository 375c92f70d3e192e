/**
 * The host side of the address floor: which upstream resolvers the sidecar's resolver forwards
 * to, read from the host's resolver files the way Docker reads them. The only I/O of the floor;
 * the rendering itself is pure (address-floor.ts).
 */
import { readFileSync } from 'node:fs';
import { upstreamResolvers } from './address-floor.js';

/** The host's resolver files Docker reads, in its order (an unreadable one counts as absent). */
export const HOST_RESOLV_CONFS = ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf'];

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The resolvers Docker would give a container on this host. */
export function hostUpstreamResolvers(read: (path: string) => string | undefined = readIfPresent): string[] {
  return upstreamResolvers(HOST_RESOLV_CONFS.map(read));
}
