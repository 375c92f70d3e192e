/**
 * The compiled regexes (evaluated as JS RegExp with the `i` flag, which the compiler's ERE subset
 * allows) and the direct semantics in match.ts must agree on every request; and for every accepted
 * entry, the filter matches what the entry names and nothing next to it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFilter, packHosts } from '../../lib/allowlist/compile.js';
import { findAllowingEntry } from '../../lib/allowlist/match.js';
import { parseEntry } from '../../lib/allowlist/parse.js';
import type { AllowEntry, EgressRequest, Protocol } from '../../lib/allowlist/types.js';
import { assertEreSubset, filterAllows, filterRegexes, requestSubjects } from './filter-eval.js';

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9_-]{0,8}[a-z0-9])?$/);
const tld = fc.constantFrom('test', 'example', 'com', 'org', 'io', 'dev', 'sk', 'xn--p1ai');
const hostName = fc.tuple(fc.array(label, { minLength: 1, maxLength: 3 }), tld).map(([ls, t]) => [...ls, t].join('.'));
const port = fc.oneof(fc.constantFrom(22, 80, 443, 8080, 8443), fc.integer({ min: 1, max: 65535 }));

/** Entry text in every spelling the language allows. */
const entryText = fc
  .record({
    scheme: fc.constantFrom('', 'https://', 'http://', 'HTTP://'),
    wildcard: fc.boolean(),
    host: hostName,
    port: fc.option(port, { nil: undefined }),
    upper: fc.boolean(),
    trailingDot: fc.boolean(),
    slash: fc.boolean(),
  })
  .map((r) => {
    const host = `${r.wildcard ? '*.' : ''}${r.upper ? r.host.toUpperCase() : r.host}${r.trailingDot ? '.' : ''}`;
    return `${r.scheme}${host}${r.port === undefined ? '' : `:${r.port}`}${r.slash ? '/' : ''}`;
  });

function toEntry(text: string, line = 1): AllowEntry | undefined {
  const r = parseEntry(text);
  return r.entry ? { ...r.entry, source: { file: 'prop.conf', line } } : undefined;
}

const entryList = fc
  .array(entryText, { minLength: 1, maxLength: 12 })
  .map((texts) => texts.map((t, i) => toEntry(t, i + 1)).filter((e): e is AllowEntry => e !== undefined))
  .filter((es) => es.length > 0);

/** Characters a hostile client could put into a host (not `/`: tinyproxy ends the host there). */
const hostileChar = fc.constantFrom('@', ':', '%', '\\', '?', '#', ' ', '\t', '\n', '\r', '.', '-', '_', 'A', 'z', '0', '*', '$', '^', '[', ']', 'é', '\u212a', '\u0130', '\u017f');

/** Requests near the entries: the hosts themselves, their subdomains, and mutations of them. */
function nearbyRequest(entries: AllowEntry[]): fc.Arbitrary<EgressRequest> {
  const bases = entries.flatMap((e) => e.rules.map((r) => r.host));
  const base = fc.constantFrom(...bases);
  const mutated = fc.oneof(
    base,
    fc.tuple(label, base).map(([l, b]) => `${l}.${b}`),
    fc.tuple(label, label, base).map(([a, b, c]) => `${a}.${b}.${c}`),
    fc.tuple(hostileChar, base).map(([c, b]) => `${c}${b}`),
    fc.tuple(base, hostileChar).map(([b, c]) => `${b}${c}`),
    fc.tuple(base, fc.integer({ min: 0, max: 40 }), hostileChar).map(([b, i, c]) => b.slice(0, i) + c + b.slice(i + 1)),
    base.map((b) => b.slice(b.indexOf('.') + 1)),
    base.map((b) => `${b}.evil.test`),
    base.map((b) => `${b}..`),
    base.map((b) => `${b}.`),
    base.map((b) => b.toUpperCase()),
    // Non-ASCII that full Unicode case folding would turn into ASCII (Kelvin sign → k, ſ → S).
    base.map((b) => b.replace(/k/g, '\u212a').replace(/s/g, '\u017f')),
    fc.tuple(base, label).map(([b, l]) => `${l}${b}`),
    fc.tuple(base, hostName).map(([b, h]) => `${b}@${h}`),
    fc.tuple(base, hostName).map(([b, h]) => `${h}@${b}`),
    // Header folding: tinyproxy keeps a folded Host header's newline in the URL it filters.
    fc.tuple(base, fc.constantFrom('\n ', '\n\t', '\r\n ', '\n'), hostName).map(([b, fold, h]) => `${b}${fold}${h}`),
    hostName,
  );
  const ports = fc.oneof(port, fc.constantFrom(...entries.flatMap((e) => e.rules.map((r) => r.port))));
  return fc.record({ host: mutated, port: ports, protocol: fc.constantFrom<Protocol>('connect', 'http') });
}

describe('compiled filter ⇔ findAllowingEntry', () => {
  it('agree on random requests near random entry lists (every request spelling)', () => {
    fc.assert(
      fc.property(
        entryList.chain((entries) => fc.tuple(fc.constant(entries), fc.array(nearbyRequest(entries), { minLength: 20, maxLength: 40 }))),
        ([entries, requests]) => {
          const compiled = compileFilter(entries);
          assertEreSubset(compiled.filter);
          const regexes = filterRegexes(compiled.filter);
          for (const req of requests) {
            const expected = findAllowingEntry(entries, req) !== undefined;
            for (const subject of requestSubjects(req)) {
              if (filterAllows(regexes, subject) !== expected) {
                throw new Error(`disagree on ${JSON.stringify(subject)} (oracle: ${expected})\n${compiled.filter}`);
              }
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('each accepted entry, alone', () => {
  it('matches its host:port (and subdomains of a wildcard), and not the apex, other ports, protocols or neighbours', () => {
    fc.assert(
      fc.property(entryText, label, label, hostileChar, (text, sub1, sub2, junk) => {
        const entry = toEntry(text);
        fc.pre(entry !== undefined);
        const regexes = filterRegexes(compileFilter([entry!]).filter);
        const allows = (req: EgressRequest) => requestSubjects(req).every((s) => filterAllows(regexes, s));
        const denies = (req: EgressRequest) => requestSubjects(req).every((s) => !filterAllows(regexes, s));
        for (const rule of entry!.rules) {
          const { host, port: p, protocol } = rule;
          const other: Protocol = protocol === 'connect' ? 'http' : 'connect';
          const coveredElsewhere = (req: EgressRequest) => entry!.rules.some((r) => r !== rule && r.protocol === req.protocol && r.port === req.port);
          if (rule.wildcard) {
            expect(allows({ host: `${sub1}.${host}`, port: p, protocol })).toBe(true);
            expect(allows({ host: `${sub1}.${sub2}.${host}`.toUpperCase(), port: p, protocol })).toBe(true);
            expect(denies({ host, port: p, protocol })).toBe(true);
            expect(denies({ host: `${sub1}${host}`, port: p, protocol })).toBe(true);
            expect(denies({ host: `${junk}.${host}`, port: p, protocol }) || /[-_.a-z0-9]/i.test(junk)).toBe(true);
          } else {
            expect(allows({ host, port: p, protocol })).toBe(true);
            expect(allows({ host: `${host.toUpperCase()}.`, port: p, protocol })).toBe(true);
            expect(denies({ host: `${sub1}.${host}`, port: p, protocol })).toBe(true);
            expect(denies({ host: `${sub1}${host}`, port: p, protocol })).toBe(true);
            expect(denies({ host: `${junk}${host}`, port: p, protocol })).toBe(true);
          }
          expect(denies({ host: `${host}${junk}`, port: p, protocol }) || junk === '.').toBe(true);
          expect(denies({ host: `${host}.${sub1}.invalid`, port: p, protocol })).toBe(true);
          expect(denies({ host: `${sub1}.${host}@evil.test`, port: p, protocol })).toBe(true);
          expect(denies({ host: host.slice(host.indexOf('.') + 1), port: p, protocol })).toBe(true);
          const otherPort = p === 65535 ? 1 : p + 1;
          if (!coveredElsewhere({ host, port: otherPort, protocol })) {
            expect(denies({ host: rule.wildcard ? `${sub1}.${host}` : host, port: otherPort, protocol })).toBe(true);
          }
          if (!coveredElsewhere({ host, port: p, protocol: other })) {
            expect(denies({ host: rule.wildcard ? `${sub1}.${host}` : host, port: p, protocol: other })).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('determinism', () => {
  it('any permutation of the same entries compiles to the same bytes', () => {
    fc.assert(
      fc.property(entryList.chain((es) => fc.tuple(fc.constant(es), fc.shuffledSubarray(es, { minLength: es.length }))), ([a, b]) => {
        expect(compileFilter(b).filter).toBe(compileFilter(a).filter);
      }),
      { numRuns: 200 },
    );
  });
});

describe('packHosts (the trie layout)', () => {
  // A tiny alphabet, so that names share prefixes, end inside one another and differ by one byte.
  const tinyLabel = fc.stringMatching(/^[ab-]{1,3}$/);
  const tinyHost = fc.tuple(fc.array(tinyLabel, { minLength: 1, maxLength: 3 }), fc.constantFrom('x', 'y')).map(([ls, t]) => [...ls, t].join('.'));
  it('each body matches exactly its share of the hosts, whatever the budget', () => {
    fc.assert(
      fc.property(fc.uniqueArray(tinyHost, { minLength: 1, maxLength: 60 }), fc.integer({ min: 40, max: 400 }), fc.array(tinyHost, { maxLength: 40 }), (hosts, budget, probes) => {
        const bodies = packHosts([...hosts].sort(), budget);
        for (const body of bodies) expect(body.length).toBeLessThanOrEqual(budget);
        const regexes = bodies.map((b) => new RegExp(`^(?:${b})$`));
        for (const host of hosts) expect(regexes.filter((r) => r.test(host)), host).toHaveLength(1);
        const set = new Set(hosts);
        for (const probe of [...probes, ...hosts.map((h) => `${h}a`), ...hosts.map((h) => h.slice(1))]) {
          expect(regexes.some((r) => r.test(probe)), probe).toBe(set.has(probe));
        }
      }),
      { numRuns: 500 },
    );
  });
});
