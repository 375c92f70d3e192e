import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findAllowingEntry } from '../../lib/allowlist/match.js';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import { check } from '../../lib/commands/allowlist.js';
import { log, suggest } from '../../lib/commands/egress.js';
import { describeRequest } from '../../lib/allowlist/match.js';
import type { DenialSummary } from '../../lib/egress/log.js';
import { ExternalError, NegativeAnswer, UsageError } from '../../lib/errors.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { captureContext, listings, NET_ALL, netFor, PS_ALL, psFor, type SessionFixture } from '../session/fixtures.js';
import { tempDir } from '../helpers/temp-dir.js';

const line = (level: string, message: string) => `${level.padEnd(9)} Nov 22 18:52:38.817 [7]: ${message}`;
const request = (fd: number, text: string) => line('CONNECT', `Request (file descriptor ${fd}): ${text}`);
const refused = (url: string) => line('NOTICE', `Proxying refused on filtered url "${url}"`);
const established = (host: string) => line('CONNECT', `Established connection to host "${host}" using file descriptor 9.`);

/** What `docker logs --timestamps` prints for a filtering sidecar. */
const stamped = (lines: string[]) => lines.map((l, i) => `2024-05-01T10:00:${String(i).padStart(2, '0')}.000000000Z ${l}\n`).join('');
const FILTER_LOG = [
  request(5, 'CONNECT xgithub.com:443 HTTP/1.1'), refused('xgithub.com:443'),
  request(5, 'CONNECT xgithub.com:443 HTTP/1.1'), refused('xgithub.com:443'),
  request(5, 'GET http://deb.debian.org/x HTTP/1.1'), refused('http://deb.debian.org/x'),
  request(5, 'CONNECT api.anthropic.com:443 HTTP/1.1'), established('api.anthropic.com'),
];
const OBSERVE_LOG = [
  'api.anthropic.com', 'github.com', 'registry.npmjs.org', 'www.npmjs.org', 'raw.githubusercontent.com', 'dns.google',
].flatMap((host, i) => [request(i + 5, `CONNECT ${host}:443 HTTP/1.1`), established(host)]).concat(
  request(20, 'GET http://deb.debian.org/dists/ HTTP/1.1'), established('deb.debian.org'),
);

function world(sessions: SessionFixture[], env: Record<string, string> = {}) {
  const root = tempDir('egress');
  const baseline = join(root, 'baseline.conf');
  writeFileSync(baseline, 'api.anthropic.com\n');
  const state = join(root, 'state');
  const l = listings(sessions);
  const fake = new FakeRunner();
  const listAll = () => fake.expect({ argv: PS_ALL, result: { stdout: l.ps } }).expect({ argv: NET_ALL, result: { stdout: l.networks } });
  const capture = captureContext({
    env: { DRYDOCK_STATE_DIR: state, DRYDOCK_CONFIG_DIR: join(root, 'config'), DRYDOCK_BASELINE: baseline, ...env },
    cwd: '/work/myapp',
  });
  const saveLog = (session: string, text: string, metadata?: object) => {
    const dir = join(state, 'sessions', session);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'egress.log'), text);
    if (metadata) writeFileSync(join(dir, 'session.json'), JSON.stringify(metadata));
  };
  return { root, fake, listAll, saveLog, ...capture };
}

describe('egress log', () => {
  it('reads the only live session\'s sidecar and prints each denied host once, with a count and its line', async () => {
    const w = world([{ id: 'myapp-0001' }]);
    w.listAll().expect({ argv: ['docker', 'logs', '--timestamps', 'drydock-myapp-0001-egress'], result: { stdout: stamped(FILTER_LOG) } });
    const result = await log({}, w.ctx, { runner: w.fake });
    expect(result.exitCode).toBe(0);
    expect(w.fake.unmet()).toEqual([]);
    expect(w.stdout()).toMatch(/xgithub\.com:443\s+2×\s+to allow, add: xgithub\.com/);
    expect(w.stdout()).toMatch(/http:\/\/deb\.debian\.org:80\s+1×\s+to allow, add: http:\/\/deb\.debian\.org/);
    expect(w.stderr()).toMatch(/myapp-0001 \(sidecar drydock-myapp-0001-egress\): 1 request\(s\) allowed/);
    expect(result.data).toMatchObject({ session: 'myapp-0001', allowed: 1, denials: [{ host: 'xgithub.com', count: 2 }, { host: 'deb.debian.org' }] });
  });

  it('agrees with `drydock allowlist check`: same line before, allowed after adding it to the project list', async () => {
    const w = world([{ id: 'myapp-0001' }]);
    w.listAll().expect({ argv: ['docker', 'logs', '--timestamps', 'drydock-myapp-0001-egress'], result: { stdout: stamped(FILTER_LOG) } });
    const { denials } = (await log({}, w.ctx, { runner: w.fake })).data as { denials: DenialSummary[] };
    expect(denials.length).toBeGreaterThan(0);
    const projectList = join(w.root, 'config', 'egress-allowlist-myapp');
    for (const d of denials) {
      const target = describeRequest(d);
      const before = await check({ host: target, project: 'myapp', json: true }, w.ctx);
      expect(before).toMatchObject({ exitCode: 1, data: { suggestion: d.suggestion } });
      mkdirSync(join(w.root, 'config'), { recursive: true });
      writeFileSync(projectList, `${d.suggestion}\n`);
      expect((await check({ host: target, project: 'myapp', json: true }, w.ctx)).exitCode, target).toBe(0);
    }
  });

  it('several live sessions: exit 2, listing them', async () => {
    const w = world([{ id: 'myapp-0001' }, { id: 'other-0002' }]);
    w.listAll();
    const error = await log({}, w.ctx, { runner: w.fake }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/2 live sessions[\s\S]*myapp-0001[\s\S]*other-0002/);
  });

  it('no live session: exit 1, pointing at a saved log when there is one', async () => {
    const w = world([{ id: 'myapp-0001', agent: 'exited', egress: 'exited' }]);
    w.saveLog('old-00aa', stamped(FILTER_LOG));
    w.listAll();
    const error = await log({}, w.ctx, { runner: w.fake }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NegativeAnswer);
    expect((error as NegativeAnswer).hint).toMatch(/drydock egress log old-00aa/);
  });

  it('no engine and no session named: exit 3, with a hint at the saved logs', async () => {
    const w = world([]);
    w.saveLog('old-00aa', FILTER_LOG.join('\n'));
    w.fake.expect({ argv: PS_ALL, result: { code: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.' } });
    const error = await log({}, w.ctx, { runner: w.fake }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalError);
    expect((error as ExternalError).hint).toMatch(/is the engine running.*drydock egress log old-00aa/);
  });

  it('a named session whose sidecar is gone: reads the egress.log saved at teardown', async () => {
    const w = world([]);
    w.saveLog('myapp-0001', FILTER_LOG.join('\n'), { id: 'myapp-0001', project: 'myapp', mode: 'contain', observe: false, createdAt: '2024-05-01T10:00:00Z', pid: 1, hostname: 'h' });
    w.fake.expect({ argv: psFor('myapp-0001'), result: { stdout: '' } }).expect({ argv: netFor('myapp-0001'), result: { stdout: '' } });
    const result = await log({ session: 'myapp-0001' }, w.ctx, { runner: w.fake });
    expect(result.data).toMatchObject({ source: { file: expect.stringMatching(/sessions\/myapp-0001\/egress\.log$/) } });
    expect(w.stdout()).toMatch(/xgithub\.com/);
  });

  it('a named session with a saved log still answers when the engine is unreachable', async () => {
    const w = world([]);
    w.saveLog('myapp-0001', FILTER_LOG.join('\n'));
    w.fake.expect({ argv: psFor('myapp-0001'), result: { code: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' } });
    expect((await log({ session: 'myapp-0001' }, w.ctx, { runner: w.fake })).exitCode).toBe(0);
    expect(w.stdout()).toMatch(/xgithub\.com/);
  });

  it('without a saved log an unreachable engine is exit 3, an unknown session exit 1, a dood session exit 1', async () => {
    const down = world([]);
    down.fake.expect({ argv: psFor('myapp-0001'), result: { code: 1, stderr: 'Cannot connect to the Docker daemon' } });
    await expect(log({ session: 'myapp-0001' }, down.ctx, { runner: down.fake })).rejects.toBeInstanceOf(ExternalError);

    const none = world([]);
    none.fake.expect({ argv: psFor('myapp-0001'), result: { stdout: '' } }).expect({ argv: netFor('myapp-0001'), result: { stdout: '' } });
    await expect(log({ session: 'myapp-0001' }, none.ctx, { runner: none.fake })).rejects.toBeInstanceOf(NegativeAnswer);

    const dood = world([{ id: 'myapp-0001', mode: 'dood' }]);
    const l = listings([{ id: 'myapp-0001', mode: 'dood' }]);
    dood.fake.expect({ argv: psFor('myapp-0001'), result: { stdout: l.ps } }).expect({ argv: netFor('myapp-0001'), result: { stdout: l.networks } });
    await expect(log({ session: 'myapp-0001' }, dood.ctx, { runner: dood.fake })).rejects.toThrow(/dood mode/);
  });

  it('refuses a session id that is not one (exit 2) before calling docker', async () => {
    const w = world([]);
    await expect(log({ session: '../etc' }, w.ctx, { runner: w.fake })).rejects.toBeInstanceOf(UsageError);
    expect(w.fake.calls).toEqual([]);
  });

  it('--follow streams `docker logs --follow` and prints each denied destination the first time only', async () => {
    const w = world([{ id: 'myapp-0001' }]);
    w.listAll().expect({ argv: ['docker', 'logs', '--timestamps', '--follow', 'drydock-myapp-0001-egress'], result: { stdout: stamped(FILTER_LOG) } });
    const result = await log({ follow: true }, w.ctx, { runner: w.fake });
    expect(result.exitCode).toBe(0);
    expect(w.out).toEqual([
      'refused xgithub.com:443  to allow it: drydock allowlist add --project myapp xgithub.com',
      'refused http://deb.debian.org:80  to allow it: drydock allowlist add --project myapp http://deb.debian.org',
    ]);
  });

  it('--json prints one document of the contract, written as it is read: data.decisions one per line, then the summary', async () => {
    const w = world([{ id: 'myapp-0001' }]);
    w.listAll().expect({ argv: ['docker', 'logs', '--timestamps', 'drydock-myapp-0001-egress'], result: { stdout: stamped(FILTER_LOG) } });
    const result = await log({ json: true }, w.ctx, { runner: w.fake });
    expect(result).toEqual({ exitCode: 0, streamed: true });
    const doc = JSON.parse(w.out.join('\n'));
    expect(doc).toMatchObject({ ok: true, exitCode: 0, error: null, data: { session: 'myapp-0001', allowed: 1, denials: [{ host: 'xgithub.com', count: 2 }, { host: 'deb.debian.org' }] } });
    // Each decision on a line of its own.
    expect(w.out.filter((l) => l.startsWith('{"time"'))).toHaveLength(4);
    const decisions = doc.data.decisions as Array<Record<string, unknown>>;
    expect(decisions.map((d) => [d.action, d.reason, d.method, d.host, d.port])).toEqual([
      ['denied', 'not_allowlisted', 'CONNECT', 'xgithub.com', 443],
      ['denied', 'not_allowlisted', 'CONNECT', 'xgithub.com', 443],
      ['denied', 'not_allowlisted', 'GET', 'deb.debian.org', 80],
      ['allowed', 'allowlisted', 'CONNECT', 'api.anthropic.com', 443],
    ]);
    expect(decisions[0]).toMatchObject({
      time: '2024-05-01T10:00:01.000000000Z', session: 'myapp-0001', protocol: 'connect', allowedBy: null,
      wouldAllow: { entry: 'xgithub.com', file: join(w.root, 'config', 'egress-allowlist-myapp') }, cannotAllow: null, truncated: false,
    });
    expect(decisions[3]!.allowedBy).toEqual({ entry: 'api.anthropic.com', file: join(w.root, 'baseline.conf'), line: 1 });
    expect(decisions[3]!.wouldAllow).toBeNull();
  });

  it('--json closes the document with the error when reading fails after it began', async () => {
    const w = world([{ id: 'myapp-0001' }]);
    w.listAll().expect({ argv: ['docker', 'logs', '--timestamps', 'drydock-myapp-0001-egress'], result: { stdout: stamped(FILTER_LOG.slice(0, 2)), code: 1, stderr: 'Cannot connect to the Docker daemon at unix:///x.sock\n' } });
    const result = await log({ json: true }, w.ctx, { runner: w.fake });
    expect(result).toEqual({ exitCode: 3, streamed: true });
    const doc = JSON.parse(w.out.join('\n'));
    expect(doc).toMatchObject({ ok: false, exitCode: 3, error: { kind: 'ExternalError', message: expect.stringMatching(/docker logs/) } });
    expect(doc.data.decisions).toHaveLength(1);
    expect(doc.data.refusals.complete).toBe(false);
  });

  it('--follow --json streams the decisions as the sidecar writes them', async () => {
    const w = world([{ id: 'myapp-0001' }]);
    w.listAll().expect({ argv: ['docker', 'logs', '--timestamps', '--follow', 'drydock-myapp-0001-egress'], result: { stdout: stamped(FILTER_LOG) } });
    expect(await log({ follow: true, json: true }, w.ctx, { runner: w.fake })).toEqual({ exitCode: 0, streamed: true });
    expect(w.out.map((l) => JSON.parse(l).host)).toEqual(['xgithub.com', 'xgithub.com', 'deb.debian.org', 'api.anthropic.com']);
  });
});

describe('egress suggest', () => {
  it('turns an observe session into an allowlist that parses cleanly, allows what was reached, warns on broad hosts', async () => {
    const w = world([{ id: 'myapp-0001', observe: true }]);
    w.listAll().expect({ argv: ['docker', 'logs', '--timestamps', 'drydock-myapp-0001-egress'], result: { stdout: stamped(OBSERVE_LOG) } });
    const result = await suggest({}, w.ctx, { runner: w.fake });
    expect(result.exitCode).toBe(0);
    const text = w.stdout();
    const parsed = parseAllowlist(text, 'suggested');
    expect(parsed.errors).toEqual([]);
    for (const host of ['github.com', 'registry.npmjs.org', 'www.npmjs.org', 'raw.githubusercontent.com', 'dns.google']) {
      expect(findAllowingEntry(parsed.entries, { host, port: 443, protocol: 'connect' }), host).toBeDefined();
    }
    expect(findAllowingEntry(parsed.entries, { host: 'deb.debian.org', port: 80, protocol: 'http' })).toBeDefined();
    expect(text).toMatch(/^# already allowed, left out: api\.anthropic\.com:443/m);
    expect(text).toMatch(/# WARNING: raw\.githubusercontent\.com .*\nraw\.githubusercontent\.com\n/);
    expect(text).toMatch(/# WARNING: dns\.google is a DNS-over-HTTPS resolver.*\ndns\.google\n/);
    expect(text).toMatch(/egress-allowlist-myapp \(this project\)/);
    expect(text).not.toMatch(/\*\./);
    expect(w.stderr()).not.toMatch(/not an --observe session/);
  });

  it('--collapse folds sibling hosts into a wildcard', async () => {
    const w = world([{ id: 'myapp-0001', observe: true }]);
    w.listAll().expect({ argv: ['docker', 'logs', '--timestamps', 'drydock-myapp-0001-egress'], result: { stdout: stamped(OBSERVE_LOG) } });
    await suggest({ collapse: true }, w.ctx, { runner: w.fake });
    expect(w.stdout()).toMatch(/^\*\.npmjs\.org$/m);
    expect(w.stdout()).not.toMatch(/^registry\.npmjs\.org$/m);
    expect(parseAllowlist(w.stdout(), 'suggested').errors).toEqual([]);
  });

  it('--project picks that project\'s live session; a filtering session gets a warning', async () => {
    const w = world([{ id: 'myapp-0001' }, { id: 'other-0002' }]);
    w.listAll().expect({ argv: ['docker', 'logs', '--timestamps', 'drydock-other-0002-egress'], result: { stdout: stamped(FILTER_LOG) } });
    const result = await suggest({ project: 'other' }, w.ctx, { runner: w.fake });
    expect(result.data).toMatchObject({ session: 'other-0002', project: 'other' });
    expect(w.stderr()).toMatch(/not an --observe session/);
    expect(w.stdout()).toMatch(/^xgithub\.com$/m);
  });
});
