import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import { decide, type DecisionContext } from '../../lib/egress/decision.js';
import { EgressLogPipeline } from '../../lib/egress/log-pipeline.js';
import { parseTinyproxyLog } from '../../lib/egress/log.js';
import { RefusalTally, formatDenialSummary, formatRefusal, summarizeDenials } from '../../lib/egress/refusals.js';

const at = (level: string, message: string) => `${level.padEnd(9)} Nov 22 18:52:38.817 [3356]: ${message}`;
const req = (fd: number, line: string) => at('CONNECT', `Request (file descriptor ${fd}): ${line}`);
const refused = (url: string) => at('NOTICE', `Proxying refused on filtered url "${url}"`);
const established = (host: string) => at('CONNECT', `Established connection to host "${host}" using file descriptor 9.`);

const entries = parseAllowlist('github.com\nhttp://plain.test\n*.wild.test\n', '/cfg/egress-allowlist-app').entries;
const ctx: DecisionContext = { session: 'app-0001', entries, projectList: '/cfg/egress-allowlist-app', observe: false };
const decisions = (lines: string[], c = ctx) => parseTinyproxyLog(lines.join('\n')).map((e) => decide(e, c));

describe('decide', () => {
  it('names the entry (file:line) that allowed a request', () => {
    const [d] = decisions([req(5, 'CONNECT a.wild.test:443 HTTP/1.1'), established('a.wild.test')]);
    expect(d).toEqual({
      time: 'Nov 22 18:52:38.817', session: 'app-0001', action: 'allowed', reason: 'allowlisted', method: 'CONNECT',
      protocol: 'connect', host: 'a.wild.test', port: 443,
      allowedBy: { entry: '*.wild.test', file: '/cfg/egress-allowlist-app', line: 3 },
      wouldAllow: null, cannotAllow: null, hostListedBy: null, detail: null, truncated: false,
    });
  });

  it('a refusal carries the line that would allow it and the file it goes in', () => {
    const [d] = decisions([req(5, 'CONNECT evil.test:443 HTTP/1.1'), refused('evil.test:443')]);
    expect(d).toMatchObject({ action: 'denied', reason: 'not_allowlisted', wouldAllow: { entry: 'evil.test', file: '/cfg/egress-allowlist-app' }, cannotAllow: null });
  });

  it('a listed host on another port or scheme is port_not_allowed, with the entry that lists it', () => {
    const [tls, plain] = decisions([
      req(5, 'CONNECT github.com:8443 HTTP/1.1'), refused('github.com:8443'),
      req(6, 'GET http://github.com/x HTTP/1.1'), refused('http://github.com/x'),
    ]);
    expect(tls).toMatchObject({ reason: 'port_not_allowed', hostListedBy: { entry: 'github.com', line: 1 }, wouldAllow: { entry: 'github.com:8443' } });
    expect(plain).toMatchObject({ reason: 'port_not_allowed', protocol: 'http', wouldAllow: { entry: 'http://github.com' } });
  });

  it('a ConnectPort refusal is port_not_allowed; an IP literal is ip_literal and cannot be allowed', () => {
    const [port, ip] = decisions([
      req(5, 'CONNECT github.com:22 HTTP/1.1'), at('INFO', 'Refused CONNECT method on port 22'),
      req(6, 'CONNECT 10.1.2.3:443 HTTP/1.1'), refused('10.1.2.3:443'),
    ]);
    expect(port).toMatchObject({ action: 'denied', reason: 'port_not_allowed', host: 'github.com', port: 22, wouldAllow: { entry: 'github.com:22' } });
    expect(ip).toMatchObject({ action: 'denied', reason: 'ip_literal', wouldAllow: null, cannotAllow: expect.stringMatching(/IP address/) });
  });

  it('a name the resolver refused as private is denied private_address; any other failed lookup is resolve_failed', () => {
    const [priv, gone, down] = decisions([
      req(5, 'CONNECT github.com:443 HTTP/1.1'),
      'Nov 22 18:52:38 dnsmasq[12]: possible DNS-rebind attack detected: github.com',
      at('ERROR', 'opensock: Could not retrieve address info for github.com:443: Name or service not known'),
      req(6, 'CONNECT github.com:443 HTTP/1.1'),
      at('ERROR', 'opensock: Could not retrieve address info for github.com:443: Name or service not known'),
      req(7, 'GET http://plain.test/ HTTP/1.1'),
      at('ERROR', 'opensock: Could not establish a connection to plain.test'),
    ]);
    expect(priv).toMatchObject({ action: 'denied', reason: 'private_address', host: 'github.com', port: 443, wouldAllow: null, cannotAllow: expect.stringMatching(/private or local address/) });
    expect(gone).toMatchObject({ action: 'failed', reason: 'resolve_failed', allowedBy: { entry: 'github.com' } });
    expect(down).toMatchObject({ action: 'failed', reason: 'upstream_failed', method: 'GET', protocol: 'http', port: 80, allowedBy: { entry: 'http://plain.test' } });
  });

  it('reads the sidecar\'s own floor line too, once per request (its A and AAAA answers both refused)', () => {
    const floor = 'drydock-egress: refused meta.test: resolved to a private address (refused by the address floor)';
    const ds = decisions([
      req(5, 'CONNECT meta.test:443 HTTP/1.1'), floor, floor,
      at('ERROR', 'opensock: Could not retrieve address info for meta.test:443: Name or service not known'),
    ]);
    expect(ds).toEqual([expect.objectContaining({ action: 'denied', reason: 'private_address', method: 'CONNECT', host: 'meta.test', port: 443 })]);
  });

  it('the resolver line counts only at the start of a line: a request quoting it fakes nothing', () => {
    const [d] = decisions([
      req(5, 'CONNECT x.test:443 HTTP/1.1 dnsmasq[1]: possible DNS-rebind attack detected: x.test'),
      at('ERROR', 'opensock: Could not retrieve address info for x.test:443: Name or service not known'),
    ]);
    expect(d).toMatchObject({ reason: 'resolve_failed' });
  });

  it('observe mode: every allowed request is `observe`, with no entry', () => {
    const [d] = decisions([req(5, 'CONNECT anything.test:443 HTTP/1.1'), established('anything.test')], { ...ctx, observe: true });
    expect(d).toMatchObject({ action: 'allowed', reason: 'observe', allowedBy: null });
  });

  it('a refusal the allowlist allows now (edited since the session started) says so instead of suggesting a line', () => {
    const [d] = decisions([req(5, 'CONNECT github.com:443 HTTP/1.1'), refused('github.com:443')]);
    expect(d).toMatchObject({ wouldAllow: null, cannotAllow: null, hostListedBy: { entry: 'github.com' }, detail: expect.stringMatching(/allows it now/) });
  });
});

describe('a target holding a CR (issue #13: 2 logged, 1 reported)', () => {
  it('is parsed, counted and summarised like any other', () => {
    const log = [req(5, 'CONNECT evil.test:443 HTTP/1.1'), refused('evil.test:443'), req(6, 'CONNECT ev\ril.test:443 HTTP/1.1'), refused('ev\ril.test:443')];
    const events = parseTinyproxyLog(log.join('\n'));
    expect(events.map((e) => e.host)).toEqual(['evil.test', 'ev\ril.test']);
    const summary = summarizeDenials(events);
    expect(summary.reduce((n, s) => n + s.count, 0)).toBe(2);
    const text = formatDenialSummary(summary);
    expect(text).toMatch(/refused 2 destinations/);
    expect(text).toContain('ev\\ril.test:443');
    expect(text).not.toContain('\r');
  });
});

describe('escaped output: window title, colour and OSC 8 in a refused target', () => {
  const hostile = ['\x1b]0;pwned\x07.test', '\x1b[31mred.test', '\x1b]8;;https://x.test/\x1b\\a.test'];
  const events = parseTinyproxyLog(hostile.flatMap((h, i) => [req(i + 5, `CONNECT ${h}:443 HTTP/1.1`), refused(`${h}:443`)]).join('\n'));

  it('the summary shows them escaped, every one counted', () => {
    const text = formatDenialSummary(summarizeDenials(events));
    expect(text).toMatch(/refused 3 destinations/);
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(text).toContain('\\x1b]0;pwned\\x07.test:443');
  });

  it('--follow lines are rendered escaped from the typed decision', () => {
    for (const e of events) {
      const line = formatRefusal(decide(e, ctx));
      expect(line).toMatch(/^refused /);
      expect(line).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    }
  });
});

describe('bounded counting', () => {
  it('past the destination cap, refusals are counted but no new destination is remembered', () => {
    const tally = new RefusalTally(3);
    for (let i = 0; i < 10; i += 1) tally.add({ action: 'denied', reason: 'not_allowlisted', host: `h${i}.test`, port: 443, protocol: 'connect', raw: '' });
    tally.add({ action: 'denied', reason: 'not_allowlisted', host: 'h0.test', port: 443, protocol: 'connect', raw: '' });
    const report = tally.report({ lines: 11, complete: true });
    expect(report.destinations).toHaveLength(3);
    expect(report).toMatchObject({ refused: 11, unlisted: 7 });
    expect(report.destinations[0]).toMatchObject({ host: 'h0.test', count: 2 });
    expect(formatDenialSummary(report.destinations, undefined, report)).toMatch(/refused 3\+ destinations[\s\S]*7 more refusals/);
  });

  it('the pipeline gives the summary the decisions\' reasons', () => {
    const pipeline = new EgressLogPipeline({}, ctx);
    for (const line of [req(5, 'CONNECT github.com:8443 HTTP/1.1'), refused('github.com:8443')]) pipeline.line(line);
    expect(pipeline.end().destinations).toEqual([expect.objectContaining({ host: 'github.com', reason: 'port_not_allowed', suggestion: 'github.com:8443' })]);
  });
});
