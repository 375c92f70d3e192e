import { describe, expect, it } from 'vitest';
import { parseCheckArgs } from '../lib/check-args.js';

describe('parseCheckArgs (the allowlist check fast path)', () => {
  it.each([
    [['allowlist', 'check', 'github.com'], { host: 'github.com', http: false, json: false }],
    [['allowlist', 'check', 'github.com:22', '--json'], { host: 'github.com:22', http: false, json: true }],
    [['allowlist', 'check', '--http', 'deb.debian.org', '--project', 'web'], { host: 'deb.debian.org', http: true, json: false, project: 'web' }],
  ])('takes %j', (argv, expected) => expect(parseCheckArgs(argv)).toEqual(expected));

  it.each([
    [['allowlist', 'list']],
    [['allowlist', 'check']],
    [['allowlist', 'check', '--help']],
    [['allowlist', 'check', 'a.com', 'b.com']],
    [['allowlist', 'check', 'a.com', '--project=web']],
    [['allowlist', 'check', 'a.com', '--project']],
    [['allowlist', 'check', 'a.com', '--project', '--json']],
    [['check', 'allowlist', 'a.com']],
  ])('leaves %j to the full CLI', (argv) => expect(parseCheckArgs(argv)).toBeUndefined());
});
