// Types of the generated module next to this file (see compose-validator-source.ts).
import type { ValidateFunction } from 'ajv';

export declare const validate: ValidateFunction;
export default validate;
