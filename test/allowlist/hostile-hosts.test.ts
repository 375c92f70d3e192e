/**
 * Request lines a hostile agent could send through the proxy, as tinyproxy would match them
 * (FilterURLs Yes: `host:port` for CONNECT, the URL for plain HTTP). None may match.
 */
import { describe, expect, it } from 'vitest';
import { compileFilter } from '../../lib/allowlist/compile.js';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import { filterAllows, filterRegexes } from './filter-eval.js';

const LIST = `
github.com
*.npmjs.org
github.com:22
http://deb.debian.org
http://mirror.example:8080
api.anthropic.com
`;

const parsed = parseAllowlist(LIST, 'hostile.conf');
const regexes = filterRegexes(compileFilter(parsed.entries).filter);

const mustMatch = [
  'github.com:443',
  'GITHUB.COM:443',
  'github.com.:443',
  'github.com:22',
  'registry.npmjs.org:443',
  'a.b-c.d_e.npmjs.org:443',
  'deb.debian.org:443',
  'http://deb.debian.org/debian/dists/bookworm/Release',
  'http://deb.debian.org:80/x',
  'http://deb.debian.org',
  'http://deb.debian.org/?a=b@c#d',
  'http://mirror.example:8080/x',
];

const mustNotMatch = [
  // CONNECT: look-alikes, suffixes and prefixes
  'github.com.evil.test:443',
  'evilgithub.com:443',
  'github.co:443',
  'github.com..:443',
  'xgithub.com:443',
  'github.comx:443',
  'api.github.com:443',
  'github.com:4430',
  'github.com:0443',
  'github.com:44',
  'github.com:443x',
  'github.com:443/',
  'github.com:443 ',
  'github.com:443\t',
  'github.com :443',
  'github.com:22:443',
  'github.com:443:22',
  'github.com:8443',
  'github%2ecom:443',
  'github.com%00:443',
  'github.com\\:443',
  // CONNECT: userinfo tricks (tinyproxy strips everything up to `@`)
  'github.com@evil.test:443',
  'github.com:443@evil.test:443',
  'evil.test@github.com:443',
  'github.com:22@evil.test:22',
  // CONNECT: the wildcard's apex and neighbours
  'npmjs.org:443',
  '.npmjs.org:443',
  'evilnpmjs.org:443',
  'npmjs.org.evil.test:443',
  'a..npmjs.org:443',
  'a.npmjs.org.evil.test:443',
  'a@b.npmjs.org:443',
  'a/b.npmjs.org:443',
  'a b.npmjs.org:443',
  'a.npmjs.org:22',
  '*.npmjs.org:443',
  // CONNECT: IP literals and the sidecar itself
  '127.0.0.1:443',
  '[::1]:443',
  'localhost:443',
  '169.254.169.254:443',
  // plain HTTP: hosts only allowed for CONNECT, other ports, and smuggling
  'http://github.com/',
  'http://api.anthropic.com/',
  'http://registry.npmjs.org/',
  'http://deb.debian.org:8080/',
  'http://deb.debian.org:800/',
  'http://deb.debian.org:80x/',
  'http://deb.debian.org@evil.test/x',
  'http://deb.debian.org:80@evil.test/x',
  'http://deb.debian.org.evil.test/',
  'http://deb.debian.org\\@evil.test/',
  'http://deb.debian.org?@evil.test/',
  'http://deb.debian.org#@evil.test/',
  'http://deb.debian.org%2f@evil.test/',
  'http://deb.debian.org..:80/',
  'http://evil.test/deb.debian.org',
  'http://evil.test/http://deb.debian.org/',
  'http://evil.test?http://deb.debian.org/',
  'https://deb.debian.org/',
  'ftp://deb.debian.org/',
  ' http://deb.debian.org/',
  'http:/deb.debian.org/',
  'http://debian.org/',
  'http://x.deb.debian.org/',
  'http://mirror.example/x',
  'http://mirror.example:80/x',
  'http://mirror.example:8080@evil.test/',
  // what a lowercase `connect` request turns into in tinyproxy (transparent mode)
  'http://github.com:80github.com:443',
];

describe('hostile requests', () => {
  it('the list parses cleanly', () => expect(parsed.errors).toEqual([]));
  it('has at least 40 hostile cases', () => expect(mustNotMatch.length).toBeGreaterThanOrEqual(40));
  it.each(mustMatch)('allows %j', (subject) => expect(filterAllows(regexes, subject)).toBe(true));
  it.each(mustNotMatch)('denies %j', (subject) => expect(filterAllows(regexes, subject)).toBe(false));
});
