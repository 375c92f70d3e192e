import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import { findAllowingEntry } from '../../lib/allowlist/match.js';
import {
  MAX_LOG_LINE,
  TinyproxyLogParser,
  formatDenialSummary,
  parseTinyproxyLog,
  splitTarget,
  summarizeDenials,
} from '../../lib/egress/log.js';

// Lines as tinyproxy 1.11.1 writes them with drydock's config (LogLevel Connect), captured from
// the integration tier; timestamps and pids shortened only where it does not matter.
const at = (level: string, message: string) => `${level.padEnd(9)} Nov 22 18:52:38.817 [3356]: ${message}`;
const req = (fd: number, line: string) => at('CONNECT', `Request (file descriptor ${fd}): ${line}`);
const conn = (fd: number) => at('CONNECT', `Connect (file descriptor ${fd}): 10.0.0.3`);
const refused = (url: string) => at('NOTICE', `Proxying refused on filtered url "${url}"`);
const established = (host: string, fd = 9) => at('CONNECT', `Established connection to host "${host}" using file descriptor ${fd}.`);

describe('parseTinyproxyLog', () => {
  it('reads a filtered CONNECT, a filtered absolute URI and a filtered transparent (Host-header) request', () => {
    const events = parseTinyproxyLog(
      [
        conn(5), req(5, 'CONNECT xgithub.com:443 HTTP/1.1'), refused('xgithub.com:443'),
        conn(5), req(5, 'GET http://evil.test/y HTTP/1.1'), refused('http://evil.test/y'),
        conn(5), req(5, 'GET /z HTTP/1.1'), refused('http://evil.test:8080/z'),
      ].join('\n'),
    );
    expect(events.map((e) => [e.action, e.host, e.port, e.protocol])).toEqual([
      ['denied', 'xgithub.com', 443, 'connect'],
      ['denied', 'evil.test', 80, 'http'],
      ['denied', 'evil.test', 8080, 'http'],
    ]);
    expect(events[0]).toMatchObject({ time: 'Nov 22 18:52:38.817', reason: 'not_allowlisted', method: 'CONNECT', raw: refused('xgithub.com:443') });
  });

  it('reads allowed requests from `Established connection`, pairing by host across interleaved threads', () => {
    const events = parseTinyproxyLog(
      [
        conn(5), req(5, 'CONNECT github.com:443 HTTP/1.1'),
        conn(6), req(6, 'GET http://deb.debian.org/dists HTTP/1.1'),
        established('deb.debian.org', 7), established('github.com', 8),
      ].join('\n'),
    );
    expect(events.map((e) => [e.action, e.host, e.port, e.protocol])).toEqual([
      ['allowed', 'deb.debian.org', 80, 'http'],
      ['allowed', 'github.com', 443, 'connect'],
    ]);
  });

  it('a request the filter let through but that could not connect is `failed`: resolve_failed or upstream_failed', () => {
    const events = parseTinyproxyLog(
      [conn(5), req(5, 'CONNECT gone.example:443 HTTP/1.1'),
        at('ERROR', 'opensock: Could not retrieve address info for gone.example:443: Name or service not known')].join('\n'),
    );
    expect(events).toEqual([expect.objectContaining({ action: 'failed', host: 'gone.example', port: 443, reason: 'resolve_failed', detail: expect.stringMatching(/Name or service not known/) })]);
    const refusedUpstream = parseTinyproxyLog([conn(5), req(5, 'GET http://127.0.0.1:1/ HTTP/1.1'), at('ERROR', 'opensock: Could not establish a connection to 127.0.0.1:1')].join('\n'));
    expect(refusedUpstream).toEqual([expect.objectContaining({ action: 'failed', reason: 'upstream_failed', method: 'GET', host: '127.0.0.1', port: 1 })]);
  });

  it('a CONNECT with no outcome line was refused by ConnectPort (LogLevel Connect hides that refusal)', () => {
    const events = parseTinyproxyLog([conn(5), req(5, 'CONNECT github.com:22 HTTP/1.1'), conn(5), req(5, 'CONNECT github.com:443 HTTP/1.1'), established('github.com')].join('\n'));
    expect(events.map((e) => [e.action, e.host, e.port])).toEqual([
      ['denied', 'github.com', 22],
      ['allowed', 'github.com', 443],
    ]);
    expect(events[0]).toMatchObject({ reason: 'port_not_allowed', method: 'CONNECT' });
  });

  it('pairs `Refused CONNECT method on port N` (LogLevel Info) with the request of that port', () => {
    const events = parseTinyproxyLog(
      [conn(5), req(5, 'CONNECT a.test:443 HTTP/1.1'), conn(6), req(6, 'CONNECT b.test:22 HTTP/1.1'),
        at('INFO', 'Refused CONNECT method on port 22'), established('a.test')].join('\n'),
    );
    expect(events.map((e) => [e.action, e.host, e.port])).toEqual([
      ['denied', 'b.test', 22],
      ['allowed', 'a.test', 443],
    ]);
  });

  it('reads domain-mode refusals and takes port and protocol from the request', () => {
    const events = parseTinyproxyLog([req(4, 'GET http://plain.test:8080/ HTTP/1.1'), at('NOTICE', 'Proxying refused on filtered domain "plain.test"')].join('\n'));
    expect(events).toEqual([expect.objectContaining({ action: 'denied', host: 'plain.test', port: 8080, protocol: 'http' })]);
  });

  it('strips userinfo and ports the way tinyproxy does, so the host is where the connection would have gone', () => {
    const events = parseTinyproxyLog([refused('allowed.test:443@evil.test:443'), refused('http://plain.test:80@evil.test/x'), refused('http://a@plain.test:80@evil.test/x')].join('\n'));
    expect(events.map((e) => [e.host, e.port, e.protocol])).toEqual([
      ['evil.test', 443, 'connect'],
      ['evil.test', 80, 'http'],
      // only up to the FIRST `@` is dropped; then the last `:` ends the host
      ['plain.test', 80, 'http'],
    ]);
    expect(splitTarget('[::1]:8443', 443)).toEqual({ host: '::1', port: 8443 });
    expect(splitTarget('github.com', 443)).toEqual({ host: 'github.com', port: 443 });
  });

  it('handles a refusal line cut at 800 bytes (no closing quote) and marks the host truncated', () => {
    const host = `${'x'.repeat(900)}.evil.test`;
    const full = refused(`${host}:443`);
    const cut = full.slice(0, MAX_LOG_LINE);
    const requestLine = req(5, `CONNECT ${host}:443 HTTP/1.1`).slice(0, MAX_LOG_LINE);
    const events = parseTinyproxyLog([conn(5), requestLine, cut, conn(5)].join('\n'));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'denied', truncated: true, port: 443 });
    expect(host.startsWith(events[0]!.host)).toBe(true);
  });

  it('ignores malformed requests that never left the proxy, start-up noise and foreign lines', () => {
    const events = parseTinyproxyLog(
      [at('NOTICE', 'Initializing tinyproxy ...'), conn(5), req(5, 'CONNECT a.test :443 HTTP/1.1'),
        at('ERROR', 'process_request: Bad Request on file descriptor 5'), 'not a tinyproxy line', ''].join('\n'),
    );
    expect(events).toEqual([]);
  });

  it('reads lines behind a `docker logs -t` stamp and with a CR from a copied file', () => {
    const events = parseTinyproxyLog(`2024-05-01T10:00:01.000000001Z ${refused('evil.test:443')}\r\n`);
    expect(events).toEqual([expect.objectContaining({ action: 'denied', host: 'evil.test', port: 443 })]);
  });

  it('feeds line by line as well as all at once', () => {
    const parser = new TinyproxyLogParser();
    expect(parser.push(req(5, 'CONNECT evil.test:443 HTTP/1.1'))).toEqual([]);
    expect(parser.push(refused('evil.test:443'))).toEqual([expect.objectContaining({ host: 'evil.test' })]);
    expect(parser.end()).toEqual([]);
  });
});

describe('summarizeDenials / formatDenialSummary', () => {
  const log = [
    refused('xgithub.com:443'), refused('XGitHub.com:443'), refused('xgithub.com:443'),
    refused('http://deb.debian.org:8080/x'), refused('127.0.0.2:443'), refused('registry.npmjs.org:443'),
    conn(5), req(5, 'CONNECT github.com:22 HTTP/1.1'), conn(5),
    req(6, 'CONNECT github.com:443 HTTP/1.1'), established('github.com'),
  ].join('\n');
  const summaries = summarizeDenials(parseTinyproxyLog(log));

  it('folds each host+port+protocol once (case-insensitively), counts it, sorts by count then host', () => {
    expect(summaries.map((s) => [s.host, s.port, s.protocol, s.count])).toEqual([
      ['xgithub.com', 443, 'connect', 3],
      ['127.0.0.2', 443, 'connect', 1],
      ['deb.debian.org', 8080, 'http', 1],
      ['github.com', 22, 'connect', 1],
      ['registry.npmjs.org', 443, 'connect', 1],
    ]);
  });

  it('suggests the line `allowlist check` agrees with: adding it to a list allows exactly that denial', () => {
    for (const s of summaries.filter((x) => !x.suggestion.startsWith('#'))) {
      const parsed = parseAllowlist(`# my list\n${s.suggestion}\n`, 'egress-allowlist');
      expect(parsed.errors).toEqual([]);
      expect(findAllowingEntry(parsed.entries, s)).toBeDefined();
    }
    expect(summaries.map((s) => s.suggestion)).toEqual([
      'xgithub.com',
      expect.stringMatching(/^# cannot be allowed: .*IP address/),
      'http://deb.debian.org:8080',
      'github.com:22',
      'registry.npmjs.org',
    ]);
  });

  it('prints each denial with its count and line, and nothing when nothing was refused', () => {
    const text = formatDenialSummary(summaries);
    expect(text).toMatch(/refused 5 destinations/);
    expect(text).toMatch(/xgithub\.com:443\s+3×\s+to allow, add: xgithub\.com\n/);
    expect(text).toMatch(/127\.0\.0\.2:443\s+1×\s+cannot be allowed: /);
    expect(text).toMatch(/drydock allowlist check/);
    expect(formatDenialSummary([])).toBe('');
  });
});

describe('formatDenialSummary names the files to edit', () => {
  const summary = [{ host: 'evil.test', port: 443, protocol: 'connect' as const, count: 2, reason: 'not_allowlisted' as const, suggestion: 'evil.test' }];
  it('uses the real config dir and project file when they are known', () => {
    const text = formatDenialSummary(summary, { global: '/cfg/egress-allowlist', project: '/cfg/egress-allowlist-app' });
    expect(text).toContain('Add a line to /cfg/egress-allowlist-app (this project) or /cfg/egress-allowlist (every project)');
    expect(text).not.toContain('~/.config');
  });
  it('falls back to the default location without them', () => {
    expect(formatDenialSummary(summary)).toContain('~/.config/drydock/egress-allowlist');
  });
  it('says the address floor\'s refusals reached the agent as 500, the filter\'s as 403', () => {
    const floor = { ...summary[0]!, host: 'meta.test', reason: 'private_address' as const, suggestion: '# cannot be allowed: meta.test resolved to a private or local address' };
    expect(formatDenialSummary(summary)).toMatch(/^The egress proxy refused 1 destination \(403\):/);
    expect(formatDenialSummary([floor])).toMatch(/^The egress proxy refused 1 destination \(500\):/);
    expect(formatDenialSummary([...summary, floor])).toMatch(/^The egress proxy refused 2 destinations \(403; 500 for a private address\):/);
  });
});
