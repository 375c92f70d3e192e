// Its own file so the module state starts clean: tldts must load only for wildcard entries.
import { expect, it } from 'vitest';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import { parseTarget } from '../../lib/allowlist/match.js';
import { publicSuffixListLoaded } from '../../lib/allowlist/public-suffix.js';

it('loads the public-suffix list only when a wildcard entry is parsed', () => {
  parseAllowlist('github.com\nhttp://deb.debian.org\n127.0.0.1\n*\n', 'a.conf');
  parseTarget('github.com:22');
  expect(publicSuffixListLoaded()).toBe(false);
  expect(parseAllowlist('*.npmjs.org\n', 'b.conf').errors).toEqual([]);
  expect(publicSuffixListLoaded()).toBe(true);
});
