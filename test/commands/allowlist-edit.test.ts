/**
 * `drydock allowlist add|remove` end to end on the file system, with the docker CLI faked by the
 * strict runner: which sessions are touched, what is written, and how every failure of a sidecar
 * to apply the change is reported (exit 3) and left (previous filter, or stopped closed).
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import { add, remove } from '../../lib/commands/allowlist-edit.js';
import { renderSessionEgress } from '../../lib/egress/session-egress.js';
import { UsageError } from '../../lib/errors.js';
import { liveStateOf, readLiveState } from '../../lib/live/state.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { captureContext, listings, NET_ALL, PS_ALL, type SessionFixture } from '../session/fixtures.js';
import { tempDir } from '../helpers/temp-dir.js';

const RELOAD = '/usr/local/bin/drydock-egress-reload';
const isReload = (sidecar: string) => (argv: readonly string[]) =>
  argv.length === 5 && argv[0] === 'docker' && argv[1] === 'exec' && argv[2] === sidecar && argv[3] === RELOAD && /^drydock-reload-[0-9a-f]+\.invalid$/.test(argv[4]!);

function world(sessions: SessionFixture[], lists: Record<string, string> = {}) {
  const root = tempDir('live');
  const config = join(root, 'config');
  const state = join(root, 'state');
  mkdirSync(config, { recursive: true });
  writeFileSync(join(root, 'baseline.conf'), 'api.anthropic.com\n');
  for (const [name, text] of Object.entries(lists)) writeFileSync(join(config, name), text);
  // Each running contained session as `run` left it: its egress files and live state.
  for (const s of sessions) {
    const project = s.project ?? s.id.replace(/-[0-9a-f]{4}$/, '');
    const dir = join(state, 'sessions', s.id);
    const text = ['api.anthropic.com', lists['egress-allowlist'] ?? '', lists[`egress-allowlist-${project}`] ?? ''].join('\n');
    const entries = parseAllowlist(text, 'x').entries;
    const egress = renderSessionEgress({ sessionId: s.id, project, entries, observe: false, generation: '00000000', resolverServers: ['192.0.2.53'] });
    mkdirSync(join(dir, 'egress'), { recursive: true });
    for (const [name, content] of Object.entries(egress.files)) writeFileSync(join(dir, 'egress', name), content);
    writeFileSync(join(dir, 'live.json'), liveStateOf('00000000', entries));
  }
  const l = listings(sessions);
  const fake = new FakeRunner();
  const listAll = () => fake.expect({ argv: PS_ALL, result: { stdout: l.ps } }).expect({ argv: NET_ALL, result: { stdout: l.networks } });
  const capture = captureContext({ env: { DRYDOCK_STATE_DIR: state, DRYDOCK_CONFIG_DIR: config, DRYDOCK_BASELINE: join(root, 'baseline.conf') }, cwd: '/work/app' });
  const filterOf = (id: string) => readFileSync(join(state, 'sessions', id, 'egress', 'egress-filter'), 'utf8');
  const resolverOf = (id: string) => readFileSync(join(state, 'sessions', id, 'egress', 'resolver.conf'), 'utf8');
  const list = (name: string) => readFileSync(join(config, name), 'utf8');
  return { root, config, state, fake, listAll, filterOf, resolverOf, list, live: (id: string) => readLiveState(join(state, 'sessions', id)), ...capture };
}

describe('allowlist add', () => {
  it('writes the project list and reloads exactly that project\'s running sessions', async () => {
    const w = world([{ id: 'app-0001' }, { id: 'web-0001' }], { 'egress-allowlist-app': '# mine\nallowed.test\n' });
    w.listAll().expect({ argv: isReload('drydock-app-0001-egress'), result: { stdout: 'drydock-egress-reload: confirmed x\n' } });
    const before = w.filterOf('web-0001');
    const result = await add({ entries: ['denied.test'] }, w.ctx, { runner: w.fake });
    expect(result.exitCode, w.stderr()).toBe(0);
    expect(w.list('egress-allowlist-app')).toBe('# mine\nallowed.test\ndenied.test\n');
    expect(w.out[0]).toBe(`added denied.test to ${join(w.config, 'egress-allowlist-app')}`);
    expect(w.out[1]).toMatch(/^session app-0001: \+denied\.test \(reload confirmed in \d+\.\d s, agent untouched\)$/);
    expect(w.filterOf('app-0001')).toContain('(allowed|denied)\\.test');
    // The generation the sidecar confirmed is the one recorded, with the new entry.
    const check = w.fake.calls.find((c) => c[1] === 'exec')![4]!;
    expect(w.live('app-0001')).toEqual({ generation: check.slice('drydock-reload-'.length, -'.invalid'.length), entries: ['api.anthropic.com', 'allowed.test', 'denied.test'] });
    expect(w.filterOf('web-0001'), 'another project is not touched').toBe(before);
    expect(w.fake.unmet()).toEqual([]);
  });

  it('replaces the list by rename (a reader sees the old file or the new one), leaving no temp file or lock', async () => {
    const w = world([], { 'egress-allowlist-app': '# mine\n' });
    const inode = statSync(join(w.config, 'egress-allowlist-app')).ino;
    w.listAll();
    expect((await add({ entries: ['a.test'] }, w.ctx, { runner: w.fake })).exitCode).toBe(0);
    expect(statSync(join(w.config, 'egress-allowlist-app')).ino).not.toBe(inode);
    expect(readdirSync(w.config)).toEqual(['egress-allowlist-app']);
    await expect(add({ entries: ['bad/path.test'] }, w.ctx, { runner: w.fake })).rejects.toBeInstanceOf(UsageError);
    expect(readdirSync(w.config), 'the lock is released on error too').toEqual(['egress-allowlist-app']);
  });

  it('the global list reaches every running contained session; dood and observe are named, not updated', async () => {
    const w = world([{ id: 'app-0001' }, { id: 'web-0001' }, { id: 'obs-0001', observe: true }, { id: 'ood-0001', mode: 'dood' }]);
    w.listAll()
      .expect({ argv: isReload('drydock-app-0001-egress') })
      .expect({ argv: isReload('drydock-web-0001-egress') });
    const result = await add({ entries: ['*.npmjs.org'], global: true }, w.ctx, { runner: w.fake });
    expect(result.exitCode, w.stderr()).toBe(0);
    expect(w.list('egress-allowlist')).toBe('*.npmjs.org\n');
    expect(w.out.filter((l) => l.startsWith('session '))).toEqual([
      expect.stringMatching(/^session app-0001: \+\*\.npmjs\.org \(reload confirmed/),
      expect.stringMatching(/^session web-0001: \+\*\.npmjs\.org \(reload confirmed/),
      'session obs-0001: not updated: observe mode: nothing is filtered, so nothing to update',
      'session ood-0001: not updated: dood mode: no egress filter to update',
    ]);
  });

  it('a malformed entry: exit 2 with FILE:LINE, and neither the list nor any session is touched (no docker call)', async () => {
    const w = world([{ id: 'app-0001' }], { 'egress-allowlist-app': 'allowed.test\n' });
    const before = w.filterOf('app-0001');
    const error = await add({ entries: ['ok.test', 'http://x.test/path'] }, w.ctx, { runner: w.fake }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).diagnostics[0]).toMatchObject({ file: join(w.config, 'egress-allowlist-app'), line: 3 });
    expect(w.list('egress-allowlist-app')).toBe('allowed.test\n');
    expect(w.filterOf('app-0001')).toBe(before);
    expect(w.fake.calls).toEqual([]);
  });

  it('another list of an affected session is broken: exit 2 before anything is written', async () => {
    const w = world([{ id: 'app-0001' }], { 'egress-allowlist-app': 'bad.test/path\n' });
    w.listAll();
    await expect(add({ entries: ['x.test'], global: true }, w.ctx, { runner: w.fake })).rejects.toThrow(/allowlists have errors/);
    expect(() => w.list('egress-allowlist')).toThrow(/ENOENT/);
  });

  it('--global and --project together is a usage error', async () => {
    const w = world([]);
    await expect(add({ entries: ['x.test'], global: true, project: 'app' }, w.ctx, { runner: w.fake })).rejects.toBeInstanceOf(UsageError);
  });

  it('a sidecar that cannot run the reload (paused): previous files back, exit 3, and a rerun later catches up', async () => {
    const w = world([{ id: 'app-0001', egress: 'paused' }], { 'egress-allowlist-app': 'allowed.test\n' });
    const before = w.filterOf('app-0001');
    w.listAll()
      .expect({ argv: isReload('drydock-app-0001-egress'), result: { code: 1, stderr: 'Error response from daemon: Container e-app-0001 is paused, unpause the container before exec\n' } })
      .expect({ argv: ['docker', 'container', 'inspect', '--format', '{{.State.Status}}', 'drydock-app-0001-egress'], result: { stdout: 'paused\n' } });
    const result = await add({ entries: ['denied.test'] }, w.ctx, { runner: w.fake });
    expect(result.exitCode).toBe(3);
    expect(w.err).toEqual(['session app-0001: NOT updated (Container e-app-0001 is paused, unpause the container before exec): it keeps its previous filter; nothing new gets through']);
    expect(w.filterOf('app-0001'), 'the mounted files are the ones the proxy runs').toBe(before);
    expect(w.live('app-0001')?.generation).toBe('00000000');
    expect(w.list('egress-allowlist-app')).toBe('allowed.test\ndenied.test\n');

    w.out.length = 0;
    w.listAll().expect({ argv: isReload('drydock-app-0001-egress') });
    expect((await add({ entries: ['denied.test'] }, w.ctx, { runner: w.fake })).exitCode).toBe(0);
    expect(w.out[0]).toMatch(/^denied\.test: already listed at .*:2, not added again$/);
    expect(w.out[1]).toMatch(/^session app-0001: \+denied\.test \(reload confirmed/);
  });

  it('signalled but not confirmed: the previous generation is reloaded and confirmed, exit 3', async () => {
    const w = world([{ id: 'app-0001' }], { 'egress-allowlist-app': 'allowed.test\n' });
    const checks: string[] = [];
    w.listAll()
      .expect({ argv: isReload('drydock-app-0001-egress'), result: (argv) => (checks.push(argv[4]!), { code: 2, stderr: 'drydock-egress-reload: the proxy did not confirm x within 5 s (last answer: 403)\n' }) })
      .expect({ argv: ['docker', 'container', 'inspect', '--format', '{{.State.Status}}', 'drydock-app-0001-egress'], result: { stdout: 'running\n' } })
      .expect({ argv: isReload('drydock-app-0001-egress'), result: (argv) => (checks.push(argv[4]!), { code: 0 }) });
    const result = await add({ entries: ['denied.test'] }, w.ctx, { runner: w.fake });
    expect(result.exitCode).toBe(3);
    expect(checks[1], 'the second reload confirms the previous generation').toBe('drydock-reload-00000000.invalid');
    expect(w.err[0]).toMatch(/NOT updated \(.*last answer: 403\)\): it keeps its previous filter \(reloaded and confirmed\); nothing new gets through$/);
  });
});

describe('allowlist add|remove private:', () => {
  it('moves the opt-in into the session\'s resolver config (the sidecar restarts its resolver on reload), keeping its upstreams', async () => {
    const w = world([{ id: 'app-0001' }], { 'egress-allowlist-app': 'allowed.test\n' });
    expect(w.resolverOf('app-0001')).not.toContain('rebind-domain-ok');
    w.listAll().expect({ argv: isReload('drydock-app-0001-egress') });
    expect((await add({ entries: ['private:reg.corp.example'] }, w.ctx, { runner: w.fake })).exitCode).toBe(0);
    expect(w.list('egress-allowlist-app')).toBe('allowed.test\nprivate:reg.corp.example\n');
    expect(w.out[1]).toMatch(/^session app-0001: \+private:reg\.corp\.example \(reload confirmed/);
    expect(w.filterOf('app-0001')).toContain('reg\\.corp\\.example');
    expect(w.resolverOf('app-0001')).toContain('\nrebind-domain-ok=/reg.corp.example/\n');
    expect(w.resolverOf('app-0001'), 'the session\'s own upstreams, not this host\'s now').toContain('\nserver=192.0.2.53\n');

    w.listAll().expect({ argv: isReload('drydock-app-0001-egress') });
    expect((await remove({ entries: ['private:reg.corp.example'] }, w.ctx, { runner: w.fake })).exitCode).toBe(0);
    expect(w.resolverOf('app-0001')).not.toContain('rebind-domain-ok');
    expect(w.fake.unmet()).toEqual([]);
  });
});

describe('allowlist remove', () => {
  it('narrows the running session, and says so', async () => {
    const w = world([{ id: 'app-0001' }], { 'egress-allowlist-app': 'allowed.test\ndenied.test # for now\n' });
    w.listAll().expect({ argv: isReload('drydock-app-0001-egress') });
    expect((await remove({ entries: ['denied.test'] }, w.ctx, { runner: w.fake })).exitCode).toBe(0);
    expect(w.list('egress-allowlist-app')).toBe('allowed.test\n');
    expect(w.out[1]).toMatch(/^session app-0001: -denied\.test \(reload confirmed/);
    expect(w.filterOf('app-0001')).not.toContain('denied');
  });

  it('a sidecar that cannot narrow is stopped (closed), never left wider than the list: exit 3', async () => {
    const w = world([{ id: 'app-0001' }], { 'egress-allowlist-app': 'allowed.test\ndenied.test\n' });
    const inspect = ['docker', 'container', 'inspect', '--format', '{{.State.Status}}', 'drydock-app-0001-egress'];
    w.listAll()
      .expect({ argv: isReload('drydock-app-0001-egress'), result: { code: 1, stderr: 'drydock-egress-reload: the proxy is not running as pid 7\n' } })
      .expect({ argv: inspect, result: { stdout: 'running\n' }, times: 2 })
      .expect({ argv: ['docker', 'stop', '-t', '2', 'drydock-app-0001-egress'] });
    const result = await remove({ entries: ['denied.test'] }, w.ctx, { runner: w.fake });
    expect(result.exitCode).toBe(3);
    expect(w.err[0]).toMatch(/^session app-0001: NOT updated \(drydock-egress-reload: the proxy is not running as pid 7; it would keep denied\.test\); its sidecar was stopped: the agent has no egress now \(closed\)/);
    expect(w.fake.unmet()).toEqual([]);
  });

  it('the engine cannot be listed: the list is still edited, and the command says no session was updated (exit 3)', async () => {
    const w = world([], { 'egress-allowlist-app': 'allowed.test\ndenied.test\n' });
    w.fake.expect({ argv: PS_ALL, result: { code: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n' } });
    expect((await remove({ entries: ['denied.test'] }, w.ctx, { runner: w.fake })).exitCode).toBe(3);
    expect(w.list('egress-allowlist-app')).toBe('allowed.test\n');
    expect(w.stderr()).toMatch(/could not list the running sessions .*any running session was NOT updated/);
  });
});
