import { describe, expect, it } from 'vitest';
import { describeRequest, findAllowingEntry, parseTarget, suggestLine } from '../../lib/allowlist/match.js';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import { parseEntry } from '../../lib/allowlist/parse.js';

const { entries } = parseAllowlist('github.com\n*.npmjs.org\ngithub.com:22\nhttp://deb.debian.org\n', 'm.conf');

describe('findAllowingEntry', () => {
  it('finds the entry (and so its source) that allows a request', () => {
    expect(findAllowingEntry(entries, { host: 'GitHub.com.', port: 443, protocol: 'connect' })?.source).toEqual({ file: 'm.conf', line: 1 });
    expect(findAllowingEntry(entries, { host: 'a.b.npmjs.org', port: 443, protocol: 'connect' })?.canonical).toBe('*.npmjs.org');
    expect(findAllowingEntry(entries, { host: 'github.com', port: 22, protocol: 'connect' })?.canonical).toBe('github.com:22');
    expect(findAllowingEntry(entries, { host: 'deb.debian.org', port: 80, protocol: 'http' })?.canonical).toBe('http://deb.debian.org');
    expect(findAllowingEntry(entries, { host: 'deb.debian.org', port: 443, protocol: 'connect' })?.canonical).toBe('http://deb.debian.org');
  });
  it('returns undefined for the apex of a wildcard, other ports and protocols', () => {
    expect(findAllowingEntry(entries, { host: 'npmjs.org', port: 443, protocol: 'connect' })).toBeUndefined();
    expect(findAllowingEntry(entries, { host: 'github.com', port: 80, protocol: 'http' })).toBeUndefined();
    expect(findAllowingEntry(entries, { host: 'deb.debian.org', port: 8080, protocol: 'http' })).toBeUndefined();
    expect(findAllowingEntry(entries, { host: 'a..npmjs.org', port: 443, protocol: 'connect' })).toBeUndefined();
  });
});

describe('suggestLine', () => {
  it.each([
    [{ host: 'github.com', port: 443, protocol: 'connect' as const }, 'github.com'],
    [{ host: 'github.com', port: 22, protocol: 'connect' as const }, 'github.com:22'],
    [{ host: 'Deb.Debian.org.', port: 80, protocol: 'http' as const }, 'http://deb.debian.org'],
    [{ host: 'mirror.example', port: 8080, protocol: 'http' as const }, 'http://mirror.example:8080'],
  ])('%j → %s, which parses back to an entry allowing it', (req, line) => {
    expect(suggestLine(req)).toBe(line);
    const entry = parseEntry(line).entry!;
    expect(findAllowingEntry([{ ...entry, source: { file: 'x', line: 1 } }], req)).toBeDefined();
  });
  it('describes requests for messages', () => {
    expect(describeRequest({ host: 'github.com', port: 22, protocol: 'connect' })).toBe('github.com:22');
    expect(describeRequest({ host: 'deb.debian.org', port: 80, protocol: 'http' })).toBe('http://deb.debian.org:80');
  });
});

describe('parseTarget', () => {
  it.each([
    ['github.com', {}, { host: 'github.com', port: 443, protocol: 'connect' }],
    ['GitHub.com:22', {}, { host: 'github.com', port: 22, protocol: 'connect' }],
    ['deb.debian.org', { http: true }, { host: 'deb.debian.org', port: 80, protocol: 'http' }],
    ['http://deb.debian.org:8080/', {}, { host: 'deb.debian.org', port: 8080, protocol: 'http' }],
    ['https://github.com', {}, { host: 'github.com', port: 443, protocol: 'connect' }],
  ])('%s %j', (text, opts, req) => expect(parseTarget(text, opts)).toEqual({ ok: true, req }));
  it.each([
    ['127.0.0.1', 'IP address'],
    ['[::1]:443', 'IPv6'],
    ['*.npmjs.org', 'pattern'],
    ['not a host', 'whitespace'],
    ['localhost', 'loopback'],
    ['github.com:99999', 'outside'],
  ])('rejects %s', (text, fragment) => {
    const r = parseTarget(text);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain(fragment);
  });
});
