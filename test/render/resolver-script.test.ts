/**
 * The sidecar's address-floor script (templates/egress/drydock-egress-resolver), run for real with
 * bash: `ip` and `dnsmasq` are stubs on PATH (canned addresses; a dnsmasq that records its argv and
 * prints the log lines a real one prints for a refused answer), so no namespace is needed. The real
 * dnsmasq behind it is proven on a real engine by test/e2e/floor.test.ts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderResolverConf, SIDECAR_RESOLV_CONF } from '../../lib/egress/address-floor.js';
import { templatesDir } from '../../lib/paths.js';
import { tempDir } from '../helpers/temp-dir.js';

const SCRIPT = join(templatesDir(), 'egress', 'drydock-egress-resolver');
const BOUND = '   0: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000 10001 0 1 2 0\n';

let dir: string;

function stub(name: string, body: string): void {
  writeFileSync(join(dir, 'bin', name), body);
  chmodSync(join(dir, 'bin', name), 0o755);
}

beforeEach(() => {
  dir = tempDir('resolver');
  for (const sub of ['bin', 'conf', 'run', 'old']) mkdirSync(join(dir, sub));
  stub('ip', `#!/bin/bash
case " $* " in
  *" -4 "*) printf '12: eth0    inet 172.30.0.4/16 brd 172.30.255.255 scope global eth0\\n14: eth1    inet 10.9.8.7/20 brd 10.9.15.255 scope global eth1\\n' ;;
  *" -6 "*) ;;
  *) echo "ip stub: unexpected $*" >&2; exit 2 ;;
esac
`);
  stub('dnsmasq', `#!/bin/bash
printf '%s\\n' "$@" > "${dir}/dnsmasq-argv"
echo 'dnsmasq[7]: started, version 2.90 cachesize 0' >&2
echo 'dnsmasq[7]: query[A] ten.test from 127.0.0.1' >&2
echo 'dnsmasq[7]: forwarded ten.test to 127.0.0.11' >&2
echo 'dnsmasq[7]: possible DNS-rebind attack detected: ten.test' >&2
echo 'dnsmasq[7]: config meta.test is NXDOMAIN' >&2
echo 'dnsmasq[7]: reply pub.test is 1.2.3.4' >&2
`);
  writeFileSync(join(dir, 'resolv.conf'), SIDECAR_RESOLV_CONF);
  writeFileSync(join(dir, 'nsswitch.conf'), 'passwd: files\nhosts: dns\n');
  writeFileSync(join(dir, 'conf', 'resolver.conf'), renderResolverConf({ privateDomains: ['registry.corp.example'], servers: ['10.255.255.53'] }));
  writeFileSync(join(dir, 'udp'), BOUND);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[] = []) {
  const result = spawnSync('bash', [SCRIPT, ...args], {
    encoding: 'utf8',
    env: {
      PATH: `${join(dir, 'bin')}:/usr/bin:/bin`,
      DRYDOCK_CONF_DIR: join(dir, 'conf'),
      DRYDOCK_RUN_DIR: join(dir, 'run'),
      DRYDOCK_RESOLV_CONF: join(dir, 'resolv.conf'),
      DRYDOCK_NSSWITCH: join(dir, 'nsswitch.conf'),
      DRYDOCK_PROC_NET_UDP: join(dir, 'udp'),
    },
    timeout: 20_000,
  });
  const argvFile = join(dir, 'dnsmasq-argv');
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, argv: existsSync(argvFile) ? readFileSync(argvFile, 'utf8').trim().split('\n') : undefined };
}

const LOG_FILTER = join(templatesDir(), 'egress', 'drydock-egress-log');
const logFilter = (input: string) => spawnSync('bash', [LOG_FILTER], { input, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, timeout: 10_000 }).stdout;

describe('drydock-egress-log: the one reader of the sidecar\'s log pipe', () => {
  it('passes tinyproxy\'s lines unchanged and in order, between the resolver\'s', () => {
    const lines = [
      'CONNECT   Dec 02 03:56:54.065 [12]: Connect (file descriptor 7): 172.30.0.3',
      'dnsmasq[7]: possible DNS-rebind attack detected: ten.test',
      'ERROR     Dec 02 03:56:54.070 [12]: opensock: Could not retrieve address info for ten.test:443: Name or service not known',
      'dnsmasq[7]: query[A] pub.test from 127.0.0.1',
      'INFO      Dec 02 03:56:55.001 [12]: Established connection to host "pub.test" using file descriptor 8.',
    ];
    expect(logFilter(`${lines.join('\n')}\n`).split('\n')).toEqual([
      lines[0],
      'drydock-egress: refused ten.test: resolved to a private address (refused by the address floor)',
      lines[2],
      lines[4],
      '',
    ]);
  });

  it('a tinyproxy line that quotes the resolver\'s words is not taken for the resolver\'s', () => {
    const forged = 'CONNECT   Dec 02 03:56:54.065 [12]: Request (file descriptor 7): GET http://x.test/ dnsmasq[7]: possible DNS-rebind attack detected: victim.test';
    const quoted = 'INFO      Dec 02 03:56:54.065 [12]: dnsmasq[7]: config victim.test is NXDOMAIN';
    expect(logFilter(`${forged}\n${quoted}\n`)).toBe(`${forged}\n${quoted}\n`);
  });
});

describe('drydock-egress-resolver', () => {
  it('starts dnsmasq on 127.0.0.1 only, forwarding only to the configured upstreams, with the rebind check', () => {
    const r = run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.argv).toEqual(expect.arrayContaining([
      '--keep-in-foreground', `--conf-file=${join(dir, 'run', 'drydock-resolver.conf')}`,
      '--listen-address=127.0.0.1', '--bind-interfaces', '--port=53',
      '--no-resolv', '--no-hosts', '--stop-dns-rebind', '--cache-size=1000', '--no-negcache',
    ]));
    // Nothing that would let loopback through, and no other upstream.
    expect(r.argv!.filter((a) => /rebind-localhost-ok|^--server=|^--address=/.test(a))).toEqual([]);
    expect(r.stderr).toContain('address floor up');
  });

  it('refuses every network the sidecar is on, by network address (peer sidecars, the host gateway, the session network)', () => {
    const r = run();
    expect(r.argv).toEqual(expect.arrayContaining(['--bogus-nxdomain=172.30.0.0/16', '--bogus-nxdomain=10.9.0.0/20']));
  });

  it('logs dnsmasq to its stdout (the sidecar\'s one log pipe), where drydock-egress-log words the refusals', () => {
    const r = run();
    expect(r.stdout).toContain('dnsmasq[7]: possible DNS-rebind attack detected: ten.test');
    expect(r.stderr, 'only the script\'s own lines go to stderr').not.toContain('dnsmasq[7]');
    const filtered = logFilter(r.stdout);
    expect(filtered).toContain('drydock-egress: refused ten.test: resolved to a private address (refused by the address floor)');
    expect(filtered).toContain('drydock-egress: refused meta.test: resolved to a private address (refused by the address floor)');
    expect(filtered).toContain('dnsmasq[7]: started, version 2.90');
    expect(filtered).not.toMatch(/query\[A\]|forwarded ten\.test|reply pub\.test/);
  });

  it.each([
    ["Docker's own resolv.conf (the embedded DNS, which would bypass the floor)", 'resolv.conf', 'nameserver 127.0.0.11\noptions ndots:0\n', /must say only 'nameserver 127\.0\.0\.1'/],
    ['a second nameserver', 'resolv.conf', 'nameserver 127.0.0.1\nnameserver 8.8.8.8\n', /must say only/],
    ['/etc/hosts before DNS', 'nsswitch.conf', 'hosts: files dns\n', /must say 'hosts: dns'/],
    ['a config that names an upstream by name', 'conf/resolver.conf', 'server=dns.example\n', /may hold only server=ADDRESS/],
    ['a config that lets loopback through', 'conf/resolver.conf', 'server=8.8.8.8\nrebind-localhost-ok\n', /may hold only/],
    ['a config that sends a domain elsewhere', 'conf/resolver.conf', 'server=/corp.example/10.0.0.1\n', /may hold only/],
    ['a config without an upstream', 'conf/resolver.conf', 'bogus-nxdomain=127.0.0.0/8\n', /names no upstream resolver/],
  ])('fails closed with %s: exit 1, no dnsmasq', (_name, file, content, message) => {
    writeFileSync(join(dir, file), content);
    const r = run();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.argv).toBeUndefined();
  });

  it('runs a checked copy of the mounted config, and records its pid', () => {
    const r = run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.argv).toContain(`--conf-file=${join(dir, 'run', 'drydock-resolver.conf')}`);
    expect(readFileSync(join(dir, 'run', 'drydock-resolver.conf'), 'utf8')).toBe(readFileSync(join(dir, 'conf', 'resolver.conf'), 'utf8'));
    expect(readFileSync(join(dir, 'run', 'drydock-resolver.pid'), 'utf8')).toMatch(/^\d+\n$/);
  });

  describe('--restart (a live change moved the private: entries)', () => {
    /** A running "dnsmasq" (its comm says so), as the pid file names it. */
    function oldResolver(): ChildProcess {
      writeFileSync(join(dir, 'old', 'dnsmasq'), '#!/bin/bash\nwhile :; do sleep 0.1; done\n');
      chmodSync(join(dir, 'old', 'dnsmasq'), 0o755);
      const child = spawn(join(dir, 'old', 'dnsmasq'), [], { stdio: 'ignore' });
      writeFileSync(join(dir, 'run', 'drydock-resolver.pid'), `${child.pid}\n`);
      return child;
    }
    const alive = (child: ChildProcess) => existsSync(`/proc/${child.pid}`) && readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(' ')[2] !== 'Z';

    it('stops the running resolver, then starts one on the new config', async () => {
      const old = oldResolver();
      await new Promise((r) => setTimeout(r, 100));
      const exited = new Promise((done) => old.once('exit', done));
      const r = run(['--restart']);
      expect(r.code, r.stderr).toBe(0);
      await exited;
      expect(r.argv).toContain(`--conf-file=${join(dir, 'run', 'drydock-resolver.conf')}`);
      expect(readFileSync(join(dir, 'run', 'drydock-resolver.conf'), 'utf8')).toContain('rebind-domain-ok=/registry.corp.example/');
    });

    it('refuses a bad new config before stopping anything (exit 1): the running one stays', () => {
      const old = oldResolver();
      writeFileSync(join(dir, 'conf', 'resolver.conf'), 'server=8.8.8.8\nrebind-localhost-ok\n');
      const r = run(['--restart']);
      expect(r.code).toBe(1);
      expect(alive(old)).toBe(true);
      old.kill('SIGKILL');
    });

    it('exit 3 when the old one is gone and the new one never binds: the sidecar has no resolver', { timeout: 20_000 }, async () => {
      const old = oldResolver();
      await new Promise((r) => setTimeout(r, 100));
      writeFileSync(join(dir, 'udp'), '');
      const r = run(['--restart']);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/did not start \(the sidecar has no resolver now: nothing resolves\)/);
      expect(alive(old)).toBe(false);
    });

    it('refuses when no resolver runs (exit 1)', () => {
      const r = run(['--restart']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/no running resolver to restart/);
    });
  });

  it('fails when dnsmasq never binds 127.0.0.1:53 (after its 5 s wait)', { timeout: 20_000 }, () => {
    writeFileSync(join(dir, 'udp'), '');
    const r = run();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the resolver \(dnsmasq\) did not start/);
  });
});
