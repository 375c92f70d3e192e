import { UsageError } from '../errors.js';
import type { Env } from '../context.js';

export const DEFAULT_AGENT_IMAGE = 'drydock-agent:latest';
export const DEFAULT_EGRESS_IMAGE = 'drydock-egress:latest';

/** `name@sha256:<64 hex>` (a tag before the digest is allowed: docker ignores it when a digest is given). */
const PINNED = /^[^@\s]+@sha256:[0-9a-f]{64}$/;
/**
 * A loose image reference: registry/path:tag@digest characters only. It keeps out whitespace and a
 * leading `-` (which the docker CLI would read as an option) and `$` (compose interpolation).
 */
const REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._\/:@-]*$/;

function imageFrom(env: Env, variable: string, fallback: string): string {
  const value = env[variable];
  if (value === undefined || value === '') return fallback;
  if (!REFERENCE.test(value)) {
    throw new UsageError(`${variable}: "${value}" is not an image reference`, {
      hint: `set ${variable} to an image such as repo/name:tag or repo/name@sha256:<digest>, or unset it`,
    });
  }
  return value;
}

export function agentImage(env: Env): string {
  return imageFrom(env, 'DRYDOCK_AGENT_IMAGE', DEFAULT_AGENT_IMAGE);
}

export function isPinnedImage(image: string): boolean {
  return PINNED.test(image);
}

export function egressImage(env: Env): { image: string; pinned: boolean } {
  const image = imageFrom(env, 'DRYDOCK_EGRESS_IMAGE', DEFAULT_EGRESS_IMAGE);
  return { image, pinned: isPinnedImage(image) };
}

/** Values of DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE; anything else is refused, not guessed. */
export function requirePinnedEgressImage(env: Env): boolean {
  const raw = (env.DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE ?? '').trim().toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false' || raw === 'no') return false;
  if (raw === '1' || raw === 'true' || raw === 'yes') return true;
  throw new UsageError(`DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE: "${env.DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE}" is not 1 or 0`, {
    hint: 'set it to 1 to require a digest-pinned sidecar image, or unset it',
  });
}

/**
 * These resolvers are entered once per command, by lib/settings.ts; everything else reads the
 * resolved `settings.images`.
 *
 * With DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE=1 the sidecar image must be pinned by digest, so that
 * what enforces the jail cannot be swapped by re-tagging. Checked before anything is created.
 */
export function assertEgressImageAllowed(env: Env): void {
  if (!requirePinnedEgressImage(env)) return;
  const { image, pinned } = egressImage(env);
  if (!pinned) throw unpinnedEgressImageError(image);
}

export function unpinnedEgressImageError(image: string): UsageError {
  return new UsageError(`the egress image "${image}" is not pinned by digest, and DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE=1`, {
    hint: 'set DRYDOCK_EGRESS_IMAGE=registry/name@sha256:<64 hex> (a RepoDigest of the pushed image), or unset DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE',
  });
}
