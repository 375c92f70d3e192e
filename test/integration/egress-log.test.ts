/**
 * The log parser, the denial summary and the suggester on REAL tinyproxy output: drive the proxy
 * (drydock's rendered filtering config, then its observe config), read the log it wrote, and check
 * that what drydock reports matches what the test knows it sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAllowingEntry } from '../../lib/allowlist/match.js';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import { formatDenialSummary, parseTinyproxyLog, summarizeDenials, type EgressEvent } from '../../lib/egress/log.js';
import { formatSuggestion, suggestAllowlist } from '../../lib/egress/suggest.js';
import { decide, type Decision } from '../../lib/egress/decision.js';
import { formatRefusal } from '../../lib/egress/refusals.js';
import { safeJsonStringify } from '../../lib/terminal-text.js';
import { pickLoopbackBlock } from './harness/loopback.js';
import { rawRequest } from './harness/raw-client.js';
import { renderProxyFiles } from './harness/session.js';
import { startTinyproxy, type TinyproxyHandle } from './harness/tinyproxy.js';
import { startUpstreams, type Upstreams } from './harness/upstreams.js';

const block = pickLoopbackBlock();
const LONG = `${'x'.repeat(900)}.evil.test`;
const hosts = {
  'allowed.test': block.ip(2),
  'plain.test': block.ip(3),
  'a.wild.test': block.ip(4),
  'b.wild.test': block.ip(4),
  'evil.test': block.ip(9),
  'raw.githubusercontent.com': block.ip(9),
};
let upstreams: Upstreams | undefined;
const proxies: TinyproxyHandle[] = [];

beforeAll(async () => {
  upstreams = await startUpstreams(
    ['allowed', 'plain', 'wild', 'evil'].map((name, i) => ({ name, address: block.ip([2, 3, 4, 9][i]!), ports: [22, 80, 443, 8080] })),
  );
});

afterAll(async () => {
  for (const p of proxies) await p.stop();
  await upstreams?.stop();
});

async function drive(observe: boolean, requests: string[], logLevel?: string): Promise<{ log: string; events: EgressEvent[] }> {
  const rendered = renderProxyFiles({ allowlist: 'allowed.test\nhttp://plain.test\n', observe });
  try {
    const confText = logLevel ? rendered.confText.replace(/^LogLevel .*$/m, `LogLevel ${logLevel}`) : rendered.confText;
    const proxy = await startTinyproxy({ confText, filterText: rendered.filterText, hosts });
    proxies.push(proxy);
    for (const request of requests) await rawRequest({ port: proxy.port, request, tunnelPayload: '\x16probe\n', timeoutMs: 1500 });
    await proxy.stop(); // every connection closed: the log is complete, as after a session
    const log = proxy.readLog();
    return { log, events: parseTinyproxyLog(log) };
  } finally {
    rendered.cleanup();
  }
}

const key = (e: { action?: string; host: string; port?: number; protocol?: string }) => `${e.action ?? ''} ${e.protocol}:${e.host}:${e.port}`;

describe('on a filtering session (drydock\'s config: LogLevel Info)', () => {
  let events: EgressEvent[];
  let log: string;

  beforeAll(async () => {
    ({ log, events } = await drive(false, [
      'CONNECT allowed.test:443 HTTP/1.1\r\n\r\n',
      'CONNECT evil.test:443 HTTP/1.1\r\n\r\n',
      'CONNECT Evil.Test:443 HTTP/1.1\r\n\r\n',
      'CONNECT allowed.test:22 HTTP/1.1\r\n\r\n',
      'GET http://plain.test/x HTTP/1.1\r\n\r\n',
      'GET http://plain.test:8080/x HTTP/1.1\r\n\r\n',
      'GET /z HTTP/1.1\r\nHost: evil.test\r\n\r\n',
      'CONNECT allowed.test:443@evil.test:443 HTTP/1.1\r\n\r\n',
      `CONNECT ${block.ip(2)}:443 HTTP/1.1\r\n\r\n`,
      `CONNECT ${LONG}:443 HTTP/1.1\r\n\r\n`,
      'CONNECT allowed.test :443 HTTP/1.1\r\n\r\n', // malformed: 400, never egress
    ]));
  });

  it('reads every request the proxy saw, with the verdict it gave', () => {
    expect(events.map(key)).toEqual([
      'allowed connect:allowed.test:443',
      'denied connect:evil.test:443',
      'denied connect:Evil.Test:443',
      'denied connect:allowed.test:22',
      'allowed http:plain.test:80',
      'denied http:plain.test:8080',
      'denied http:evil.test:80',
      'denied connect:evil.test:443',
      `denied connect:${block.ip(2)}:443`,
      expect.stringMatching(/^denied connect:x+:443$/),
    ]);
    expect(log).toMatch(/Proxying refused on filtered url "x{600,}\n/); // the real cut line has no closing quote
    expect(events[9]!.truncated).toBe(true);
  });

  it('summarises each denied destination once, and every suggestion is what `allowlist check` then allows', () => {
    const summaries = summarizeDenials(events);
    expect(summaries.map((s) => [s.host, s.port, s.protocol, s.count])).toEqual([
      ['evil.test', 443, 'connect', 3],
      [block.ip(2), 443, 'connect', 1],
      ['allowed.test', 22, 'connect', 1],
      ['evil.test', 80, 'http', 1],
      ['plain.test', 8080, 'http', 1],
      [expect.stringMatching(/^x+$/), 443, 'connect', 1],
    ]);
    for (const s of summaries) {
      if (s.suggestion.startsWith('#')) continue;
      const parsed = parseAllowlist(`allowed.test\n${s.suggestion}\n`, 'egress-allowlist-test');
      expect(parsed.errors).toEqual([]);
      expect(findAllowingEntry(parsed.entries, s), s.suggestion).toBeDefined();
    }
    expect(summaries.filter((s) => s.suggestion.startsWith('# cannot be allowed')).map((s) => s.host)).toEqual([block.ip(2), expect.stringMatching(/^x+$/)]);
    expect(formatDenialSummary(summaries)).toMatch(/refused 6 destinations/);
  });
});

describe('at LogLevel Connect (fewer lines; a ConnectPort refusal leaves no line of its own)', () => {
  it('gives the same verdicts, the port refusal inferred from a CONNECT with no outcome', async () => {
    const { log, events } = await drive(false, [
      'CONNECT allowed.test:443 HTTP/1.1\r\n\r\n',
      'CONNECT allowed.test:22 HTTP/1.1\r\n\r\n',
      'GET /z HTTP/1.1\r\nHost: evil.test\r\n\r\n',
      'GET http://plain.test/x HTTP/1.1\r\n\r\n',
    ], 'Connect');
    expect(log).not.toMatch(/Refused CONNECT method/);
    // The inferred refusal is settled when its file descriptor is reused, or at the end of the
    // log when it is not: which of the two happens depends on how tinyproxy's threads ran, so
    // the verdicts are compared, not their order.
    expect(events.map(key).sort()).toEqual([
      'allowed connect:allowed.test:443',
      'allowed http:plain.test:80',
      'denied connect:allowed.test:22',
      'denied http:evil.test:80',
    ]);
    expect(events.find((e) => key(e) === 'denied connect:allowed.test:22')!.raw).toMatch(/Request \(file descriptor \d+\): CONNECT allowed\.test:22/);
  });
});

describe('on an observe session (no filter: every destination logged)', () => {
  let events: EgressEvent[];

  beforeAll(async () => {
    ({ events } = await drive(true, [
      'CONNECT allowed.test:443 HTTP/1.1\r\n\r\n',
      'CONNECT a.wild.test:443 HTTP/1.1\r\n\r\n',
      'CONNECT b.wild.test:443 HTTP/1.1\r\n\r\n',
      'CONNECT raw.githubusercontent.com:443 HTTP/1.1\r\n\r\n',
      'CONNECT evil.test:22 HTTP/1.1\r\n\r\n',
      'GET http://plain.test/x HTTP/1.1\r\n\r\n',
      'CONNECT gone.invalid:443 HTTP/1.1\r\n\r\n',
    ]));
  });

  it('sees every destination as allowed; one that did not resolve is `failed` (resolve_failed), not refused', () => {
    expect(events.map(key)).toEqual([
      'allowed connect:allowed.test:443',
      'allowed connect:a.wild.test:443',
      'allowed connect:b.wild.test:443',
      'allowed connect:raw.githubusercontent.com:443',
      'allowed connect:evil.test:22',
      'allowed http:plain.test:80',
      'failed connect:gone.invalid:443',
    ]);
    expect(events[6]!.reason).toBe('resolve_failed');
  });

  it('turns them into an allowlist that parses cleanly and allows each of them (and folds with --collapse)', () => {
    const destinations = events.map((e) => ({ host: e.host, port: e.port!, protocol: e.protocol! }));
    for (const collapse of [false, true]) {
      const text = formatSuggestion(suggestAllowlist(destinations, { collapse }));
      const parsed = parseAllowlist(text, 'suggested');
      expect(parsed.errors).toEqual([]);
      for (const d of destinations) expect(findAllowingEntry(parsed.entries, d), `${d.host}:${d.port}`).toBeDefined();
      expect(text).toMatch(/# WARNING: raw\.githubusercontent\.com .*\nraw\.githubusercontent\.com\n/);
      expect(text).toMatch(/^evil\.test:22$/m);
      expect(text).toMatch(/^http:\/\/plain\.test$/m);
      expect(/^\*\.wild\.test$/m.test(text)).toBe(collapse);
    }
  });
});

describe('typed decisions on real tinyproxy output (issue #15: egress log --json)', () => {
  const allowlist = 'allowed.test\nhttp://plain.test\n';
  const entries = parseAllowlist(allowlist, '/cfg/egress-allowlist-attack').entries;
  const ctx = { session: 'attack-0a0a', entries, projectList: '/cfg/egress-allowlist-attack', observe: false };
  let decisions: Decision[];
  let log: string;

  beforeAll(async () => {
    let events: EgressEvent[];
    ({ log, events } = await drive(false, [
      'CONNECT allowed.test:443 HTTP/1.1\r\n\r\n',
      'CONNECT evil.test:443 HTTP/1.1\r\n\r\n',
      'CONNECT allowed.test:8443 HTTP/1.1\r\n\r\n',
      'CONNECT allowed.test:22 HTTP/1.1\r\n\r\n',
      'GET http://allowed.test/x HTTP/1.1\r\n\r\n',
      `CONNECT ${block.ip(2)}:443 HTTP/1.1\r\n\r\n`,
      'GET http://plain.test/x HTTP/1.1\r\n\r\n',
      // Hostile targets: a CR (logged, once missing from the summary), window title, colour, OSC 8.
      'CONNECT ev\ril.test:443 HTTP/1.1\r\n\r\n',
      'CONNECT ev\ril.test:443 HTTP/1.1\r\n\r\n',
      'CONNECT \x1b]0;pwned\x07.test:443 HTTP/1.1\r\n\r\n',
      'CONNECT \x1b[31mred.test:443 HTTP/1.1\r\n\r\n',
      'CONNECT \x1b]8;;x\x1b\\link.test:443 HTTP/1.1\r\n\r\n',
    ]));
    decisions = events.map((e) => decide(e, ctx));
  });

  it('gives each request its action, reason, method and the entry (file:line) that allowed it or would', () => {
    expect(decisions.slice(0, 7).map((d) => [d.action, d.reason, d.method, d.protocol, d.host, d.port])).toEqual([
      ['allowed', 'allowlisted', 'CONNECT', 'connect', 'allowed.test', 443],
      ['denied', 'not_allowlisted', 'CONNECT', 'connect', 'evil.test', 443],
      ['denied', 'port_not_allowed', 'CONNECT', 'connect', 'allowed.test', 8443],
      ['denied', 'port_not_allowed', 'CONNECT', 'connect', 'allowed.test', 22],
      ['denied', 'port_not_allowed', 'GET', 'http', 'allowed.test', 80],
      ['denied', 'ip_literal', 'CONNECT', 'connect', block.ip(2), 443],
      ['allowed', 'allowlisted', 'GET', 'http', 'plain.test', 80],
    ]);
    expect(decisions[0]!.allowedBy).toEqual({ entry: 'allowed.test', file: '/cfg/egress-allowlist-attack', line: 1 });
    expect(decisions[6]!.allowedBy).toEqual({ entry: 'http://plain.test', file: '/cfg/egress-allowlist-attack', line: 2 });
    expect(decisions[1]!.wouldAllow).toEqual({ entry: 'evil.test', file: '/cfg/egress-allowlist-attack' });
    expect(decisions[3]).toMatchObject({ hostListedBy: { entry: 'allowed.test', line: 1 }, wouldAllow: { entry: 'allowed.test:22' } });
    expect(decisions[5]).toMatchObject({ wouldAllow: null, cannotAllow: expect.stringMatching(/IP address/) });
  });

  it('counts the CR target every time it was logged (2 logged, 2 reported) and prints every hostile target escaped', () => {
    expect(log.match(/refused on filtered url "ev\ril\.test:443"/g)).toHaveLength(2);
    const summary = summarizeDenials(parseTinyproxyLog(log));
    expect(summary.find((s) => s.host === 'ev\ril.test')?.count).toBe(2);
    const text = formatDenialSummary(summary);
    expect(text).toContain('ev\\ril.test:443');
    expect(text).toContain('\\x1b]0;pwned\\x07.test:443');
    expect(text).toContain('\\x1b[31mred.test:443');
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    for (const d of decisions) expect(formatRefusal(d)).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    for (const d of decisions) expect(safeJsonStringify(d)).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
  });
});
