/**
 * The compiled filter against a real tinyproxy 1.11.1: every row of attack-cases.ts is sent raw,
 * and the verdict is read from both ends — the proxy's answer and which upstream saw a connection.
 * The suite ends with a tally that must be 0 bypasses and 0 wrongly refused.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALLOWLIST, attackCases, hostsFor, type AttackCase } from './attack-cases.js';
import { directiveValues } from './harness/conf-rewrite.js';
import { pickLoopbackBlock } from './harness/loopback.js';
import { rawRequest, type RawExchange } from './harness/raw-client.js';
import { renderProxyFiles, type RenderedProxyFiles } from './harness/session.js';
import { startTinyproxy, type TinyproxyHandle } from './harness/tinyproxy.js';
import { echoPrefix, startUpstreams, upstreamBody, type UpstreamHit, type Upstreams } from './harness/upstreams.js';

const block = pickLoopbackBlock();
const cases = attackCases(block);
const ALL_PORTS = [22, 80, 443, 8080, 8443];

let rendered: RenderedProxyFiles;
let proxy: TinyproxyHandle | undefined;
let upstreams: Upstreams | undefined;
const hostsBefore = readFileSync('/etc/hosts');

interface Outcome {
  row: AttackCase;
  exchange: RawExchange;
  hits: UpstreamHit[];
}
const outcomes: Outcome[] = [];

beforeAll(async () => {
  rendered = renderProxyFiles({ allowlist: ALLOWLIST });
  upstreams = await startUpstreams([
    { name: 'allowed', address: block.ip(2), ports: ALL_PORTS },
    { name: 'plain', address: block.ip(3), ports: ALL_PORTS },
    { name: 'wild', address: block.ip(4), ports: ALL_PORTS },
    { name: 'api', address: block.ip(5), ports: ALL_PORTS },
    { name: 'apex', address: block.ip(6), ports: ALL_PORTS },
    { name: 'evil', address: block.ip(9), ports: ALL_PORTS },
    { name: 'ipv6-loopback', address: '::1', ports: [80, 443] },
  ]);
  proxy = await startTinyproxy({ confText: rendered.confText, filterText: rendered.filterText, hosts: hostsFor(block) });
});

afterAll(async () => {
  await proxy?.stop();
  await upstreams?.stop();
  rendered?.cleanup();
});

function isTunnel(row: AttackCase): boolean {
  return /^CONNECT /.test(row.request);
}

function reachedAsExpected(o: Outcome): boolean {
  const [name, port] = (o.row.reaches ?? ':').split(':');
  const answer = isTunnel(o.row) ? echoPrefix(name!, Number(port)) : upstreamBody(name!, Number(port));
  return (
    o.exchange.status === 200 &&
    o.exchange.response.includes(answer) &&
    o.hits.length === 1 &&
    o.hits[0]!.upstream === name &&
    o.hits[0]!.port === Number(port)
  );
}

describe('the rendered proxy config', () => {
  it('has a Filter line, deny-by-default URL filtering, and explicit ConnectPort lines', () => {
    expect(directiveValues(rendered.confText, 'Filter')).toEqual(['/etc/drydock/egress-filter']);
    expect(directiveValues(rendered.confText, 'FilterDefaultDeny')).toEqual(['Yes']);
    expect(directiveValues(rendered.confText, 'FilterURLs')).toEqual(['Yes']);
    expect(directiveValues(rendered.confText, 'ConnectPort').sort()).toEqual(['443', '8443']);
  });

  it('is used unchanged but for Listen, Port, LogFile and PidFile, inside a namespace whose /etc/hosts is private', () => {
    const conf = readFileSync(`/proc/${proxy!.pid}/cmdline`, 'utf8').split('\0');
    expect(conf.slice(0, 3)).toEqual(['tinyproxy', '-d', '-c']);
    const running = readFileSync(conf[3]!, 'utf8');
    const strip = (text: string) =>
      text.split('\n').filter((l) => !/^\s*(Listen|Port|LogFile|PidFile)\b/i.test(l) && !l.startsWith('# test harness') && l !== '');
    expect(strip(running)).toEqual(strip(rendered.confText));
    // The proxy's view of /etc/hosts has the test names; the machine's file did not change.
    expect(readFileSync(`/proc/${proxy!.pid}/root/etc/hosts`, 'utf8')).toContain(`${block.ip(2)} allowed.test`);
    expect(readFileSync('/etc/hosts').equals(hostsBefore)).toBe(true);
    expect(readFileSync('/etc/hosts', 'utf8')).not.toContain('allowed.test');
  });
});

describe(`attack table (${cases.length} raw requests)`, () => {
  it('has at least 60 rows, each with an expected verdict', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    for (const row of cases) expect(row.verdict === 'allowed' ? row.reaches : row.status).toBeDefined();
  });

  it.each(cases.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const mark = upstreams!.mark();
    const exchange = await rawRequest({ port: proxy!.port, request: row.request, tunnelPayload: '\x16drydock-tunnel-probe\n' });
    // A connection the proxy opened late would still be counted against this row.
    await new Promise((r) => setTimeout(r, 20));
    const outcome = { row, exchange, hits: upstreams!.since(mark) };
    outcomes.push(outcome);
    const firstLine = exchange.response.split('\r\n')[0];
    if (row.verdict === 'allowed') {
      expect({ reached: reachedAsExpected(outcome), firstLine, hits: outcome.hits }).toEqual({
        reached: true,
        firstLine: expect.stringMatching(/ 200 /),
        hits: [expect.objectContaining({ upstream: row.reaches!.split(':')[0], port: Number(row.reaches!.split(':')[1]) })],
      });
    } else {
      expect({ status: exchange.status, hits: outcome.hits }).toEqual({ status: row.status, hits: [] });
    }
  });

  it('ends with 0 bypasses and 0 wrongly refused, and no stray upstream connection', () => {
    const bypasses = outcomes.filter((o) => o.row.verdict === 'denied' && (o.hits.length > 0 || o.exchange.status === 200));
    const wronglyRefused = outcomes.filter((o) => o.row.verdict === 'allowed' && !reachedAsExpected(o));
    expect(outcomes).toHaveLength(cases.length);
    expect(bypasses.map((o) => o.row.name)).toEqual([]);
    expect(wronglyRefused.map((o) => o.row.name)).toEqual([]);
    const expectedHits = cases.filter((c) => c.verdict === 'allowed').length;
    expect(upstreams!.hits).toHaveLength(expectedHits);
  });
});

describe('the table can fail', () => {
  it("finds the newline rows passing the filter when the lines end with `$` instead of `\\'`", async () => {
    const dollar = rendered.filterText.replace(/\(\/\|\\'\)$/gm, '(/|$)').replace(/\\'$/gm, '$');
    expect(dollar).not.toBe(rendered.filterText);
    const weak = await startTinyproxy({ confText: rendered.confText, filterText: dollar, hosts: hostsFor(block) });
    try {
      const passed: string[] = [];
      for (const row of cases.filter((c) => c.verdict === 'denied' && c.status === 403)) {
        const exchange = await rawRequest({ port: weak.port, request: row.request });
        // 500: the filter let it through and only name resolution stopped it.
        if (exchange.status !== 403) passed.push(row.name);
      }
      expect(passed).toEqual(expect.arrayContaining(['obs-fold with a bare LF: Host: plain.test<LF> x.evil.test', 'obs-fold with a bare LF and a tab']));
    } finally {
      await weak.stop();
    }
  });

  it('finds bypasses when the same rows meet a filter whose host patterns are not terminated', async () => {
    // The compiler's guard against `host@evil`, `host.evil`, `host#@evil`: `\\.?:443\\'` and `(/|\\')`.
    const weakened = rendered.filterText.replace(/\(\/\|\\'\)$/gm, '').replace(/\\'$/gm, '');
    expect(weakened).not.toBe(rendered.filterText);
    const weak = await startTinyproxy({ confText: rendered.confText, filterText: weakened, hosts: hostsFor(block) });
    try {
      const bypassed: string[] = [];
      for (const row of cases.filter((c) => c.verdict === 'denied')) {
        const mark = upstreams!.mark();
        const exchange = await rawRequest({ port: weak.port, request: row.request, tunnelPayload: '\x16probe\n' });
        await new Promise((r) => setTimeout(r, 20));
        if (upstreams!.since(mark).length > 0 || exchange.status === 200) bypassed.push(row.name);
      }
      expect(bypassed).toEqual(expect.arrayContaining(['userinfo with port: allowed.test:443@evil.test:443', 'fragment before @: http://plain.test#@evil.test/', 'http userinfo on an http host: http://plain.test@evil.test/']));
    } finally {
      await weak.stop();
    }
  });
});
