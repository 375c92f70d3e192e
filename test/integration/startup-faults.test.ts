/**
 * What the real tinyproxy does with drydock's config when the filter file is missing, unreadable or
 * empty. Measured on Debian's 1.11.1: a missing or unreadable filter makes it refuse to start
 * (`filter file: …`, exit 65 = EX_DATAERR) — it never falls back to allowing everything — and an
 * empty filter (or one with only comments) denies every request.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compileFilter } from '../../lib/allowlist/compile.js';
import { renderTinyproxyConf } from '../../lib/egress/tinyproxy-conf.js';
import { directiveValues } from './harness/conf-rewrite.js';
import { pickLoopbackBlock } from './harness/loopback.js';
import { rawRequest } from './harness/raw-client.js';
import { renderProxyFiles, type RenderedProxyFiles } from './harness/session.js';
import { startTinyproxy, TinyproxyExited, type TinyproxyHandle } from './harness/tinyproxy.js';
import { startUpstreams, type Upstreams } from './harness/upstreams.js';

const EX_DATAERR = 65;
const NOBODY = { uid: 65534, gid: 65534 };
const block = pickLoopbackBlock();
const hosts = { 'allowed.test': block.ip(2), 'plain.test': block.ip(3) };

let rendered: RenderedProxyFiles;
let upstreams: Upstreams | undefined;
let proxy: TinyproxyHandle | undefined;

beforeAll(async () => {
  rendered = renderProxyFiles({ allowlist: 'allowed.test\nhttp://plain.test\n' });
  upstreams = await startUpstreams([
    { name: 'allowed', address: block.ip(2), ports: [80, 443] },
    { name: 'plain', address: block.ip(3), ports: [80, 443] },
  ]);
});

afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

afterAll(async () => {
  await upstreams?.stop();
  rendered?.cleanup();
});

async function startFailure(options: Parameters<typeof startTinyproxy>[0]): Promise<TinyproxyExited> {
  try {
    proxy = await startTinyproxy(options);
  } catch (error) {
    if (error instanceof TinyproxyExited) return error;
    throw error;
  }
  throw new Error('tinyproxy started, but it was expected to refuse');
}

async function expectDeniesEverything(handle: TinyproxyHandle): Promise<void> {
  const mark = upstreams!.mark();
  for (const request of [
    'CONNECT allowed.test:443 HTTP/1.1\r\n\r\n',
    'CONNECT plain.test:443 HTTP/1.1\r\n\r\n',
    'GET http://plain.test/ HTTP/1.1\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: plain.test\r\n\r\n',
  ]) {
    const exchange = await rawRequest({ port: handle.port, request });
    expect({ request, status: exchange.status }).toEqual({ request, status: 403 });
  }
  expect(upstreams!.since(mark)).toEqual([]);
}

describe('tinyproxy start-up faults (fail closed)', () => {
  it('the rendered config names a filter file and lists its ConnectPorts explicitly', () => {
    expect(directiveValues(rendered.confText, 'Filter')).toHaveLength(1);
    expect(directiveValues(rendered.confText, 'FilterDefaultDeny')).toEqual(['Yes']);
    expect(directiveValues(rendered.confText, 'ConnectPort')).toEqual(['443']);
  });

  it('a missing filter file: tinyproxy refuses to start', async () => {
    const failure = await startFailure({ confText: rendered.confText, filterText: undefined, hosts });
    expect(failure.code).toBe(EX_DATAERR);
    expect(failure.output).toMatch(/filter file: No such file or directory/);
  });

  it('an unreadable filter file (mode 000, tinyproxy running as nobody): tinyproxy refuses to start', async () => {
    const failure = await startFailure({ confText: rendered.confText, filterText: rendered.filterText, filterMode: 0o000, hosts, runAs: NOBODY });
    expect(failure.code).toBe(EX_DATAERR);
    expect(failure.output).toMatch(/filter file: Permission denied/);
  });

  it('control: the same filter readable by nobody starts and filters (so mode 000 was the cause)', async () => {
    proxy = await startTinyproxy({ confText: rendered.confText, filterText: rendered.filterText, filterMode: 0o644, hosts, runAs: NOBODY });
    const mark = upstreams!.mark();
    expect((await rawRequest({ port: proxy.port, request: 'GET http://plain.test/ HTTP/1.1\r\n\r\n' })).status).toBe(200);
    expect((await rawRequest({ port: proxy.port, request: 'GET http://allowed.test/ HTTP/1.1\r\n\r\n' })).status).toBe(403);
    expect(upstreams!.since(mark).map((h) => h.upstream)).toEqual(['plain']);
  });

  it('an empty filter file denies everything', async () => {
    proxy = await startTinyproxy({ confText: rendered.confText, filterText: '', hosts });
    await expectDeniesEverything(proxy);
  });

  it('a config rendered from zero entries (comments-only filter, default ConnectPort 443) denies everything', async () => {
    const compiled = compileFilter([]);
    const confText = renderTinyproxyConf({ compiled, filterPath: '/etc/drydock/egress-filter' });
    expect(directiveValues(confText, 'ConnectPort')).toEqual(['443']);
    proxy = await startTinyproxy({ confText, filterText: compiled.filter, hosts });
    await expectDeniesEverything(proxy);
  });
});
