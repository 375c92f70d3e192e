/** `stop` and `gc` with --target kubernetes, through the strict fake runner. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gc } from '../../lib/commands/gc.js';
import { stop } from '../../lib/commands/stop.js';
import { ExitCode, NegativeAnswer } from '../../lib/errors.js';
import { planKubernetesGc } from '../../lib/kubernetes/gc.js';
import { parseNamespaceList, parseRunningAgents } from '../../lib/kubernetes/kubectl.js';
import type { SessionDirState } from '../../lib/session/gc-plan.js';
import { runWorld } from '../session/run-fixture.js';
import { CONTEXT, PROXY_LOG, deleteAgentArgv, k, proxyLogsArgv } from './kubectl-fixture.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const OLD = '2024-05-01T10:00:00Z';

function namespaceItem(session: string, extra: { created?: string; terminating?: boolean } = {}) {
  const project = session.replace(/-[0-9a-f]{4}$/, '');
  return {
    metadata: {
      name: `drydock-${session}`,
      creationTimestamp: extra.created ?? OLD,
      ...(extra.terminating ? { deletionTimestamp: '2024-05-01T11:59:00Z' } : {}),
      labels: { 'drydock.session': session, 'drydock.project': project, 'drydock.role': 'namespace' },
    },
  };
}

const namespaces = (...items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
const agentPods = (...running: string[]) =>
  JSON.stringify({ items: running.map((s) => ({ metadata: { labels: { 'drydock.session': s } }, status: { phase: 'Running' } })) });

function expectListing(w: ReturnType<typeof runWorld>, listing: string) {
  w.fake.expect({ argv: ['kubectl', 'config', 'current-context'], result: { stdout: `${CONTEXT}\n` } });
  w.fake.expect({ argv: k('get', 'namespaces', '-l', 'drydock.session', '-o', 'json'), result: { stdout: listing } });
}

describe('stop --target kubernetes', () => {
  it('saves the proxy log into the session dir and deletes the namespace by label', async () => {
    const w = runWorld();
    mkdirSync(w.sessionDir('myapp-aaaa'), { recursive: true });
    expectListing(w, namespaces(namespaceItem('myapp-aaaa'), namespaceItem('other-bbbb')));
    w.fake.expect({ argv: deleteAgentArgv('myapp-aaaa'), result: { stdout: 'pod "drydock-agent" deleted\n' } });
    w.fake.expect({ argv: proxyLogsArgv('myapp-aaaa'), result: { stdout: PROXY_LOG } });
    w.fake.expect({ argv: k('delete', 'namespace', '-l', 'drydock.session in (myapp-aaaa)', '--ignore-not-found', '--wait=false'), result: { stdout: 'deleted\n' } });
    const result = await stop({ target: 'kubernetes', session: 'myapp-aaaa' }, w.ctx, { runner: w.fake });
    expect(result.exitCode).toBe(ExitCode.Ok);
    expect(w.fake.unmet()).toEqual([]);
    expect(readFileSync(join(w.sessionDir('myapp-aaaa'), 'egress.log'), 'utf8')).toBe(PROXY_LOG);
    expect(w.stdout()).toBe(`stopped myapp-aaaa (namespace drydock-myapp-aaaa on context ${CONTEXT})`);
    expect(w.stderr()).toMatch(/blocked\.test/);
  });

  it('stops every session with --all in one delete, skipping the log of one already terminating', async () => {
    const w = runWorld();
    expectListing(w, namespaces(namespaceItem('a-0001'), namespaceItem('b-0002', { terminating: true })));
    w.fake.expect({ argv: deleteAgentArgv('a-0001') });
    w.fake.expect({ argv: proxyLogsArgv('a-0001'), result: { code: 1, stderr: 'Error from server (NotFound): pods "drydock-egress" not found\n' } });
    w.fake.expect({ argv: k('delete', 'namespace', '-l', 'drydock.session in (a-0001,b-0002)', '--ignore-not-found', '--wait=false') });
    const result = await stop({ target: 'kubernetes', all: true }, w.ctx, { runner: w.fake });
    expect(result.data).toMatchObject({ stopped: ['a-0001', 'b-0002'], failures: [] });
    expect(w.fake.unmet()).toEqual([]);
  });

  it('answers no (exit 1) for an unknown session, listing what there is', async () => {
    const w = runWorld();
    expectListing(w, namespaces(namespaceItem('a-0001')));
    const error = await stop({ target: 'kubernetes', session: 'zz-0000' }, w.ctx, { runner: w.fake }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NegativeAnswer);
    expect((error as Error).message).toMatch(/no session "zz-0000" on this cluster\nsessions:\n {2}a-0001 \(project a, namespace drydock-a-0001\)/);
  });
});

describe('planKubernetesGc', () => {
  const dir = (session: string, owner: SessionDirState['owner'], createdAtMs = Date.parse(OLD)): SessionDirState => ({ session, path: `/state/${session}`, owner, createdAtMs });
  const ns = (session: string, created = OLD) => parseNamespaceList(namespaces(namespaceItem(session, { created })))[0]!;

  it('keeps a live owner, reaps a dead one, and for unknown owners keeps a running agent or a young session', () => {
    const plan = planKubernetesGc({
      namespaces: [ns('alive-0001'), ns('dead-0002'), ns('running-0003'), ns('young-0004', '2024-05-01T11:58:00Z'), ns('stale-0005')],
      runningAgents: ['dead-0002', 'running-0003'],
      dirs: [dir('alive-0001', 'alive'), dir('dead-0002', 'dead')],
      now: NOW,
      graceMs: 300_000,
    });
    expect(plan.namespaces).toEqual([
      { name: 'drydock-dead-0002', session: 'dead-0002', reason: 'its drydock run is gone' },
      { name: 'drydock-stale-0005', session: 'stale-0005', reason: 'its agent Pod is not running' },
    ]);
    expect(plan.dirs).toEqual([{ session: 'dead-0002', path: '/state/dead-0002' }]);
    expect(plan.kept.map((k) => k.session)).toEqual(['alive-0001', 'running-0003', 'young-0004']);
  });

  it('reads running agents only from Running pods', () => {
    expect(parseRunningAgents(JSON.stringify({ items: [
      { metadata: { labels: { 'drydock.session': 'a-0001' } }, status: { phase: 'Running' } },
      { metadata: { labels: { 'drydock.session': 'b-0002' } }, status: { phase: 'Succeeded' } },
    ] }))).toEqual(['a-0001']);
  });
});

describe('gc --target kubernetes', () => {
  it('deletes the orphans in one call and removes their session dirs, logs archived', async () => {
    const w = runWorld();
    const sessionDir = w.sessionDir('dead-0002');
    mkdirSync(sessionDir, { recursive: true });
    writeFileSync(join(sessionDir, 'egress.log'), PROXY_LOG);
    expectListing(w, namespaces(namespaceItem('dead-0002'), namespaceItem('stale-0005')));
    w.fake.expect({ argv: k('get', 'pods', '--all-namespaces', '-l', 'drydock.role=agent,drydock.target=kubernetes', '-o', 'json'), result: { stdout: agentPods() } });
    w.fake.expect({ argv: k('delete', 'namespace', '-l', 'drydock.session in (dead-0002,stale-0005)', '--ignore-not-found', '--wait=false') });
    const result = await gc({ target: 'kubernetes' }, w.ctx, { runner: w.fake, clock: { now: () => NOW }, scanDirs: () => [{ session: 'dead-0002', path: sessionDir, owner: 'dead' }] });
    expect(result.exitCode).toBe(ExitCode.Ok);
    expect(w.fake.unmet()).toEqual([]);
    expect(existsSync(sessionDir)).toBe(false);
    expect(result.data).toMatchObject({ removed: { namespaces: ['drydock-dead-0002', 'drydock-stale-0005'], dirs: [sessionDir] } });
    expect(w.stdout()).toMatch(/removed 2 namespace\(s\) on context kind-drydock, 1 session dir\(s\); logs kept in /);
  });

  it('--dry-run changes nothing', async () => {
    const w = runWorld();
    expectListing(w, namespaces(namespaceItem('stale-0005')));
    w.fake.expect({ argv: k('get', 'pods', '--all-namespaces', '-l', 'drydock.role=agent,drydock.target=kubernetes', '-o', 'json'), result: { stdout: agentPods() } });
    await gc({ target: 'kubernetes', dryRun: true }, w.ctx, { runner: w.fake, clock: { now: () => NOW }, scanDirs: () => [] });
    expect(w.stdout()).toBe('remove namespace drydock-stale-0005 (stale-0005: its agent Pod is not running)');
    expect(w.fake.unmet()).toEqual([]);
  });

  it('keeps the session dir when the delete fails, and exits 3', async () => {
    const w = runWorld();
    const sessionDir = w.sessionDir('dead-0002');
    mkdirSync(sessionDir, { recursive: true });
    expectListing(w, namespaces(namespaceItem('dead-0002')));
    w.fake.expect({ argv: k('get', 'pods', '--all-namespaces', '-l', 'drydock.role=agent,drydock.target=kubernetes', '-o', 'json'), result: { stdout: agentPods() } });
    w.fake.expect({ argv: k('delete', 'namespace', '-l', 'drydock.session in (dead-0002)', '--ignore-not-found', '--wait=false'), result: { code: 1, stderr: 'forbidden\n' } });
    const result = await gc({ target: 'kubernetes' }, w.ctx, { runner: w.fake, clock: { now: () => NOW }, scanDirs: () => [{ session: 'dead-0002', path: sessionDir, owner: 'dead' }] });
    expect(result.exitCode).toBe(ExitCode.External);
    expect(existsSync(sessionDir)).toBe(true);
  });
});
