/**
 * The agent tier's world: a test CA, a fake api.anthropic.com / platform.claude.com speaking TLS
 * with it and a fake SSH server — each a container on the engine's host network, listening on its
 * own public-range world address that the world's DNS names (helpers/world.ts: the sidecar's
 * address floor refuses private answers, and its resolver never asks Docker's embedded DNS), and the base the default agent image is built
 * FROM (the e2e base plus the real Claude Code binary the tier installed from npm on the host).
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempDir } from '../../helpers/temp-dir.js';
import { BASE_IMAGE, REPO } from './drydock.js';
import { docker, dockerOk, exec, waitFor } from './engine.js';
import { worldHost } from './world.js';

export const AGENT_BASE = 'drydock-e2e-agent-base:latest';
export const MODEL_HOSTS = ['api.anthropic.com', 'platform.claude.com'];

function scratch(name: string): string {
  const root = process.env.DRYDOCK_E2E_DIR ? join(process.env.DRYDOCK_E2E_DIR, 'work') : tmpdir();
  mkdirSync(root, { recursive: true });
  return tempDir(name, { under: root });
}

async function ok(argv: string[], cwd?: string): Promise<string> {
  const r = await exec(argv, { cwd });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export interface TestCa {
  dir: string;
  /** The CA certificate only: what DRYDOCK_EXTRA_CA_CERTS names. */
  caPem: string;
}

/** A throwaway CA and one server certificate for the model API's names, made with openssl. */
export async function makeTestCa(): Promise<TestCa> {
  const dir = scratch('test-ca');
  const p = (f: string) => join(dir, f);
  await ok(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=drydock e2e test CA', '-keyout', p('ca.key'), '-out', p('ca.pem'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await ok(['openssl', 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=api.anthropic.com', '-keyout', p('server.key'), '-out', p('server.csr')]);
  writeFileSync(p('ext.cnf'), `subjectAltName=${MODEL_HOSTS.map((h) => `DNS:${h}`).join(',')}\nextendedKeyUsage=serverAuth\n`);
  await ok(['openssl', 'x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', p('ext.cnf'), '-out', p('server.pem')]);
  return { dir, caPem: p('ca.pem') };
}

export interface FakeService {
  name: string;
  logs: () => Promise<string>;
  stop: () => Promise<void>;
}

export async function startFakeAnthropic(name: string, ca: TestCa): Promise<FakeService> {
  const host = await worldHost(MODEL_HOSTS);
  await docker(['rm', '-f', name]);
  await dockerOk([
    'run', '-d', '--name', name, '--label', 'drydock-e2e=fake-anthropic', '--network', 'host',
    '-v', `${join(REPO, 'test/e2e/fixtures/fake-anthropic.py')}:/fake.py:ro`, '-v', `${ca.dir}:/certs:ro`,
    BASE_IMAGE, 'python3', '/fake.py', '/certs/server.pem', '/certs/server.key', '443', host.ip,
  ]);
  const logs = async () => (await docker(['logs', name])).stdout;
  await waitFor(`fake api ${name}`, async () => ((await logs()).includes('fake-anthropic listening') ? true : undefined), 30_000);
  return { name, logs, stop: async () => { await docker(['rm', '-f', name]); await host.release(); } };
}

/**
 * A fake SSH server answering as each of `aliases`: any key is accepted (AuthorizedKeysCommand
 * echoes the offered key back) and every session only prints a greeting naming the server.
 */
export async function startFakeSsh(name: string, aliases: string[]): Promise<FakeService> {
  const host = await worldHost(aliases);
  await docker(['rm', '-f', name]);
  const script = [
    'set -e; mkdir -p /run/sshd; ssh-keygen -A >/dev/null',
    'id git >/dev/null 2>&1 || useradd -m -s /bin/sh git; passwd -d git >/dev/null; usermod -p "*" git',
    "printf '#!/bin/sh\\necho \"$1 $2\"\\n' > /usr/local/bin/any-key; chmod 755 /usr/local/bin/any-key",
    `exec /usr/sbin/sshd -D -e -p 22 -o ListenAddress=${host.ip} -o AuthorizedKeysCommand="/usr/local/bin/any-key %t %k" -o AuthorizedKeysCommandUser=nobody -o PasswordAuthentication=no -o ForceCommand="echo fake-ssh-ok from ${name}"`,
  ].join('; ');
  await dockerOk(['run', '-d', '--name', name, '--label', 'drydock-e2e=fake-ssh', '--network', 'host', BASE_IMAGE, 'bash', '-c', script]);
  const logs = async () => { const r = await docker(['logs', name]); return `${r.stdout}${r.stderr}`; };
  await waitFor(`fake ssh ${name}`, async () => ((await logs()).includes('Server listening') ? true : undefined), 30_000);
  return { name, logs, stop: async () => { await docker(['rm', '-f', name]); await host.release(); } };
}

/** FROM the e2e base, plus the real Claude Code binary: what templates/agent/ builds the agent image from, offline. */
export async function buildAgentBase(): Promise<void> {
  const bin = process.env.DRYDOCK_E2E_CLAUDE_BIN;
  if (!bin) throw new Error('DRYDOCK_E2E_CLAUDE_BIN is not set: run the tier with bash test/e2e/run.sh (it installs Claude Code from npm)');
  if ((await docker(['image', 'inspect', AGENT_BASE])).code === 0) return;
  const dir = scratch('agent-base');
  copyFileSync(bin, join(dir, 'claude'));
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${BASE_IMAGE}\nCOPY claude /usr/local/bin/claude\nRUN chmod 755 /usr/local/bin/claude && claude --version\n`);
  await dockerOk(['build', '-t', AGENT_BASE, dir], { timeoutMs: 600_000 });
}
