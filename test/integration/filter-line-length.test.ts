/**
 * Filter lines as long as tinyproxy reads them whole. tinyproxy 1.11 reads the filter with
 * fgets(buf, 512): a line of up to 511 bytes arrives whole, a longer one is split and the rest read
 * as a line of its own. The compiler packs lines up to MAX_FILTER_LINE (511), so here a real
 * tinyproxy runs a filter whose lines are packed to that length, and the last host of the longest
 * exact and wildcard lines — the bytes that would be lost first — must pass, while the requests a
 * truncated or over-matching line would let through stay refused. A copy of the filter with one
 * line padded past 511 bytes shows the boundary is real: tinyproxy then cannot compile it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUFFER_START, MAX_FILTER_LINE } from '../../lib/allowlist/compile.js';
import { ereToJs } from '../allowlist/filter-eval.js';
import { pickLoopbackBlock } from './harness/loopback.js';
import { rawRequest } from './harness/raw-client.js';
import { renderProxyFiles, type RenderedProxyFiles } from './harness/session.js';
import { startTinyproxy, TinyproxyExited, type TinyproxyHandle } from './harness/tinyproxy.js';
import { echoPrefix, startUpstreams, type Upstreams } from './harness/upstreams.js';

const block = pickLoopbackBlock();
// Names that share little, so the trie cannot shorten them much and lines fill to the budget.
const name = (i: number) => `n${((i * 7919) % 100_003).toString(36)}-${i.toString(36)}`;
const EXACT = Array.from({ length: 200 }, (_, i) => `${name(i)}.lines.test`);
const WILD = Array.from({ length: 200 }, (_, i) => `${name(i + 1000)}.wild.test`);
const ALLOWLIST = `${EXACT.join('\n')}\n${WILD.map((h) => `*.${h}`).join('\n')}\n`;

let rendered: RenderedProxyFiles;
let proxy: TinyproxyHandle | undefined;
let upstreams: Upstreams | undefined;

const regexLines = (filter: string) => filter.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

/** The host of `hosts` written last in the longest line that allows it as `subject(host)`. */
function lastOfLongestLine(filter: string, hosts: readonly string[], subject: (h: string) => string): { line: string; host: string } {
  const lines = regexLines(filter);
  const candidates = lines.filter((line) => hosts.some((h) => ereToJs(line).test(subject(h))));
  const line = candidates.reduce((a, b) => (Buffer.byteLength(b) > Buffer.byteLength(a) ? b : a));
  const regex = ereToJs(line);
  // One last label here, so a line's names are written in name order: the greatest comes last.
  const host = hosts.filter((h) => regex.test(subject(h))).reduce((a, b) => (b > a ? b : a));
  return { line, host };
}

let exact: { line: string; host: string };
let wild: { line: string; host: string };

const hosts = () => ({
  [exact.host]: block.ip(2),
  [`x${exact.host}`]: block.ip(9),
  [`${exact.host}.evil.test`]: block.ip(9),
  [`a.${wild.host}`]: block.ip(3),
  [wild.host]: block.ip(9),
  [`a.${wild.host}.evil.test`]: block.ip(9),
  'evil.test': block.ip(9),
});

beforeAll(async () => {
  rendered = renderProxyFiles({ allowlist: ALLOWLIST });
  exact = lastOfLongestLine(rendered.filterText, EXACT, (h) => `${h}:443`);
  wild = lastOfLongestLine(rendered.filterText, WILD, (h) => `a.${h}:443`);
  upstreams = await startUpstreams([
    { name: 'exact', address: block.ip(2), ports: [443] },
    { name: 'wild', address: block.ip(3), ports: [443] },
    { name: 'evil', address: block.ip(9), ports: [22, 443] },
  ]);
  proxy = await startTinyproxy({ confText: rendered.confText, filterText: rendered.filterText, hosts: hosts() });
});

afterAll(async () => {
  await proxy?.stop();
  await upstreams?.stop();
  rendered?.cleanup();
});

async function connectVia(port: number, authority: string) {
  const mark = upstreams!.mark();
  const exchange = await rawRequest({ port, request: `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`, tunnelPayload: 'probe\n' });
  await new Promise((r) => setTimeout(r, 20));
  return { status: exchange.status, response: exchange.response, hits: upstreams!.since(mark).map((h) => h.upstream) };
}

describe('filter lines packed to 511 bytes on a real tinyproxy', () => {
  it('uses the full budget: lines longer than the old 499 bytes, none over 511', () => {
    const lengths = regexLines(rendered.filterText).map((l) => Buffer.byteLength(l));
    expect(MAX_FILTER_LINE).toBe(511);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(511);
    expect(Buffer.byteLength(exact.line)).toBeGreaterThan(499);
    expect(Buffer.byteLength(wild.line)).toBeGreaterThan(499);
  });

  it('lets the last host of the longest exact-host line through', async () => {
    const got = await connectVia(proxy!.port, `${exact.host}:443`);
    expect(got).toMatchObject({ status: 200, hits: ['exact'] });
    expect(got.response).toContain(echoPrefix('exact', 443));
  });

  it('lets a subdomain of the last base of the longest wildcard line through', async () => {
    const got = await connectVia(proxy!.port, `a.${wild.host}:443`);
    expect(got).toMatchObject({ status: 200, hits: ['wild'] });
  });

  it.each([
    ['a longer name ending in the host', () => `x${exact.host}:443`],
    ['the host as a subdomain of another', () => `${exact.host}.evil.test:443`],
    ['the host with a path in front', () => `evil.test/${exact.host}:443`],
    ['the host on a port no rule names', () => `${exact.host}:22`],
    ["the wildcard's own base (not a subdomain of it)", () => `${wild.host}:443`],
    ["a subdomain of the wildcard's base under another name", () => `a.${wild.host}.evil.test:443`],
  ])('refuses %s', async (_what, authority) => {
    const got = await connectVia(proxy!.port, authority());
    expect({ status: got.status, hits: got.hits }).toEqual({ status: 403, hits: [] });
  });
});

describe('the boundary is real', () => {
  it('a line padded past 511 bytes is split by tinyproxy and the filter no longer compiles', async () => {
    const pad = BUFFER_START.repeat(Math.ceil((520 - Buffer.byteLength(exact.line)) / BUFFER_START.length));
    const padded = rendered.filterText.replace(exact.line, `${pad}${exact.line}`);
    expect(Buffer.byteLength(`${pad}${exact.line}`)).toBeGreaterThan(511);
    // The same line under 511 bytes with the padding would be the same regex: only the length differs.
    expect(ereToJs(`${pad}${exact.line}`).test(`${exact.host}:443`)).toBe(true);
    const started = startTinyproxy({ confText: rendered.confText, filterText: padded, hosts: hosts() });
    await expect(started).rejects.toBeInstanceOf(TinyproxyExited);
    await expect(started).rejects.toThrow(/Bad regex/);
  });
});
