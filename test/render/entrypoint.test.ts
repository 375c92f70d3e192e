/**
 * The sidecar entrypoint's interface selection, run for real with bash: `ip` and `tinyproxy` are
 * stubs on PATH (canned `ip` output; a tinyproxy that prints its argv and config), so no network
 * and no namespace is needed.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { templatesDir } from '../../lib/paths.js';
import { tempDir } from '../helpers/temp-dir.js';

const ENTRYPOINT = join(templatesDir(), 'egress', 'drydock-egress-entrypoint');
const MOUNTED_CONF = 'Port 8888\nFilter "/etc/drydock/egress-filter"\nFilterDefaultDeny Yes\n';

const LO = '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever';
const addr = (index: number, name: string, cidr: string) =>
  `${index}: ${name}    inet ${cidr} brd 255.255.255.255 scope global ${name}\\       valid_lft forever preferred_lft forever`;
const defaultVia = (dev: string) => `default via 172.30.0.1 dev ${dev}`;

let dir: string;

beforeEach(() => {
  dir = tempDir('entrypoint');
  for (const sub of ['bin', 'conf', 'run']) spawnSync('mkdir', ['-p', join(dir, sub)]);
  writeStub('ip', `#!/bin/bash
case " $* " in
  *" route "*) cat "${dir}/routes" ;;
  *" addr "*) cat "${dir}/addrs" ;;
  *) echo "ip stub: unexpected $*" >&2; exit 2 ;;
esac
`);
  writeStub('tinyproxy', `#!/bin/bash
echo "tinyproxy argv: $*"
while [ $# -gt 0 ]; do if [ "$1" = -c ]; then echo "--- config"; cat "$2"; fi; shift; done
`);
  writeFileSync(join(dir, 'conf', 'tinyproxy.conf'), MOUNTED_CONF);
  // The address floor has its own script and test (resolver-script.test.ts); here it only has to run first.
  writeStub('drydock-egress-resolver', '#!/bin/bash\necho "resolver started" >&2\n');
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

function writeStub(name: string, body: string): void {
  writeFileSync(join(dir, 'bin', name), body);
  chmodSync(join(dir, 'bin', name), 0o755);
}

function runEntrypoint(routes: string[], addrs: string[]) {
  writeFileSync(join(dir, 'routes'), routes.map((l) => `${l}\n`).join(''));
  writeFileSync(join(dir, 'addrs'), addrs.map((l) => `${l}\n`).join(''));
  const result = spawnSync('bash', [ENTRYPOINT], {
    encoding: 'utf8',
    env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin:${join(templatesDir(), 'egress')}`, DRYDOCK_CONF_DIR: join(dir, 'conf'), DRYDOCK_RUN_DIR: join(dir, 'run') },
    timeout: 10_000,
  });
  const listenFile = join(dir, 'run', 'drydock-listen');
  return {
    code: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    listen: existsSync(listenFile) ? readFileSync(listenFile, 'utf8') : undefined,
  };
}

describe('drydock-egress-entrypoint', () => {
  it('listens on the interface without the default route and allows only its subnet', () => {
    const r = runEntrypoint([defaultVia('eth1')], [LO, addr(12, 'eth0', '172.31.5.3/24'), addr(14, 'eth1', '172.30.0.4/16')]);
    expect(r.stderr).toContain('listening on 172.31.5.3 (eth0), serving 172.31.5.0/24 only');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`tinyproxy argv: -d -c ${join(dir, 'run', 'tinyproxy.conf')}`);
    const config = r.stdout.split('--- config\n')[1]!;
    expect(config.startsWith(MOUNTED_CONF)).toBe(true);
    expect(config).toMatch(/\nListen 172\.31\.5\.3\nAllow 172\.31\.5\.0\/24\n$/);
    expect(config).not.toContain('172.30.');
    expect(r.listen).toBe('172.31.5.3\n');
  });

  it('does not depend on interface order, and strips @ifN suffixes', () => {
    const r = runEntrypoint([defaultVia('eth0')], [LO, addr(12, 'eth0@if13', '172.30.0.4/16'), addr(14, 'eth1@if15', '10.9.8.7/20')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\nListen 10\.9\.8\.7\nAllow 10\.9\.0\.0\/20\n$/);
  });

  it.each([
    ['zero candidates (only the NAT bridge)', [defaultVia('eth0')], [LO, addr(12, 'eth0', '172.30.0.4/16')], /found 0/],
    ['two candidates', [defaultVia('eth0')], [LO, addr(12, 'eth0', '172.30.0.4/16'), addr(14, 'eth1', '172.31.0.2/24'), addr(16, 'eth2', '172.32.0.2/24')], /found 2/],
    ['two addresses on the internal interface', [defaultVia('eth0')], [LO, addr(12, 'eth0', '172.30.0.4/16'), addr(14, 'eth1', '172.31.0.2/24'), addr(14, 'eth1', '172.31.0.9/24')], /found 2/],
    ['no default route', [], [LO, addr(12, 'eth0', '172.31.0.2/24')], /default-route interface .*found 0/],
    ['default routes on two interfaces', [defaultVia('eth0'), defaultVia('eth1')], [LO, addr(12, 'eth0', '172.30.0.4/16'), addr(14, 'eth1', '172.31.0.2/24')], /found 2/],
    ['a /4 internal network', [defaultVia('eth0')], [LO, addr(12, 'eth0', '172.30.0.4/16'), addr(14, 'eth1', '16.0.0.2/4')], /refusing prefix \/4/],
    ['an unparsable address', [defaultVia('eth0')], [LO, addr(12, 'eth0', '172.30.0.4/16'), addr(14, 'eth1', '172.31.0.300/24')], /cannot parse/],
  ])('fails closed with %s: exit 1, no proxy started, nothing to healthcheck', (_name, routes, addrs, message) => {
    const r = runEntrypoint(routes, addrs);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).not.toContain('tinyproxy argv');
    expect(r.listen).toBeUndefined();
  });

  it.each(['Listen 0.0.0.0', 'Allow 0.0.0.0/0', '  allow 10.0.0.0/8', 'Deny 10.0.0.1'])('refuses a mounted config that already has "%s"', (line) => {
    writeFileSync(join(dir, 'conf', 'tinyproxy.conf'), `${MOUNTED_CONF}${line}\n`);
    const r = runEntrypoint([defaultVia('eth1')], [LO, addr(12, 'eth0', '172.31.5.3/24'), addr(14, 'eth1', '172.30.0.4/16')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/must not contain Listen, Allow or Deny/);
    expect(r.stdout).toBe('');
  });

  it('starts the address floor before the proxy, and fails closed without it', () => {
    const args = [[defaultVia('eth1')], [LO, addr(12, 'eth0', '172.31.5.3/24'), addr(14, 'eth1', '172.30.0.4/16')]] as const;
    const ok = runEntrypoint([...args[0]], [...args[1]]);
    expect(ok.stderr.indexOf('resolver started')).toBeGreaterThanOrEqual(0);
    expect(ok.stderr.indexOf('resolver started')).toBeLessThan(ok.stderr.indexOf('listening on'));
    writeStub('drydock-egress-resolver', '#!/bin/bash\nexit 1\n');
    const r = runEntrypoint([...args[0]], [...args[1]]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the address floor .* did not start/);
    expect(r.stdout).not.toContain('tinyproxy argv');
  });

  it('fails when the config cannot be read', () => {
    rmSync(join(dir, 'conf', 'tinyproxy.conf'));
    const r = runEntrypoint([defaultVia('eth1')], [LO, addr(12, 'eth0', '172.31.5.3/24'), addr(14, 'eth1', '172.30.0.4/16')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read/);
  });
});
