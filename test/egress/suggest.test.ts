import { describe, expect, it } from 'vitest';
import { findAllowingEntry } from '../../lib/allowlist/match.js';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import type { EgressRequest } from '../../lib/allowlist/types.js';
import { broadHostWarning, formatSuggestion, suggestAllowlist, suggestionFor } from '../../lib/egress/suggest.js';

const c = (host: string, port = 443): EgressRequest => ({ host, port, protocol: 'connect' });
const h = (host: string, port = 80): EgressRequest => ({ host, port, protocol: 'http' });

/** The saved file must parse cleanly, and must allow every destination it was made for. */
function expectReady(text: string, destinations: readonly EgressRequest[]): void {
  const parsed = parseAllowlist(text, 'suggested');
  expect(parsed.errors).toEqual([]);
  for (const d of destinations) expect(findAllowingEntry(parsed.entries, d), `${d.host}:${d.port}`).toBeDefined();
}

describe('suggestionFor', () => {
  it('gives the allowlist line for a host, a port and plain HTTP', () => {
    expect(suggestionFor(c('GitHub.com')).text).toBe('github.com');
    expect(suggestionFor(c('github.com', 22)).text).toBe('github.com:22');
    expect(suggestionFor(h('deb.debian.org')).text).toBe('http://deb.debian.org');
    expect(suggestionFor(h('deb.debian.org', 8080)).text).toBe('http://deb.debian.org:8080');
  });

  it('explains instead of suggesting for IP literals, garbage and cut-off names', () => {
    for (const host of ['127.0.0.2', '2130706434', '0x7f000002', '::1', 'a b', 'evil\ttest', '']) {
      const s = suggestionFor(c(host));
      expect(s.ok, host).toBe(false);
      expect(s.text).toMatch(/^# cannot be allowed: /);
      expect(s.text).not.toMatch(/\n/);
    }
    expect(suggestionFor(c('127.0.0.2')).text).toMatch(/IP address/);
    expect(suggestionFor(c('x'.repeat(300)), { truncated: true }).text).toMatch(/cut off/);
  });
});

describe('suggestAllowlist', () => {
  const observed = [
    c('api.anthropic.com'), c('github.com'), c('registry.npmjs.org'), c('www.npmjs.org'), c('npmjs.org'),
    h('deb.debian.org'), c('deb.debian.org'), c('raw.githubusercontent.com'), c('objects.githubusercontent.com'),
    c('dns.google'), c('127.0.0.2'), c('foo.github.io'), c('bar.github.io'), c('github.com', 22),
  ];

  it('without --collapse: one exact line per destination; http:// covers the same host\'s CONNECT 443', () => {
    const s = suggestAllowlist(observed);
    // Sorted by reversed name (domains together), then port.
    expect(s.lines.map((l) => l.line)).toEqual([
      'api.anthropic.com', 'github.com:22', 'github.com', 'objects.githubusercontent.com', 'raw.githubusercontent.com',
      'dns.google', 'bar.github.io', 'foo.github.io', 'http://deb.debian.org', 'npmjs.org', 'registry.npmjs.org', 'www.npmjs.org',
    ]);
    expect(s.lines.find((l) => l.line === 'http://deb.debian.org')!.destinations).toHaveLength(2);
    expect(s.lines.every((l) => !l.line.includes('*'))).toBe(true);
    expect(s.unallowable).toEqual([{ destination: c('127.0.0.2'), reason: expect.stringMatching(/IP address/) }]);
    expectReady(formatSuggestion(s), observed.filter((d) => d.host !== '127.0.0.2'));
  });

  it('with --collapse: folds 2+ siblings under a registrable domain, keeps the apex, never over a public suffix', () => {
    const s = suggestAllowlist(observed, { collapse: true });
    const lines = s.lines.map((l) => l.line);
    expect(lines).toContain('*.npmjs.org');
    expect(lines).toContain('npmjs.org'); // *.npmjs.org does not cover the apex
    expect(lines).not.toContain('registry.npmjs.org');
    // github.io is a public suffix (PSL private section): each site stays exact.
    expect(lines).toEqual(expect.arrayContaining(['foo.github.io', 'bar.github.io']));
    expect(lines.some((l) => l.includes('*.github.io'))).toBe(false);
    // Broad user-content hosts are never folded into a wildcard.
    expect(lines).toEqual(expect.arrayContaining(['raw.githubusercontent.com', 'objects.githubusercontent.com']));
    expect(lines.some((l) => l.includes('*.githubusercontent.com'))).toBe(false);
    expectReady(formatSuggestion(s), observed.filter((d) => d.host !== '127.0.0.2'));
  });

  it('does not fold a wildcard that would quietly cover a broad host seen in the same session', () => {
    const s = suggestAllowlist([c('a.googleapis.com'), c('b.googleapis.com'), c('storage.googleapis.com')], { collapse: true });
    expect(s.lines.map((l) => l.line)).toEqual(['a.googleapis.com', 'b.googleapis.com', 'storage.googleapis.com']);
    expect(s.lines.find((l) => l.line === 'storage.googleapis.com')!.warning).toMatch(/anyone can upload/);
  });

  it('folds only hosts with the same protocol and port', () => {
    const s = suggestAllowlist([c('a.example.com'), c('b.example.com', 8443)], { collapse: true });
    expect(s.lines.map((l) => l.line)).toEqual(['a.example.com', 'b.example.com:8443']);
  });

  it('leaves out what the existing allowlists already allow, and says so', () => {
    const existing = parseAllowlist('api.anthropic.com\n*.npmjs.org\n', 'baseline').entries;
    const s = suggestAllowlist([c('api.anthropic.com'), c('registry.npmjs.org'), c('github.com')], { existing });
    expect(s.lines.map((l) => l.line)).toEqual(['github.com']);
    expect(s.alreadyAllowed.map((a) => [a.destination.host, a.entry])).toEqual([
      ['api.anthropic.com', 'api.anthropic.com'],
      ['registry.npmjs.org', '*.npmjs.org'],
    ]);
    expect(formatSuggestion(s)).toMatch(/^# already allowed, left out: api\.anthropic\.com:443 \(api\.anthropic\.com\), registry\.npmjs\.org:443 \(\*\.npmjs\.org\)$/m);
  });
});

describe('formatSuggestion', () => {
  it('puts a # WARNING line above broad hosts and DNS-over-HTTPS resolvers, and parses cleanly', () => {
    const s = suggestAllowlist([c('raw.githubusercontent.com'), c('dns.google'), c('cloudflare-dns.com'), c('github.com')]);
    const text = formatSuggestion(s, ['from session demo-1a2b']);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('# from session demo-1a2b');
    for (const host of ['raw.githubusercontent.com', 'dns.google', 'cloudflare-dns.com']) {
      const i = lines.indexOf(host);
      expect(lines[i - 1], host).toMatch(/^# WARNING: /);
    }
    expect(lines[lines.indexOf('github.com') - 1]).not.toMatch(/WARNING/);
    expectReady(text, s.lines.flatMap((l) => l.destinations));
  });

  it('flags the known broad hosts and resolvers, and not ordinary ones', () => {
    for (const host of [
      'raw.githubusercontent.com', 'gist.githubusercontent.com', 'objects.githubusercontent.com', 'storage.googleapis.com',
      'bucket.s3.amazonaws.com', 's3.eu-west-1.amazonaws.com', 'acct.blob.core.windows.net', 'pastebin.com',
    ]) {
      expect(broadHostWarning(host), host).toMatch(/anyone can upload/);
    }
    for (const host of ['dns.google', 'cloudflare-dns.com', 'mozilla.cloudflare-dns.com']) expect(broadHostWarning(host), host).toMatch(/DNS-over-HTTPS/);
    for (const host of ['github.com', 'registry.npmjs.org', 'api.anthropic.com', 'googleapis.com']) expect(broadHostWarning(host), host).toBeUndefined();
  });
});
