/**
 * The sidecar healthcheck really tests the proxy port: run for real against a loopback listener
 * this test opens and closes. Also pins the port and paths shared by the scripts, the baked
 * config and the compose files, so they cannot drift apart.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileFilter } from '../../lib/allowlist/compile.js';
import { renderTinyproxyConf } from '../../lib/egress/tinyproxy-conf.js';
import { templatesDir } from '../../lib/paths.js';
import { PROXY_PORT, SIDECAR_CONF_PATH, SIDECAR_FILTER_PATH, SIDECAR_HEALTHCHECK, SIDECAR_USER } from '../../lib/names.js';

const egressDir = join(templatesDir(), 'egress');
const HEALTHCHECK = join(egressDir, 'drydock-egress-healthcheck');

let dir: string;
let server: Server | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drydock-health-'));
});

afterEach(async () => {
  if (server) await new Promise<void>((done) => server!.close(() => done()));
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function listen(): Promise<number> {
  server = createServer((socket) => socket.destroy());
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
  return (server.address() as { port: number }).port;
}

function healthcheck(port: number): number | null {
  return spawnSync('bash', [HEALTHCHECK], {
    env: { PATH: '/usr/bin:/bin', DRYDOCK_RUN_DIR: dir, DRYDOCK_PROXY_PORT: String(port) },
    timeout: 10_000,
  }).status;
}

describe('drydock-egress-healthcheck', () => {
  it('passes while the port accepts connections and fails once it does not', async () => {
    writeFileSync(join(dir, 'drydock-listen'), '127.0.0.1\n');
    const port = await listen();
    expect(healthcheck(port)).toBe(0);
    await new Promise<void>((done) => server!.close(() => done()));
    server = undefined;
    expect(healthcheck(port)).not.toBe(0);
  });

  it('fails before the entrypoint has chosen an address', async () => {
    const port = await listen();
    expect(healthcheck(port)).not.toBe(0);
  });
});

describe('the sidecar template agrees with the renderer', () => {
  const dockerfile = readFileSync(join(egressDir, 'Dockerfile'), 'utf8');
  const bakedConf = readFileSync(join(egressDir, 'tinyproxy.conf'), 'utf8');

  it('uses one proxy port everywhere', () => {
    expect(readFileSync(HEALTHCHECK, 'utf8')).toContain(`\${DRYDOCK_PROXY_PORT:-${PROXY_PORT}}`);
    expect(bakedConf).toMatch(new RegExp(`^Port ${PROXY_PORT}$`, 'm'));
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${PROXY_PORT}$`, 'm'));
  });

  it('installs the scripts and the baked defaults where the compose files point', () => {
    expect(dockerfile).toContain(`chmod 0755 /usr/local/bin/drydock-egress-entrypoint ${SIDECAR_HEALTHCHECK}`);
    expect(dockerfile).toMatch(/^COPY egress-filter tinyproxy.conf \/etc\/drydock\/$/m);
    expect([SIDECAR_FILTER_PATH, SIDECAR_CONF_PATH]).toEqual(['/etc/drydock/egress-filter', '/etc/drydock/tinyproxy.conf']);
    expect(dockerfile).toMatch(new RegExp(`^USER ${SIDECAR_USER}$`, 'm'));
    expect(dockerfile).toMatch(/^ARG BASE=debian:bookworm-slim$/m);
  });

  it('bakes in an empty filter and a deny-by-default config without Listen or Allow', () => {
    expect(readFileSync(join(egressDir, 'egress-filter'), 'utf8')).toBe('');
    expect(bakedConf).toMatch(/^FilterDefaultDeny Yes$/m);
    expect(bakedConf).toContain(`Filter "${SIDECAR_FILTER_PATH}"`);
    expect(bakedConf).not.toMatch(/^\s*(Listen|Allow|Deny)\b/im);
  });

  it('bakes in, directive for directive, what drydock renders for an empty allowlist', () => {
    const directives = (conf: string) => conf.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
    const rendered = renderTinyproxyConf({ compiled: compileFilter([]), filterPath: SIDECAR_FILTER_PATH });
    expect(directives(bakedConf)).toEqual(directives(rendered));
  });
});
