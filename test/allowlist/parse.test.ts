import { describe, expect, it } from 'vitest';
import { parseAllowlist, parseEntry } from '../../lib/allowlist/parse.js';
import { formatDiagnostic } from '../../lib/errors.js';

const C = (host: string, port = 443, wildcard = false) => ({ protocol: 'connect', host, wildcard, port });
const H = (host: string, port = 80, wildcard = false) => ({ protocol: 'http', host, wildcard, port });

describe('parseEntry: accepted entries', () => {
  const table: Array<[string, string, object[]]> = [
    ['github.com', 'github.com', [C('github.com')]],
    ['https://github.com', 'github.com', [C('github.com')]],
    ['https://github.com/', 'github.com', [C('github.com')]],
    ['github.com/', 'github.com', [C('github.com')]],
    ['GitHub.COM.', 'github.com', [C('github.com')]],
    ['github.com:443', 'github.com', [C('github.com')]],
    ['github.com:22', 'github.com:22', [C('github.com', 22)]],
    ['https://host.example:8443', 'host.example:8443', [C('host.example', 8443)]],
    ['github.com:0022', 'github.com:22', [C('github.com', 22)]],
    ['http://deb.debian.org', 'http://deb.debian.org', [C('deb.debian.org'), H('deb.debian.org')]],
    ['http://deb.debian.org:80/', 'http://deb.debian.org', [C('deb.debian.org'), H('deb.debian.org')]],
    ['HTTP://Mirror.Example:8080', 'http://mirror.example:8080', [C('mirror.example'), H('mirror.example', 8080)]],
    ['*.npmjs.org', '*.npmjs.org', [C('npmjs.org', 443, true)]],
    ['https://*.npmjs.org/', '*.npmjs.org', [C('npmjs.org', 443, true)]],
    ['*.example.com:8443', '*.example.com:8443', [C('example.com', 8443, true)]],
    ['http://*.debian.org', 'http://*.debian.org', [C('debian.org', 443, true), H('debian.org', 80, true)]],
    ['bücher.de', 'xn--bcher-kva.de', [C('xn--bcher-kva.de')]],
    ['xn--bcher-kva.de', 'xn--bcher-kva.de', [C('xn--bcher-kva.de')]],
    ['*.bücher.de', '*.xn--bcher-kva.de', [C('xn--bcher-kva.de', 443, true)]],
    ['a_b.example.com', 'a_b.example.com', [C('a_b.example.com')]],
    ['ab--cd.example.com', 'ab--cd.example.com', [C('ab--cd.example.com')]],
    ['1.2.3.4.nip.io', '1.2.3.4.nip.io', [C('1.2.3.4.nip.io')]],
    ['0x7f.example.com', '0x7f.example.com', [C('0x7f.example.com')]],
    ['github.io', 'github.io', [C('github.io')]],
    ['*.amazonaws.com', '*.amazonaws.com', [C('amazonaws.com', 443, true)]],
  ];
  it.each(table)('%s → %s', (raw, canonical, rules) => {
    const r = parseEntry(raw);
    expect(r.error).toBeUndefined();
    expect(r.warning).toBeUndefined();
    expect(r.entry).toEqual({ canonical, rules });
  });

  it('the canonical form parses back to itself', () => {
    for (const [raw] of table) {
      const canonical = parseEntry(raw).entry!.canonical;
      expect(parseEntry(canonical).entry!.canonical).toBe(canonical);
    }
  });

  it('converts the exact legacy regex form, with a warning', () => {
    const r = parseEntry('^api\\.anthropic\\.com$');
    expect(r.entry).toEqual({ canonical: 'api.anthropic.com', rules: [C('api.anthropic.com')] });
    expect(r.warning).toMatch(/converted legacy regex `\^api\\\.anthropic\\\.com\$` to `api\.anthropic\.com` — write `api\.anthropic\.com`/);
  });
});

describe('parseEntry: hostile and malformed entries are rejected', () => {
  const long63 = 'a'.repeat(64);
  const name254 = `${'abcdefghi.'.repeat(25)}abcd.com`;
  const table: Array<[string, string]> = [
    ['127.0.0.1', 'IP address'],
    ['2130706433', 'IP address'],
    ['0x7f000001', 'IP address'],
    ['0X7F000001', 'IP address'],
    ['0177.0.0.1', 'IP address'],
    ['127.1', 'IP address'],
    ['0x7f.1', 'IP address'],
    ['1.2.3.0x4', 'IP address'],
    ['example.0x', 'IP address'],
    ['127.0.0.1.', 'IP address'],
    ['http://127.0.0.1:8080', 'IP address'],
    ['１２７.０.０.１', 'IP address'],
    ['[::1]', 'IPv6'],
    ['::1', 'IPv6'],
    ['[fe80::1%25eth0]', 'IPv6'],
    ['fe80::1%eth0', 'IPv6'],
    ['::ffff:1.2.3.4', 'IPv6'],
    ['[::ffff:127.0.0.1]:443', 'IPv6'],
    ['https://[::1]/', 'IPv6'],
    ['*', 'bare `*`'],
    ['*.', 'bare `*`'],
    ['a*.example.com', 'leading `*.`'],
    ['*.*.example.com', 'leading `*.`'],
    ['example.*', 'leading `*.`'],
    ['*example.com', 'leading `*.`'],
    ['*.com', 'top-level domain'],
    ['*.internal', 'top-level domain'],
    ['*.co.uk', 'public suffix `co.uk`'],
    ['*.github.io', 'public suffix `github.io`'],
    ['*.s3.amazonaws.com', 'public suffix `s3.amazonaws.com`'],
    ['http://*.blogspot.com', 'public suffix'],
    ['localhost', 'loopback'],
    ['localhost.', 'loopback'],
    ['*.localhost', 'loopback'],
    ['api.localhost', 'loopback'],
    ['intranet', 'single-label'],
    ['a..b.com', 'empty label'],
    ['.example.com', 'empty label'],
    ['example.com..', 'empty label'],
    [`${long63}.com`, '64 characters long'],
    [name254, 'limit is 253'],
    ['user@example.com', 'user info'],
    ['https://user:pw@example.com', 'user info'],
    ['example.com/path', 'path'],
    ['https://example.com/a/b', 'path'],
    ['example.com/?q=1', 'URL query'],
    ['example.com?', 'URL query'],
    ['example.com#frag', 'fragment'],
    ['exam ple.com', 'whitespace'],
    ['example.com\tfoo.com', 'whitespace'],
    ['^example\\.com', 'regular expression'],
    ['example\\.com', 'regular expression'],
    ['(a|b).com', 'regular expression'],
    ['[a-z].com', 'regular expression'],
    ['example.com$', 'regular expression'],
    ['a+.example.com', 'regular expression'],
    ['ex{2}.com', 'regular expression'],
    ['.*\\.example\\.com', 'regular expression'],
    ['^.*\\.example\\.com$', 'regular expression'],
    ['^(www\\.)?example\\.com$', 'regular expression'],
    ['ftp://example.com', 'scheme `ftp://`'],
    ['git+ssh://example.com', 'scheme `git+ssh://`'],
    ['http:/example.com', 'not a valid URL'],
    ['example.com:0', 'outside 1–65535'],
    ['example.com:65536', 'outside 1–65535'],
    ['example.com:http', 'not a number'],
    ['example.com:-1', 'not a number'],
    ['example.com:', 'port after `:` is empty'],
    ['!example.com', 'add-only'],
    ['-example.com', 'add-only'],
    ['ex%61mple.com', 'percent-encoding'],
    ['exa!mple.com', 'invalid character `!`'],
    ['exa"mple.com', 'invalid character `"`'],
    ['example.com,', 'invalid character `,`'],
    ['bad-.example.com', 'starts or ends with `-`'],
    ['xn--zz.com', 'punycode'],
    ['^127\\.0\\.0\\.1$', 'legacy regex'],
    ['^localhost$', 'regular expression'],
    ['^api\\.localhost$', 'legacy regex'],
  ];
  it.each(table)('%s', (raw, fragment) => {
    const r = parseEntry(raw);
    expect(r.entry).toBeUndefined();
    expect(r.error, raw).toBeDefined();
    expect(r.error!.message).toContain(fragment);
    expect(r.error!.fix.length).toBeGreaterThan(5);
  });
  it('has at least 40 cases', () => expect(table.length).toBeGreaterThanOrEqual(40));
});

describe('parseAllowlist', () => {
  it('skips comments and blank lines, and keeps FILE:LINE for each entry', () => {
    const text = '# heading\n\n  # indented comment\ngithub.com   # trailing comment\n\t*.npmjs.org\t# tab comment\r\nhttp://deb.debian.org\n';
    const r = parseAllowlist(text, '/etc/list');
    expect(r.errors).toEqual([]);
    expect(r.entries.map((e) => [e.canonical, e.source])).toEqual([
      ['github.com', { file: '/etc/list', line: 4 }],
      ['*.npmjs.org', { file: '/etc/list', line: 5 }],
      ['http://deb.debian.org', { file: '/etc/list', line: 6 }],
    ]);
  });

  it('strips a byte-order mark and accepts CRLF line endings', () => {
    const r = parseAllowlist('\uFEFFgithub.com\r\ngitlab.com\r\n', 'f');
    expect(r.entries.map((e) => e.canonical)).toEqual(['github.com', 'gitlab.com']);
    expect(r.errors).toEqual([]);
  });

  it('collects an error for every bad line, formatted FILE:LINE: what — fix', () => {
    const r = parseAllowlist('github.com\n127.0.0.1\nok.example.com\n*.com\ngithub.com#x\n', 'my.conf');
    expect(r.entries.map((e) => e.canonical)).toEqual(['github.com', 'ok.example.com']);
    expect(r.errors.map((d) => d.line)).toEqual([2, 4, 5]);
    expect(formatDiagnostic(r.errors[0]!)).toMatch(/^my\.conf:2: `127\.0\.0\.1` is an IP address, not a host name — /);
  });

  it('reports a legacy regex as a warning at its line, and keeps the entry', () => {
    const r = parseAllowlist('# old list\n^api\\.anthropic\\.com$\n', 'old.conf');
    expect(r.errors).toEqual([]);
    expect(r.entries[0]).toMatchObject({ canonical: 'api.anthropic.com', source: { file: 'old.conf', line: 2 } });
    expect(formatDiagnostic(r.warnings[0]!)).toBe(
      'old.conf:2: converted legacy regex `^api\\.anthropic\\.com$` to `api.anthropic.com` — write `api.anthropic.com`',
    );
  });
});

describe('messages stay printable', () => {
  it('shows control characters as U+XXXX', () => {
    expect(parseEntry('git\u0000hub.com').error!.message).toBe('invalid character U+0000 in host `gitU+0000hub.com`');
  });
});

describe('terminal safety', () => {
  it('escapes control characters in every diagnostic', () => {
    const r = parseAllowlist('\u001b[31m(evil)\n', 'f');
    expect(r.errors[0]!.message).toBe('`U+001B[31m(evil)` looks like a regular expression');
  });
});
