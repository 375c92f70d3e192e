import { describe, expect, it } from 'vitest';
import { compileFilter, MAX_FILTER_LINE, packHosts } from '../../lib/allowlist/compile.js';
import { effectiveRules } from '../../lib/allowlist/effective.js';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import type { AllowEntry } from '../../lib/allowlist/types.js';
import { assertEreSubset, filterAllows, filterRegexes } from './filter-eval.js';

function entries(text: string): AllowEntry[] {
  const r = parseAllowlist(text, 'test.conf');
  expect(r.errors).toEqual([]);
  return r.entries;
}

const regexLines = (filter: string) => filter.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

/** Deterministic pseudo-random host names with a realistic mix of TLDs. */
function syntheticHosts(n: number, seed = 1): string[] {
  const tlds = ['com', 'com', 'com', 'org', 'net', 'io', 'dev', 'de', 'co.uk', 'cloud'];
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const word = () => Array.from({ length: 4 + Math.floor(rand() * 8) }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(rand() * 36)]).join('');
  return Array.from({ length: n }, (_, i) => `${rand() < 0.3 ? `${word()}.` : ''}${word()}${i}.${tlds[i % tlds.length]}`);
}

describe('compileFilter', () => {
  it('emits anchored, escaped, grouped lines and the ports the config needs', () => {
    const c = compileFilter(entries('github.com\ngitlab.com\n*.npmjs.org\ngithub.com:22\nhttp://deb.debian.org\nhttp://mirror.example:8080\n'));
    expect(regexLines(c.filter)).toEqual([
      "\\`http://(deb\\.debian\\.org)\\.?(:80)?(/|\\')",
      "\\`http://(mirror\\.example)\\.?:8080(/|\\')",
      "\\`(github\\.com)\\.?:22\\'",
      "\\`(git(hub|lab)\\.com|mirror\\.example|deb\\.debian\\.org)\\.?:443\\'",
      "\\`([-a-z0-9_]+\\.)+(npmjs\\.org)\\.?:443\\'",
    ]);
    expect(c).toMatchObject({ connectPorts: [22, 443], httpPorts: [80, 8080], entryCount: 6, ruleCount: 8, lineCount: 5 });
    expect(c.filter.startsWith('# drydock egress filter')).toBe(true);
    assertEreSubset(c.filter);
  });

  it("ends every line at the end of the buffer (\\'), so a newline after an allowed host is refused", () => {
    const c = compileFilter(entries('http://plain.test\nallowed.test\n*.wild.test\n'));
    const lines = regexLines(c.filter);
    for (const line of lines) expect(line.endsWith("\\'") || line.endsWith("(/|\\')"), line).toBe(true);
    // What tinyproxy filters for `Host: plain.test<LF> x.evil.test` (obs-fold, bare LF) and friends.
    const folded = ['http://plain.test\n x.evil.test:80/', 'http://plain.test\n\tx.evil.test:80/', 'http://plain.test\n', 'allowed.test:443\nx.evil.test', 'a.wild.test:443\n'];
    const regexes = filterRegexes(c.filter);
    for (const subject of folded) expect(filterAllows(regexes, subject), JSON.stringify(subject)).toBe(false);
    expect(filterAllows(regexes, 'http://plain.test/')).toBe(true);
    // The evaluator reads `$` as glibc does under REG_NEWLINE: with `$` the same subjects pass.
    const dollar = filterRegexes(c.filter.replaceAll("\\'", '$'));
    expect(folded.filter((subject) => filterAllows(dollar, subject))).toEqual(folded);
  });

  it('drops exact hosts and narrower wildcards that a wildcard of the same protocol and port covers', () => {
    const list = entries('*.npmjs.org\nregistry.npmjs.org\n*.a.npmjs.org\nnpmjs.org\nregistry.npmjs.org:8443\nhttp://x.npmjs.org\n');
    const c = compileFilter(list);
    expect(regexLines(c.filter)).toEqual([
      "\\`http://(x\\.npmjs\\.org)\\.?(:80)?(/|\\')",
      "\\`(npmjs\\.org)\\.?:443\\'",
      "\\`([-a-z0-9_]+\\.)+(npmjs\\.org)\\.?:443\\'",
      "\\`(registry\\.npmjs\\.org)\\.?:8443\\'",
    ]);
    const dropped = effectiveRules(list).dropped;
    expect([...dropped.keys()].map((e) => e.canonical)).toEqual(['registry.npmjs.org', '*.a.npmjs.org', 'http://x.npmjs.org']);
    expect(dropped.get(list[5]!)!.map((d) => [d.rule.protocol, d.coveredBy.canonical])).toEqual([['connect', '*.npmjs.org']]);
  });

  it('merges duplicate rules, and an empty list compiles to comments only (tinyproxy then denies all)', () => {
    expect(compileFilter(entries('a.example\nhttps://a.example/\nhttp://a.example\n')).ruleCount).toBe(2);
    const empty = compileFilter([]);
    expect(regexLines(empty.filter)).toEqual([]);
    expect(empty).toMatchObject({ connectPorts: [], httpPorts: [], lineCount: 0, ruleCount: 0 });
  });

  it('is deterministic: same entries in any order give byte-identical output', () => {
    const list = entries(syntheticHosts(500).join('\n') + '\n*.example.org\nhttp://x.example.net:8080\n');
    const a = compileFilter(list).filter;
    const b = compileFilter([...list].reverse()).filter;
    const shuffled = [...list].sort((x, y) => (x.canonical.length % 7) - (y.canonical.length % 7) || (x.canonical < y.canonical ? 1 : -1));
    expect(b).toBe(a);
    expect(compileFilter(shuffled).filter).toBe(a);
    expect(compileFilter(list).filter).toBe(a);
  });

  it('keeps every line within tinyproxy\'s 511 bytes, even for 253-character names of one-letter labels', () => {
    const longest = `${'a.'.repeat(123)}abc.com`;
    expect(longest.length).toBe(253);
    const list = entries(`${longest}\nhttp://*.${longest.slice(4)}:65535\n${syntheticHosts(2000).join('\n')}`);
    const c = compileFilter(list);
    for (const line of c.filter.split('\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_FILTER_LINE);
    const regexes = filterRegexes(c.filter);
    expect(filterAllows(regexes, `${longest}:443`)).toBe(true);
    expect(filterAllows(regexes, `http://x.${longest.slice(4)}:65535/`)).toBe(true);
  });

  it('packs 10,000 entries into a few hundred lines, each host still matching', () => {
    const hosts = syntheticHosts(10_000);
    const c = compileFilter(entries(hosts.join('\n')));
    expect(c.lineCount).toBeGreaterThan(100);
    expect(c.lineCount).toBeLessThan(500);
    const regexes = filterRegexes(c.filter);
    for (const host of hosts.slice(0, 300)) expect(filterAllows(regexes, `${host}:443`), host).toBe(true);
    expect(filterAllows(regexes, `x${hosts[0]}:443`)).toBe(false);
  });

  it('compiles 100,000 entries into fewer than 5,000 packed lines (its time is measured by npm run bench)', () => {
    const list = entries(syntheticHosts(100_000, 7).join('\n'));
    const c = compileFilter(list);
    expect(c.ruleCount).toBe(100_000);
    expect(c.lineCount).toBeLessThan(5000);
    // A generous limit, not a budget: on a loaded 2-core machine this one test takes seconds.
  }, 60_000);

  it('refuses rules a parser would never produce (the compiler is the only author of regexes)', () => {
    const evil = (host: string, port = 443): AllowEntry => ({
      canonical: host,
      rules: [{ protocol: 'connect', host, wildcard: false, port }],
      source: { file: 'x', line: 1 },
    });
    expect(() => compileFilter([evil('.*')])).toThrow(/invalid rule/);
    expect(() => compileFilter([evil('a.com|.*')])).toThrow(/invalid rule/);
    expect(() => compileFilter([evil('localhostish')])).toThrow(/invalid rule/);
    expect(() => compileFilter([evil('a.com', 0)])).toThrow(/invalid rule/);
  });
});

describe('packHosts', () => {
  it('factors the last label and shared prefixes, and never exceeds the budget', () => {
    expect(packHosts(['a.com', 'b.com', 'c.org'], 100)).toEqual(['[ab]\\.com|c\\.org']);
    expect(packHosts(['api.github.com', 'api.gitlab.com', 'apis.example.com', 'x.io'], 100)).toEqual(['api(\\.git(hub|lab)|s\\.example)\\.com|x\\.io']);
    // A name that is a prefix of another makes the rest optional; `-` stays last in a bracket.
    expect(packHosts(['foo.com', 'foobar.com', 'v1.dev', 'v-.dev', 'v2.dev'], 100)).toEqual(['foo(bar)?\\.com|v[12-]\\.dev']);
    expect(packHosts(['a.b.com', 'a.com', 'ab.com'], 100)).toEqual(['a(\\.b|b)?\\.com']);
    const hosts = syntheticHosts(3000).sort();
    const bodies = packHosts(hosts, 120);
    for (const body of bodies) expect(body.length).toBeLessThanOrEqual(120);
    const regexes = bodies.map((b) => new RegExp(`^(${b})$`));
    for (const host of hosts) expect(regexes.filter((r) => r.test(host)).length, host).toBe(1);
  });
});
