import { Document } from 'yaml';
import type { ComposeFile } from './compose-types.js';

/**
 * Serialises a compose document with YAML 1.1 quoting, because docker-compose v1 reads it with
 * PyYAML (YAML 1.1, where an unquoted `yes`, `on` or `1:30` is not a string). `header` becomes a
 * leading `#` comment.
 */
export function composeYaml(doc: ComposeFile, header?: string): string {
  const document = new Document(doc, { version: '1.1' });
  if (header) document.commentBefore = header.split('\n').map((line) => ` ${line}`).join('\n');
  return document.toString({ lineWidth: 0 });
}
