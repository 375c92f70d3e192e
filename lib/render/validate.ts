/**
 * Schema validation of rendered compose files against the Compose specification. The validator is
 * precompiled (compose-validator.generated.js, from compose-validator-source.ts): compiling the
 * schema with ajv at run time cost ~250 ms of every render. Only render and run load it, so the
 * allowlist commands (whose start-up time is benchmarked) never do.
 */
import type { ErrorObject } from 'ajv';
import { validate as validator } from './compose-validator.generated.js';
import { ExternalError } from '../errors.js';

function describe(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(top level)' : error.instancePath;
  const extra =
    error.keyword === 'additionalProperties'
      ? ` "${String((error.params as { additionalProperty?: unknown }).additionalProperty)}"`
      : error.keyword === 'enum'
        ? ` (${JSON.stringify((error.params as { allowedValues?: unknown }).allowedValues)})`
        : '';
  return `${where}: ${error.message ?? error.keyword}${extra}`;
}

/** Throws ExternalError (exit 3) naming the schema error: a rendered file that fails is a drydock bug. */
export function validateCompose(doc: unknown, label: string): void {
  if (validator(doc)) return;
  const errors = (validator.errors ?? []).slice(0, 5).map(describe);
  throw new ExternalError(`${label}: not a valid compose file: ${errors.join('; ')}`, {
    hint: 'this is a drydock bug: please report it with the output of `drydock render --out DIR`',
  });
}
