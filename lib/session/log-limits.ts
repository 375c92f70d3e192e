/** How much of a sidecar's log is kept at teardown, and for how long it is read. Pure. */
import type { Env } from '../context.js';
import { UsageError } from '../errors.js';

/** Default size cap of each saved file, and how long teardown reads the log before cutting it. */
export const DEFAULT_LOG_CAP = 16 * 1024 * 1024;
export const DEFAULT_LOG_READ_MS = 60_000;

/** A whole number from the environment, or the default; anything else is a usage error (exit 2). */
function wholeNumber(env: Env, name: string, fallback: number, scale: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^[0-9]{1,9}$/.test(raw) || Number(raw) === 0) {
    throw new UsageError(`${name}: "${raw}" is not a positive whole number`, { hint: `set it to e.g. ${fallback / scale}, or unset it` });
  }
  return Number(raw) * scale;
}

export interface EgressLogLimits {
  /** Each saved file's cap in bytes. */
  maxBytes: number;
  /** How long teardown reads the sidecar's log before cutting it. */
  readMs: number;
}

/**
 * `DRYDOCK_EGRESS_LOG_MAX_MB` caps each saved file (default 16), `DRYDOCK_EGRESS_LOG_READ_SECONDS`
 * bounds how long teardown reads the sidecar's log (default 60). Read once, into the settings.
 */
export function egressLogLimitsFrom(env: Env): EgressLogLimits {
  return {
    maxBytes: wholeNumber(env, 'DRYDOCK_EGRESS_LOG_MAX_MB', DEFAULT_LOG_CAP, 1024 * 1024),
    readMs: wholeNumber(env, 'DRYDOCK_EGRESS_LOG_READ_SECONDS', DEFAULT_LOG_READ_MS, 1000),
  };
}

