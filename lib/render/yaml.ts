import { stringify } from 'yaml';
import type { ComposeFile } from './compose-types.js';

/**
 * Serialises a compose document with YAML 1.1 quoting, because docker-compose v1 reads it with
 * PyYAML (YAML 1.1, where an unquoted `yes`, `on` or `1:30` is not a string).
 */
export function composeYaml(doc: ComposeFile): string {
  return stringify(doc, { version: '1.1', lineWidth: 0 });
}
