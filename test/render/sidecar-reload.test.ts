/**
 * drydock-egress-reload with the REAL tinyproxy (loopback only; `ip` is a stub), started by the
 * real entrypoint from rendered session files: a new generation swapped in by rename is reloaded
 * (SIGUSR1) and confirmed by its check host; the refusal page explains itself; a generation the
 * mounted config does not hold is refused before signalling; a filter tinyproxy cannot compile
 * ends the proxy (closed), which the script reports as such. Skipped, visibly, without tinyproxy.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import { renderSessionEgress } from '../../lib/egress/session-egress.js';
import { tempDir } from '../helpers/temp-dir.js';
import { egressDir, freePort, sidecarEnv, sidecarWorld, startSidecar, stopSidecar } from './sidecar-harness.js';

const haveTinyproxy = spawnSync('sh', ['-c', 'command -v tinyproxy'], { encoding: 'utf8' }).status === 0;
if (!haveTinyproxy) console.warn('SKIPPED sidecar-reload tests: tinyproxy is not installed');

// The "session network" is all of loopback (/8): the reload script's probe, like the healthcheck,
// connects from 127.0.0.1 here (in a container it comes from the sidecar's own internal address).
const LISTEN = '127.0.0.5';

/** The proxy's whole answer to one request ('' if the connection failed). */
function ask(port: number, request: string): Promise<string> {
  return new Promise((done) => {
    const socket = connect({ host: LISTEN, port, localAddress: '127.0.0.6' });
    let data = '';
    socket.setTimeout(3000, () => socket.destroy());
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk) => void (data += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => done(data));
  });
}

const connectTo = (port: number, hostPort: string) => ask(port, `CONNECT ${hostPort} HTTP/1.1\r\nHost: ${hostPort}\r\n\r\n`);

describe.skipIf(!haveTinyproxy)('drydock-egress-reload + real tinyproxy', () => {
  let dir: string;
  let conf: string;
  let port: number;
  let proxy: ChildProcess | undefined;
  let output = () => '';
  const env = () => sidecarEnv(dir, port, conf);

  /** Writes a generation into the "mounted" directory the way drydock does: each file renamed in. */
  function swapIn(generation: string, lines: string, filterOverride?: string, resolverServers?: string[]): string {
    const egress = renderSessionEgress({ sessionId: 'demo-1a2b', project: 'demo', entries: parseAllowlist(lines, 'x').entries, observe: false, generation, resolverServers });
    for (const [name, content] of Object.entries(egress.files)) {
      let text = content.replaceAll('/etc/drydock/', `${conf}/`);
      if (name === 'tinyproxy.conf') text = text.replace(/^Port \d+$/m, `Port ${port}`);
      if (name === 'egress-filter' && filterOverride !== undefined) text = filterOverride;
      writeFileSync(join(conf, `.${name}.tmp`), text);
      renameSync(join(conf, `.${name}.tmp`), join(conf, name));
    }
    return egress.checkHost;
  }

  /** The log reaches this test through the sidecar's log pipe and its reader: wait up to 2.5 s for a line. */
  const logged = async (what: string | RegExp) => {
    for (let i = 0; i < 50 && !(typeof what === 'string' ? output().includes(what) : what.test(output())); i++) await new Promise((r) => setTimeout(r, 50));
  };

  /** Async, so this process keeps reading the proxy's output and can reap it if it exits. */
  const reload = (checkHost: string) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn('bash', [join(egressDir, 'drydock-egress-reload'), checkHost], { env: { ...env(), PATH: `${join(dir, 'bin')}:${env().PATH}` }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += String(c)));
      child.stderr.on('data', (c) => (stderr += String(c)));
      child.on('close', (status) => done({ status, stdout, stderr }));
    });

  beforeAll(async () => {
    dir = tempDir('reload');
    conf = join(dir, 'conf');
    // The resolver stub records its calls, and on --restart installs the mounted config as the
    // running one, as the real one does.
    sidecarWorld(dir, {
      internal: `${LISTEN}/8`,
      resolver: `#!/bin/bash
echo "resolver $*" >>"${dir}/resolver-calls"
code=$(cat "${dir}/resolver-exit" 2>/dev/null || echo 0)
[ "$code" = 0 ] && [ -e "$DRYDOCK_CONF_DIR/resolver.conf" ] && cp "$DRYDOCK_CONF_DIR/resolver.conf" "$DRYDOCK_RUN_DIR/drydock-resolver.conf"
exit "$code"
`,
    });
    port = await freePort();
    swapIn('0000000a', 'allowed.test\n');
    const sidecar = await startSidecar(dir, env());
    proxy = sidecar.proxy;
    output = sidecar.output;
  });

  afterAll(async () => {
    await stopSidecar(proxy);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the session\'s refusal page, and the stats page only for its own generation\'s check host', async () => {
    const refused = await connectTo(port, 'blocked.test:443');
    expect(refused).toMatch(/^HTTP\/1\.[01] 403 Filtered\r\n/);
    expect(refused).toContain('drydock refused blocked.test:443 (403 Filtered)');
    expect(refused).toContain('  drydock allowlist add --project demo blocked.test:443\n');
    expect(await ask(port, 'GET http://drydock-reload-0000000a.invalid/ HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.[01] 200 /);
    expect(await ask(port, 'GET http://drydock-reload-0000000b.invalid/ HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.[01] 403 /);
  });

  it('a new generation swapped in is reloaded and confirmed; the same proxy process now uses it', async () => {
    const pid = readFileSync(join(dir, 'run', 'drydock-proxy.pid'), 'utf8').trim();
    expect((await connectTo(port, 'blocked.test:8443')).split('\r\n')[0]).toMatch(/403 Access violation$/);
    const check = swapIn('0000000b', 'allowed.test\nallowed.test:8443\n');
    const r = await reload(check);
    expect(r.status, `${r.stderr}\n${output()}`).toBe(0);
    expect(r.stdout).toBe(`drydock-egress-reload: confirmed ${check}\n`);
    await logged('Reloading config file finished');
    expect(output()).toContain('Reloading config file finished');
    await logged('Re-reading filter file.');
    expect(output()).toContain('Re-reading filter file.');
    // ConnectPort 8443 came with the new config: the refusal is now the filter's, not the port's.
    expect((await connectTo(port, 'blocked.test:8443')).split('\r\n')[0]).toMatch(/403 Filtered$/);
    expect(readFileSync(join(dir, 'run', 'drydock-proxy.pid'), 'utf8').trim()).toBe(pid);
    expect(proxy!.exitCode).toBeNull();
  });

  it('restarts the address floor\'s resolver before the proxy when the generation moved its private: entries, and only then', async () => {
    const calls = () => (existsSync(join(dir, 'resolver-calls')) ? readFileSync(join(dir, 'resolver-calls'), 'utf8') : '');
    const before = calls();
    const first = swapIn('0000000d', 'allowed.test\nprivate:reg.corp.test\n', undefined, ['192.0.2.53']);
    expect((await reload(first)).status).toBe(0);
    expect(calls().slice(before.length)).toBe('resolver --restart\n');
    const same = swapIn('0000000e', 'allowed.test\nprivate:reg.corp.test\nother.test\n', undefined, ['192.0.2.53']);
    expect((await reload(same)).status).toBe(0);
    expect(calls().slice(before.length), 'the same resolver config: no restart').toBe('resolver --restart\n');

    writeFileSync(join(dir, 'resolver-exit'), '1');
    const refused = swapIn('0000000f', 'allowed.test\n', undefined, ['192.0.2.53']);
    const r = await reload(refused);
    rmSync(join(dir, 'resolver-exit'));
    expect(r.status, 'refused before the proxy was signalled').toBe(1);
    expect(r.stderr).toMatch(/the resolver refused the new config \(.*\); it keeps the previous one/);
    expect(await ask(port, `GET http://${same}/ HTTP/1.0\r\n\r\n`), 'the proxy still runs the previous generation').toMatch(/^HTTP\/1\.[01] 200 /);
    expect(proxy!.exitCode).toBeNull();
  });

  it('refuses, before signalling, a check host the mounted config is not the generation of (exit 1)', async () => {
    const r = await reload('drydock-reload-0000dead.invalid');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is not the generation of drydock-reload-0000dead\.invalid/);
    expect((await reload('evil; rm -rf /')).status).toBe(1);
  });

  it('a filter tinyproxy cannot compile ends the proxy: nothing gets through, and the script says so (exit 4)', async () => {
    const check = swapIn('0000000c', 'allowed.test\n', '(unbalanced\n');
    const r = await reload(check);
    expect(r.status, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/the proxy ended while reloading/);
    await new Promise((done) => (proxy!.exitCode !== null ? done(null) : proxy!.once('exit', done)));
    await logged(/Bad regex in .*egress-filter: line 1/);
    expect(output()).toMatch(/Bad regex in .*egress-filter: line 1/);
    expect(await connectTo(port, 'allowed.test:443')).toBe('');
  });
});
