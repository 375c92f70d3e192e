import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { doctor } from '../../lib/commands/doctor.js';
import type { Section } from '../../lib/doctor/checks.js';
import { ProgramNotFound } from '../../lib/docker/runner.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { captureContext, listings, netFor, netLine, NET_ALL, psFor, PS_ALL, type SessionFixture } from '../session/fixtures.js';
import { ROUTE4_WITH_DEFAULT, inspectDocs, probeOutput } from '../selftest/fixtures.js';
import { tempDir } from '../helpers/temp-dir.js';
import { EGRESS_IMAGE_INSPECT, EGRESS_TEMPLATE_DIGEST } from '../session/run-fixture.js';

const INFO = ['docker', 'info', '--format', '{{json .}}'];
const NO_ENGINE = 'Cannot connect to the Docker daemon at unix:///nope.sock. Is the docker daemon running?\n';
const ALL_NETS = ['docker', 'network', 'ls', '--no-trunc', '--format', '{{json .}}'];

const image = (ref: string) => ['docker', 'image', 'inspect', '--format', '{{.Id}}', ref];

function setup(options: { allowlist?: string; env?: Record<string, string> } = {}) {
  const root = tempDir('doctor');
  const config = join(root, 'config');
  mkdirSync(config, { recursive: true });
  const baseline = join(root, 'baseline.conf');
  writeFileSync(baseline, 'api.anthropic.com\n');
  if (options.allowlist !== undefined) writeFileSync(join(config, 'egress-allowlist'), options.allowlist);
  const env = { DRYDOCK_CONFIG_DIR: config, DRYDOCK_STATE_DIR: join(root, 'state'), DRYDOCK_BASELINE: baseline, ...options.env };
  return captureContext({ env, cwd: join(root, 'myapp'), json: true });
}

interface EngineOptions {
  securityOptions?: string[];
  images?: Record<string, boolean | 'stale'>;
  networks?: string[];
  sessions?: SessionFixture[];
  compose?: 'v2' | 'v1' | 'none';
  serverVersion?: string;
}

function healthyEngine(options: EngineOptions = {}): FakeRunner {
  const info = { ServerVersion: options.serverVersion ?? '26.1.4', OperatingSystem: 'Debian', SecurityOptions: options.securityOptions ?? ['name=seccomp,profile=default'], ClientInfo: { Version: '28.2.2' } };
  const fake = new FakeRunner().expect({ argv: INFO, result: { stdout: JSON.stringify(info) } });
  expectCompose(fake, options.compose ?? 'v2');
  const images = options.images ?? { 'drydock-agent:latest': true, 'drydock-egress:latest': true };
  for (const [ref, present] of Object.entries(images)) {
    const missing = { code: 1, stderr: `Error: No such image: ${ref}\n` };
    // drydock's own sidecar image is asked for its template digest (lib/egress/image.ts).
    if (ref === 'drydock-egress:latest') fake.expect({ argv: EGRESS_IMAGE_INSPECT, result: present === false ? missing : { stdout: present === 'stale' ? '0123456789abcdef\n' : `${EGRESS_TEMPLATE_DIGEST}\n` } });
    else fake.expect({ argv: image(ref), result: present ? { stdout: 'sha256:1\n' } : missing });
  }
  const l = listings(options.sessions ?? []);
  const all = [netLine({ id: 'b0', name: 'bridge', internal: false }), ...(options.networks ?? [])].join('\n');
  fake.expect({ argv: ALL_NETS, result: { stdout: `${all}\n${l.networks}` } });
  fake.expect({ argv: PS_ALL, result: { stdout: l.ps } });
  fake.expect({ argv: NET_ALL, result: { stdout: l.networks } });
  return fake;
}

function expectCompose(fake: FakeRunner, kind: 'v2' | 'v1' | 'none') {
  if (kind === 'v2') return fake.expect({ argv: ['docker', 'compose', 'version'], result: { stdout: 'Docker Compose version v2.24.5\n' } });
  fake.expect({ argv: ['docker', 'compose', 'version'], result: { code: 1, stderr: 'docker: unknown command: docker compose\n' } });
  if (kind === 'v1') return fake.expect({ argv: ['docker-compose', 'version'], result: { stdout: 'docker-compose version 1.29.2, build unknown\n' } });
  return fake.expect({ argv: ['docker-compose', 'version'], throws: new ProgramNotFound('docker-compose', new Error('ENOENT')) });
}

const checksOf = (data: unknown) => (data as { sections: Section[] }).sections.flatMap((s) => s.checks.map((c) => ({ section: s.name, ...c })));
const find = (data: unknown, name: string) => checksOf(data).filter((c) => c.name === name);

describe('doctor', () => {
  it('warns that an engine before 26.0.0 (20.10 here) can leak DNS out of internal networks', async () => {
    const { ctx } = setup();
    const result = await doctor({}, ctx, { pathExists: () => true, runner: healthyEngine({ serverVersion: '20.10.24' }) });
    const dns = checksOf(result.data).find((c) => c.name === 'internal-network DNS');
    expect(dns).toMatchObject({ status: 'warn' });
    expect(dns?.detail).toMatch(/CVE-2024-29018/);
    expect(result.exitCode).toBe(0); // a warning, not a failure
  });

  it('passes on a healthy engine with the default setup (exit 0)', async () => {
    const { ctx } = setup();
    const fake = healthyEngine();
    const result = await doctor({}, ctx, { pathExists: () => true, runner: fake });
    const bad = checksOf(result.data).filter((c) => c.status !== 'pass');
    expect(bad).toEqual([]);
    expect(result.exitCode).toBe(0);
    expect(fake.unmet()).toEqual([]);
    expect((result.data as { ok: boolean }).ok).toBe(true);
    expect(JSON.parse(JSON.stringify(result.data)).sections.map((s: Section) => s.name)).toEqual([
      'ENGINE', 'COMPOSE', 'IMAGES', 'ENGINE CAPABILITIES', 'NETWORK POOL', 'DIRS', 'EGRESS',
    ]);
  });

  it('without an engine: fails cleanly with exit 1, skips engine-only sections, still checks files', async () => {
    const { ctx } = setup();
    const fake = new FakeRunner().expect({ argv: INFO, result: { code: 1, stdout: '{"ServerVersion":"","ClientInfo":{"Version":"28.2.2"}}', stderr: NO_ENGINE } });
    expectCompose(fake, 'v1');
    const result = await doctor({}, ctx, { pathExists: () => true, runner: fake });
    expect(result.exitCode).toBe(1);
    expect(find(result.data, 'docker CLI')[0]).toMatchObject({ status: 'pass', detail: 'client 28.2.2' });
    expect(find(result.data, 'engine')[0]).toMatchObject({ status: 'fail', fix: expect.stringMatching(/DOCKER_HOST/) });
    expect(find(result.data, 'compose')[0]).toMatchObject({ status: 'pass', detail: expect.stringContaining('1.29.2 (v1)') });
    expect(find(result.data, 'images')[0]?.detail).toMatch(/not checked/);
    expect(find(result.data, 'effective entries')[0]).toMatchObject({ status: 'pass', detail: expect.stringMatching(/^1 /) });
    expect(JSON.parse(JSON.stringify(result.data)).ok).toBe(false);
  });

  it('fails when the docker CLI is missing', async () => {
    const { ctx } = setup();
    const missing = new ProgramNotFound('docker', new Error('ENOENT'));
    const fake = new FakeRunner().expect({ argv: INFO, throws: missing });
    fake.expect({ argv: ['docker', 'compose', 'version'], throws: missing });
    fake.expect({ argv: ['docker-compose', 'version'], throws: new ProgramNotFound('docker-compose', new Error('ENOENT')) });
    const result = await doctor({}, ctx, { pathExists: () => true, runner: fake });
    expect(result.exitCode).toBe(1);
    expect(find(result.data, 'docker CLI')[0]).toMatchObject({ status: 'fail', fix: expect.stringMatching(/install the docker CLI/) });
    expect(find(result.data, 'compose')[0]).toMatchObject({ status: 'fail', fix: expect.stringMatching(/docker compose v2/) });
  });

  it('fails when no compose is installed', async () => {
    const { ctx } = setup();
    const result = await doctor({}, ctx, { pathExists: () => true, runner: healthyEngine({ compose: 'none' }) });
    expect(result.exitCode).toBe(1);
    expect(find(result.data, 'compose')[0]?.status).toBe('fail');
  });

  it('warns about missing default images, fails on a missing user-named sidecar image', async () => {
    const { ctx } = setup({ env: { DRYDOCK_EGRESS_IMAGE: 'registry.test/egress:1' } });
    const runner = healthyEngine({ images: { 'drydock-agent:latest': false, 'registry.test/egress:1': false } });
    const result = await doctor({}, ctx, { runner });
    expect(find(result.data, 'agent image')[0]).toMatchObject({ status: 'warn', fix: expect.stringMatching(/docker build -t drydock-agent:latest .*templates\/agent/) });
    expect(find(result.data, 'sidecar image')[0]).toMatchObject({ status: 'fail', fix: 'docker pull registry.test/egress:1 (or unset the variable that names it)' });
    expect(find(result.data, 'sidecar image')[1]).toMatchObject({ status: 'warn', detail: expect.stringMatching(/not pinned/) });
    expect(result.exitCode).toBe(1);
  });

  it('only warns when the default sidecar image is missing: run builds it', async () => {
    const { ctx } = setup();
    const result = await doctor({}, ctx, { pathExists: () => true, runner: healthyEngine({ images: { 'drydock-agent:latest': true, 'drydock-egress:latest': false } }) });
    expect(find(result.data, 'sidecar image')[0]).toMatchObject({ status: 'warn', detail: expect.stringMatching(/builds it on first use/) });
    expect(result.exitCode).toBe(0);
  });

  it('warns when drydock\'s sidecar image was built from other templates: run rebuilds it', async () => {
    const { ctx } = setup();
    const result = await doctor({}, ctx, { pathExists: () => true, runner: healthyEngine({ images: { 'drydock-agent:latest': true, 'drydock-egress:latest': 'stale' } }) });
    expect(find(result.data, 'sidecar image')[0]).toMatchObject({ status: 'warn', detail: expect.stringMatching(/built from other templates .*rebuilds it before the next session/) });
    expect(result.exitCode).toBe(0);
  });

  it('warns that dood cannot start when /var/run/docker.sock is missing', async () => {
    const { ctx } = setup();
    const result = await doctor({}, ctx, { runner: healthyEngine(), pathExists: () => false });
    expect(find(result.data, 'dood socket')[0]).toMatchObject({ status: 'warn', detail: expect.stringMatching(/\/var\/run\/docker\.sock does not exist/) });
    expect(result.exitCode).toBe(0);
  });

  it('warns on a rootless or userns-remapped engine', async () => {
    const { ctx } = setup();
    const result = await doctor({}, ctx, { pathExists: () => true, runner: healthyEngine({ securityOptions: ['name=seccomp,profile=default', 'name=rootless', 'name=userns'] }) });
    expect(find(result.data, 'rootless engine')[0]).toMatchObject({ status: 'warn', detail: expect.stringMatching(/internal/) });
    expect(find(result.data, 'user namespaces')[0]?.status).toBe('warn');
    expect(result.exitCode).toBe(0);
  });

  it('warns when few address pools remain and fails on an internal drydock_egress', async () => {
    const { ctx } = setup();
    const many = Array.from({ length: 27 }, (_, i) => netLine({ id: `x${i}`, name: `net${i}`, internal: false }));
    many.push(netLine({ id: 'eg', name: 'drydock_egress', internal: true }));
    const result = await doctor({}, ctx, { pathExists: () => true, runner: healthyEngine({ networks: many }) });
    expect(find(result.data, 'address pool')[0]).toMatchObject({ status: 'warn', detail: expect.stringMatching(/about 2 of the 31/) });
    expect(find(result.data, 'shared egress network')[0]?.status).toBe('fail');
    expect(result.exitCode).toBe(1);
  });

  it('fails when a dir is not writable', async () => {
    const { ctx } = setup();
    const result = await doctor({}, ctx, { pathExists: () => true, runner: healthyEngine(), writable: () => false });
    expect(find(result.data, 'config dir')[0]?.status).toBe('fail');
    expect(find(result.data, 'state dir')[0]?.status).toBe('fail');
    expect(result.exitCode).toBe(1);
  });

  it('fails on an allowlist error with FILE:LINE, and warns about storage and DoH hosts', async () => {
    const { ctx } = setup({ allowlist: 'raw.githubusercontent.com\ndns.google\nnot a host\n*.amazonaws.com\n' });
    const result = await doctor({}, ctx, { pathExists: () => true, runner: healthyEngine() });
    const errors = find(result.data, 'allowlist error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.detail).toMatch(/egress-allowlist:3: /);
    const risky = find(result.data, 'risky entry').map((c) => c.detail);
    expect(risky).toEqual([
      expect.stringMatching(/egress-allowlist:1: raw\.githubusercontent\.com .*public storage/),
      expect.stringMatching(/egress-allowlist:2: dns\.google .*DNS-over-HTTPS/),
      expect.stringMatching(/egress-allowlist:4: \*\.amazonaws\.com \(s3\.amazonaws\.com\)/),
    ]);
    expect(result.exitCode).toBe(1);
  });

  it('warns loudly about a live observe session and dood in DRYDOCK_MODE; fails an unknown mode', async () => {
    const { ctx } = setup({ env: { DRYDOCK_MODE: 'dood' } });
    const result = await doctor({}, ctx, { pathExists: () => true, runner: healthyEngine({ sessions: [{ id: 'app-0001', observe: true }] }) });
    expect(find(result.data, 'observe session')[0]).toMatchObject({ status: 'warn', detail: expect.stringMatching(/NOT A JAIL/) });
    expect(find(result.data, 'DRYDOCK_MODE')[0]).toMatchObject({ status: 'warn', detail: expect.stringMatching(/NO egress jail/) });

    const bad = setup({ env: { DRYDOCK_MODE: 'observe' } });
    const again = await doctor({}, bad.ctx, { pathExists: () => true, runner: healthyEngine() });
    expect(find(again.data, 'DRYDOCK_MODE')).toEqual([expect.objectContaining({ status: 'fail', detail: expect.stringMatching(/NOT A JAIL/) })]);
    const unknown = setup({ env: { DRYDOCK_MODE: 'jail' } });
    expect(find((await doctor({}, unknown.ctx, { pathExists: () => true, runner: healthyEngine() })).data, 'DRYDOCK_MODE')[0]?.status).toBe('fail');
  });

  it('fails an unpinned sidecar under DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE=1', async () => {
    const { ctx } = setup({ env: { DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE: '1' } });
    const result = await doctor({}, ctx, { pathExists: () => true, runner: healthyEngine() });
    expect(find(result.data, 'sidecar image').map((c) => c.status)).toEqual(['pass', 'fail']);
    expect(result.exitCode).toBe(1);
  });

  it('warns about leftovers that gc would reap', async () => {
    const { ctx } = setup();
    const result = await doctor({}, ctx, { pathExists: () => true, runner: healthyEngine({ sessions: [{ id: 'app-0001' }, { id: 'app-0002', agent: 'exited' }] }) });
    expect(find(result.data, 'sessions')[0]).toMatchObject({ status: 'warn', detail: expect.stringMatching(/1 live; 1 finished .*app-0002/), fix: 'drydock gc' });
  });

  it('prints sections with fixes in human mode', async () => {
    const { ctx, stdout } = captureContext({ env: setup().ctx.env });
    const fake = new FakeRunner().expect({ argv: INFO, result: { code: 1, stderr: NO_ENGINE } });
    expectCompose(fake, 'v2');
    await doctor({}, ctx, { pathExists: () => true, runner: fake });
    expect(stdout()).toMatch(/^ENGINE\n  ok    docker CLI: present\n  FAIL  engine: unreachable/);
    expect(stdout()).toMatch(/fix: is the engine running\?/);
    expect(stdout()).toMatch(/check\(s\) failed/);
  });

  describe('--session ID: the jail self-test of a running session', () => {
    const ID = 'app-0001';
    const withSession = (probe: string) => {
      const fake = healthyEngine({ sessions: [{ id: ID }] });
      const l = listings([{ id: ID, netns: 'running' }]);
      fake.expect({ argv: psFor(ID), result: { stdout: l.ps } }).expect({ argv: netFor(ID), result: { stdout: l.networks } });
      fake.expect({ argv: ['docker', 'inspect', `drydock-${ID}`, `drydock-${ID}-netns`, `drydock_internal_${ID}`, 'drydock_egress', 'bridge'], result: { stdout: JSON.stringify(inspectDocs(ID)) } });
      fake.expect({ argv: (a) => a.slice(0, 6).join(' ') === `docker exec -i --user 10001:10001 drydock-${ID}-netns`, result: { stdout: probe } });
      return fake;
    };

    it('passes an intact jail, one check per self-test check', async () => {
      const { ctx } = setup();
      const fake = withSession(probeOutput(ID));
      const result = await doctor({ session: ID }, ctx, { pathExists: () => true, runner: fake });
      const section = (result.data as { sections: Section[] }).sections.find((s) => s.name === `SELF-TEST ${ID}`)!;
      expect(section.checks.map((c) => c.status).every((s) => s === 'pass')).toBe(true);
      expect(section.checks.map((c) => c.name)).toContain('canary-refused');
      expect(result.exitCode).toBe(0);
      expect(fake.unmet()).toEqual([]);
    });

    it('fails doctor (exit 1) when the jail is broken, naming the check', async () => {
      const { ctx } = setup();
      const result = await doctor({ session: ID }, ctx, { pathExists: () => true, runner: withSession(probeOutput(ID, { route4: ROUTE4_WITH_DEFAULT })) });
      expect(find(result.data, 'ipv4-default-route')[0]).toMatchObject({ status: 'fail', detail: expect.stringMatching(/IPv4 default route/) });
      expect(result.exitCode).toBe(1);
    });

    it('a session that is not running is a failed check, not a crash', async () => {
      const { ctx } = setup();
      const fake = healthyEngine();
      fake.expect({ argv: psFor('app-9999'), result: { stdout: '' } }).expect({ argv: netFor('app-9999'), result: { stdout: '' } });
      const result = await doctor({ session: 'app-9999' }, ctx, { pathExists: () => true, runner: fake });
      expect(find(result.data, 'session')[0]).toMatchObject({ status: 'fail', detail: 'no session app-9999' });
    });
  });
});
