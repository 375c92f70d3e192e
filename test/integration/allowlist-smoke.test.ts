/**
 * The compiled filter against the real tinyproxy (1.11.1 on Debian 12). Everything runs in a
 * private network + mount + pid namespace: loopback only, test names mapped to 127.0.0.1 by a
 * bind-mounted /etc/hosts, backends on 127.0.0.1, and when the probe exits the kernel ends
 * tinyproxy with the namespace. No packet can leave the machine. Needs root and tinyproxy.
 */
import { execFile, execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileFilter } from '../../lib/allowlist/compile.js';
import { findAllowingEntry } from '../../lib/allowlist/match.js';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import type { AllowEntry, EgressRequest } from '../../lib/allowlist/types.js';
import { renderTinyproxyConf } from '../../lib/egress/tinyproxy-conf.js';
import { describeIf } from '../helpers/requires.js';
import { tempDir } from '../helpers/temp-dir.js';

function available(): boolean {
  try {
    execFileSync('tinyproxy', ['-v'], { stdio: 'ignore' });
    execFileSync('unshare', ['-m', '-n', '-p', '-f', '--', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const PROXY_PORT = 18888;

/** Runs inside the namespace: backends, tinyproxy, one raw request per connection. */
const PROBE = String.raw`
import net from 'node:net';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
const [conf, proxyPort, reqFile] = process.argv.slice(2);
const requests = JSON.parse(readFileSync(reqFile, 'utf8'));
setTimeout(() => { console.error('probe deadline'); process.exit(3); }, 25000).unref();
for (const port of [22, 443, 8443]) net.createServer((s) => s.end('BACKEND-' + port + '\n')).listen(port, '127.0.0.1');
for (const port of [80, 8080]) net.createServer((s) => s.once('data', () => s.end('HTTP/1.0 200 OK\r\n\r\nBACKEND-' + port + '\n'))).listen(port, '127.0.0.1');
const proxy = spawn('tinyproxy', ['-d', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
let log = '';
proxy.stdout.on('data', (d) => (log += d));
proxy.stderr.on('data', (d) => (log += d));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const up = () => new Promise((r) => { const s = net.connect(+proxyPort, '127.0.0.1', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
let ready = false;
for (let i = 0; i < 200 && !ready && proxy.exitCode === null; i++) { ready = await up(); if (!ready) await sleep(50); }
const send = (raw) => new Promise((resolve) => {
  const s = net.connect(+proxyPort, '127.0.0.1');
  let buf = '';
  const done = () => { s.destroy(); resolve(buf); };
  s.setTimeout(3000, done);
  s.on('data', (d) => { buf += d; if (buf.includes('BACKEND-')) done(); });
  s.on('end', done); s.on('error', done);
  s.write(raw);
});
const results = [];
for (const raw of ready ? requests : []) {
  const out = await send(raw);
  const status = out.split('\r\n')[0] ?? '';
  results.push(out.includes('BACKEND-') ? 'reached' : / 403 /.test(status) ? 'denied' : 'failed: ' + status);
}
proxy.kill('SIGTERM');
process.stdout.write(JSON.stringify({ ready, results, log: log.slice(-3000) }));
process.exit(0);
`;

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function probe(opts: { conf: string; filter?: string; hosts: string[]; requests: string[] }): Promise<{ ready: boolean; results: string[]; log: string }> {
  const dir = tempDir('allowlist-smoke');
  dirs.push(dir);
  writeFileSync(join(dir, 'probe.mjs'), PROBE);
  writeFileSync(join(dir, 'hosts'), `127.0.0.1 localhost\n${opts.hosts.map((h) => `127.0.0.1 ${h}`).join('\n')}\n`);
  writeFileSync(join(dir, 'requests.json'), JSON.stringify(opts.requests));
  writeFileSync(join(dir, 'tinyproxy.conf'), opts.conf.replaceAll('@FILTER@', join(dir, 'filter')));
  if (opts.filter !== undefined) writeFileSync(join(dir, 'filter'), opts.filter);
  const script = 'ip link set lo up && mount --bind "$0/hosts" /etc/hosts && exec "$1" "$0/probe.mjs" "$0/tinyproxy.conf" "$2" "$0/requests.json"';
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      'unshare',
      ['-m', '-n', '-p', '-f', '--kill-child', '--', 'sh', '-c', script, dir, process.execPath, String(PROXY_PORT)],
      { timeout: 40_000, killSignal: 'SIGKILL' },
      (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
    );
  });
  return JSON.parse(stdout);
}

const CONNECT = (target: string) => `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`;
const GET = (url: string, host?: string) => `GET ${url} HTTP/1.1\r\n${host ? `Host: ${host}\r\n` : ''}\r\n`;

function compiled(text: string): { entries: AllowEntry[]; conf: string; filter: string } {
  const parsed = parseAllowlist(text, 'smoke.conf');
  expect(parsed.errors).toEqual([]);
  const c = compileFilter(parsed.entries);
  return {
    entries: parsed.entries,
    filter: c.filter,
    conf: renderTinyproxyConf({ compiled: c, filterPath: '@FILTER@', port: PROXY_PORT, listen: '127.0.0.1' }),
  };
}

describeIf(available(), 'root, tinyproxy and unshare', 'compiled filter in the real tinyproxy', () => {
  it('allows exactly what the entries say, and refuses the look-alikes', async () => {
    const list = compiled('allowed.test\n*.wild.test\nallowed.test:22\nhttp://plain.test\nhttp://alt.test:8080\n');
    // [raw request, expected verdict, the request as findAllowingEntry sees it (when it is one)]
    const table: Array<[string, 'reached' | 'denied', EgressRequest?]> = [
      [CONNECT('allowed.test:443'), 'reached', { host: 'allowed.test', port: 443, protocol: 'connect' }],
      [CONNECT('ALLOWED.TEST:443'), 'reached', { host: 'ALLOWED.TEST', port: 443, protocol: 'connect' }],
      [CONNECT('allowed.test:22'), 'reached', { host: 'allowed.test', port: 22, protocol: 'connect' }],
      [CONNECT('a.wild.test:443'), 'reached', { host: 'a.wild.test', port: 443, protocol: 'connect' }],
      [CONNECT('B.c.Wild.TEST:443'), 'reached', { host: 'B.c.Wild.TEST', port: 443, protocol: 'connect' }],
      [CONNECT('plain.test:443'), 'reached', { host: 'plain.test', port: 443, protocol: 'connect' }],
      [CONNECT('wild.test:443'), 'denied', { host: 'wild.test', port: 443, protocol: 'connect' }],
      [CONNECT('evil.test:443'), 'denied', { host: 'evil.test', port: 443, protocol: 'connect' }],
      [CONNECT('allowed.test.evil.test:443'), 'denied', { host: 'allowed.test.evil.test', port: 443, protocol: 'connect' }],
      [CONNECT('xallowed.test:443'), 'denied', { host: 'xallowed.test', port: 443, protocol: 'connect' }],
      [CONNECT('a.wild.test.evil.test:443'), 'denied', { host: 'a.wild.test.evil.test', port: 443, protocol: 'connect' }],
      [CONNECT('allowed.test:8443'), 'denied', { host: 'allowed.test', port: 8443, protocol: 'connect' }],
      [CONNECT('plain.test:80'), 'denied', { host: 'plain.test', port: 80, protocol: 'connect' }],
      [CONNECT('evil.test@allowed.test:443'), 'denied'],
      [CONNECT('allowed.test@evil.test:443'), 'denied'],
      [CONNECT('allowed.test:443/'), 'denied'],
      [GET('http://plain.test/x'), 'reached', { host: 'plain.test', port: 80, protocol: 'http' }],
      [GET('http://plain.test:80/x'), 'reached', { host: 'plain.test', port: 80, protocol: 'http' }],
      [GET('http://PLAIN.test'), 'reached', { host: 'PLAIN.test', port: 80, protocol: 'http' }],
      [GET('/x', 'plain.test'), 'reached', { host: 'plain.test', port: 80, protocol: 'http' }],
      [GET('http://alt.test:8080/'), 'reached', { host: 'alt.test', port: 8080, protocol: 'http' }],
      [GET('http://alt.test/'), 'denied', { host: 'alt.test', port: 80, protocol: 'http' }],
      [GET('http://plain.test:8080/'), 'denied', { host: 'plain.test', port: 8080, protocol: 'http' }],
      [GET('http://allowed.test/'), 'denied', { host: 'allowed.test', port: 80, protocol: 'http' }],
      [GET('http://plain.test.evil.test/'), 'denied', { host: 'plain.test.evil.test', port: 80, protocol: 'http' }],
      [GET('/x', 'evil.test'), 'denied', { host: 'evil.test', port: 80, protocol: 'http' }],
      [GET('http://plain.test@evil.test/x'), 'denied'],
      [GET('http://plain.test:80@evil.test/x'), 'denied'],
      [GET('http://evil.test\\@plain.test/'), 'denied'],
      [GET('http://plain.test?@evil.test/'), 'denied'],
      [GET('http://evil.test/plain.test'), 'denied'],
    ];
    const hosts = ['allowed.test', 'a.wild.test', 'b.c.wild.test', 'wild.test', 'plain.test', 'alt.test', 'evil.test', 'allowed.test.evil.test', 'xallowed.test', 'a.wild.test.evil.test', 'plain.test.evil.test'];
    const out = await probe({ conf: list.conf, filter: list.filter, hosts, requests: table.map((t) => t[0]) });
    expect(out.ready, out.log).toBe(true);
    const got = table.map(([raw], i) => [raw.split('\r\n')[0]!, out.results[i]]);
    expect(got).toEqual(table.map(([raw, verdict]) => [raw.split('\r\n')[0]!, verdict]));
    for (const [, verdict, req] of table) {
      if (req) expect(findAllowingEntry(list.entries, req) !== undefined, JSON.stringify(req)).toBe(verdict === 'reached');
    }
  });

  it('an empty allowlist denies everything (an empty filter file with FilterDefaultDeny denies)', async () => {
    const list = compiled('# nothing\n');
    expect(list.conf).toContain('ConnectPort 443');
    const out = await probe({ conf: list.conf, filter: list.filter, hosts: ['evil.test'], requests: [CONNECT('evil.test:443'), GET('http://evil.test/')] });
    expect(out.ready, out.log).toBe(true);
    expect(out.results).toEqual(['denied', 'denied']);
  });

  it('loads a 10,000-entry filter and matches its first and last hosts only', async () => {
    const hosts = Array.from({ length: 10_000 }, (_, i) => `host-${i}.example-${i % 97}.test`);
    const list = compiled(hosts.join('\n'));
    const out = await probe({
      conf: list.conf,
      filter: list.filter,
      hosts: [hosts[0]!, hosts[9_999]!, 'host-10000.example-0.test'],
      requests: [CONNECT(`${hosts[0]}:443`), CONNECT(`${hosts[9_999]}:443`), CONNECT('host-10000.example-0.test:443')],
    });
    expect(out.ready, out.log).toBe(true);
    expect(out.results).toEqual(['reached', 'reached', 'denied']);
  });

  it("reads the trie layout as the compiler means it: brackets, optional tails, nested groups", async () => {
    // Names built to share prefixes, end inside one another and differ in one character.
    const names = ['v1.test', 'v2.test', 'v3.test', 'foo.test', 'foobar.test', 'api.a.test', 'api.ab.test', 'apis.test', 'a_b.test'];
    const list = compiled(`${names.join('\n')}\n`);
    const line = list.filter.split('\n').find((l) => l.includes('foo'))!;
    expect(line).toBe("\\`((a(_b|pi(\\.ab?|s))|foo(bar)?|v[123])\\.test)\\.?:443\\'");
    const misses = ['v4.test', 'v.test', 'fo.test', 'foob.test', 'foobarx.test', 'api.test', 'api.abc.test', 'api.b.test', 'apisx.test', 'ab.test', 'v12.test'];
    const table: Array<[string, 'reached' | 'denied']> = [
      ...names.map((n): [string, 'reached'] => [CONNECT(`${n}:443`), 'reached']),
      ...misses.map((n): [string, 'denied'] => [CONNECT(`${n}:443`), 'denied']),
    ];
    const out = await probe({ conf: list.conf, filter: list.filter, hosts: [...names, ...misses], requests: table.map((t) => t[0]) });
    expect(out.ready, out.log).toBe(true);
    expect(table.map(([raw], i) => [raw.split(' ')[1], out.results[i]])).toEqual(table.map(([raw, verdict]) => [raw.split(' ')[1], verdict]));
  });

  it('observe mode has no filter: everything is let through', async () => {
    const conf = renderTinyproxyConf({ filterPath: '@FILTER@', port: PROXY_PORT, listen: '127.0.0.1', observe: true });
    expect(conf).toMatch(/OBSERVE MODE/);
    const out = await probe({ conf, hosts: ['evil.test'], requests: [CONNECT('evil.test:8443'), GET('http://evil.test/')] });
    expect(out.ready, out.log).toBe(true);
    expect(out.results).toEqual(['reached', 'reached']);
  });
});
