/**
 * `run --target kubernetes` through the strict fake runner: every kubectl call of a session, in
 * order, and every way it fails closed (timeouts, a cluster that ignores NetworkPolicy, a probe
 * that proves nothing, signals): no agent, the namespace deleted by label, exit 3.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { run } from '../../lib/commands/run.js';
import { ExitCode, ExternalError, UsageError } from '../../lib/errors.js';
import { ProgramNotFound } from '../../lib/docker/runner.js';
import { checkKubernetesInvariants } from '../../lib/kubernetes/invariants.js';
import { readSessionMetadata } from '../../lib/session/metadata.js';
import { runWorld, suffixes } from '../session/run-fixture.js';
import { ADDRESS, CONTEXT, k, nsOf, scriptKubernetesSession } from './kubectl-fixture.js';

const ID = 'myapp-aaaa';

function deps(w: ReturnType<typeof runWorld>, extra: Record<string, unknown> = {}) {
  return { runner: w.fake, signals: w.signals, clock: w.clock, tty: false, random: suffixes('aaaa', 'bbbb'), hostname: 'host', pid: 4242, sleep: async () => {}, ...extra };
}

async function failure(promise: Promise<unknown>): Promise<ExternalError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ExternalError) return error;
    throw error;
  }
  throw new Error('expected the run to fail');
}

const kinds = (yaml: string) => parseAllDocuments(yaml).map((d) => (d.toJS() as { kind: string; metadata: { name: string } })).map((o) => `${o.kind}/${o.metadata.name}`);

describe('run --target kubernetes', () => {
  it('applies the proxy side, waits, probes, applies the agent, execs the command, and tears down by label', async () => {
    const w = runWorld();
    const applied = scriptKubernetesSession(w.fake, { id: ID, execArgv: k('-n', nsOf(ID), 'exec', '-i', 'drydock-agent', '-c', 'agent', '--', 'make', 'test'), exec: { result: { code: 7 } } });
    const result = await run({ target: 'kubernetes', cmd: ['make', 'test'] }, w.ctx, deps(w));
    expect(result.exitCode).toBe(7);
    expect(w.fake.unmet()).toEqual([]);
    expect(applied.inputs.map(kinds)).toEqual([
      ['Namespace/drydock-myapp-aaaa', 'NetworkPolicy/default-deny', 'NetworkPolicy/agent-egress-to-proxy', 'NetworkPolicy/proxy-ingress-from-agent', 'NetworkPolicy/proxy-egress-public', 'ConfigMap/drydock-egress-config', 'Pod/drydock-egress', 'Service/drydock-egress'],
      ['Pod/drydock-probe'],
      ['Pod/drydock-agent'],
    ]);
    // What went to the cluster is what the invariants accept, with the Service's address pinned.
    const objects = applied.inputs.flatMap((yaml) => parseAllDocuments(yaml).map((d) => d.toJS()));
    expect(checkKubernetesInvariants({ objects, sessionId: ID, ports: [443], proxyAddress: ADDRESS })).toEqual([]);
    const err = w.stderr();
    expect(err).toMatch(/drydock: drydock-probe: enforced/);
    expect(err).toMatch(new RegExp(`session ${ID} · target kubernetes · context ${CONTEXT} · namespace drydock-${ID}`));
    expect(err).toMatch(/refused 1 destination[\s\S]*blocked\.test/);
    const dir = w.sessionDir(ID);
    // kubectl's stamp kept in front of each line, as in the compose sidecar's egress.log.
    expect(readFileSync(join(dir, 'egress.log'), 'utf8')).toMatch(/^2024-05-01T10:00:01\.100000000Z NOTICE .*Proxying refused on filtered url "blocked\.test:443"$/m);
    expect(readFileSync(join(dir, 'egress-decisions.jsonl'), 'utf8')).toMatch(/"host":"blocked\.test"/);
    expect(readdir(dir)).toEqual(['egress-decisions.jsonl', 'egress.log', 'kubernetes-agent.yaml', 'kubernetes-probe.yaml', 'kubernetes-proxy.yaml', 'session.json']);
    expect(readSessionMetadata(dir)).toMatchObject({ id: ID, mode: 'contain', exitCode: 7 });
    expect(result.data).toMatchObject({ target: 'kubernetes', context: CONTEXT, namespace: nsOf(ID) });
    expect(w.signals.listenerCount()).toBe(0);
  });

  it('gives the command a terminal with -it', async () => {
    const w = runWorld();
    scriptKubernetesSession(w.fake, { id: ID, execArgv: k('-n', nsOf(ID), 'exec', '-it', 'drydock-agent', '-c', 'agent', '--', 'claude') });
    expect((await run({ target: 'kubernetes', cmd: [] }, w.ctx, deps(w, { tty: true }))).exitCode).toBe(0);
  });

  it('fails closed when the proxy is not Ready in time: no agent, namespace deleted by label, exit 3', async () => {
    const w = runWorld({ DRYDOCK_KUBERNETES_TIMEOUT_SECONDS: '30' });
    const applied = scriptKubernetesSession(w.fake, { id: ID, until: 'proxy-ready', timeoutS: 30, proxyReady: { result: { code: 1, stderr: 'error: timed out waiting for the condition on pods/drydock-egress\n' } } });
    const error = await failure(run({ target: 'kubernetes', cmd: ['true'] }, w.ctx, deps(w)));
    expect(error.exitCode).toBe(ExitCode.External);
    expect(error.message).toBe('the proxy Pod drydock-egress did not become Ready within 30 s (error: timed out waiting for the condition on pods/drydock-egress); the agent was not started');
    expect(w.fake.unmet()).toEqual([]);
    expect(applied.inputs).toHaveLength(1);
    expect(readSessionMetadata(w.sessionDir(ID))?.exitCode).toBe(3);
  });

  it('does not start the agent on a cluster that ignores NetworkPolicy', async () => {
    const w = runWorld();
    const applied = scriptKubernetesSession(w.fake, { id: ID, until: 'probe', probePhases: ['Running', 'Failed'], probeLog: 'drydock-probe: not-enforced connected to 10.96.0.1:443 directly\n' });
    const error = await failure(run({ target: 'kubernetes', cmd: ['true'] }, w.ctx, deps(w)));
    expect(error.message).toBe("the cluster does not enforce NetworkPolicy: a pod under the agent's policy connected to 10.96.0.1:443 directly; the agent was not started");
    expect(error.hint).toMatch(/enforces NetworkPolicy .*--target compose/);
    expect(w.fake.unmet()).toEqual([]);
    expect(applied.inputs.map(kinds).flat()).not.toContain('Pod/drydock-agent');
  });

  it('does not start the agent when the probe proves nothing (it could not reach its proxy)', async () => {
    const w = runWorld();
    scriptKubernetesSession(w.fake, { id: ID, until: 'probe', probePhases: ['Failed'], probeLog: 'drydock-probe: inconclusive cannot reach its proxy drydock-egress:8888\n' });
    const error = await failure(run({ target: 'kubernetes', cmd: ['true'] }, w.ctx, deps(w)));
    expect(error.message).toMatch(/^the NetworkPolicy probe was inconclusive: it cannot reach its proxy drydock-egress:8888; the agent was not started$/);
    expect(w.fake.unmet()).toEqual([]);
  });

  it('does not start the agent when the probe never finishes', async () => {
    const w = runWorld();
    let now = 0;
    scriptKubernetesSession(w.fake, { id: ID, until: 'probe', probePhases: ['Pending'] });
    const error = await failure(run({ target: 'kubernetes', cmd: ['true'] }, w.ctx, deps(w, { clock: { now: () => (now += 10_000) } })));
    expect(error.message).toBe('the NetworkPolicy probe did not finish within 120 s (last phase: Pending); the agent was not started');
    expect(w.fake.unmet()).toEqual([]);
  });

  it('fails closed when the agent is not Ready in time', async () => {
    const w = runWorld();
    scriptKubernetesSession(w.fake, { id: ID, until: 'agent-ready', agentReady: { result: { code: 1, stderr: 'error: timed out waiting for the condition\n' } } });
    const error = await failure(run({ target: 'kubernetes', cmd: ['true'] }, w.ctx, deps(w)));
    expect(error.message).toMatch(/^the agent Pod drydock-agent did not become Ready within 120 s .*; the agent was not started$/);
    expect(error.hint).toMatch(/drydock-agent:latest/);
    expect(w.fake.unmet()).toEqual([]);
  });

  it('refuses a Service without a cluster address before any agent-side Pod exists', async () => {
    const w = runWorld();
    scriptKubernetesSession(w.fake, { id: ID, until: 'probe', address: 'None' });
    const error = await failure(run({ target: 'kubernetes', cmd: ['true'] }, w.ctx, deps(w)));
    expect(error.message).toBe('the proxy Service has no cluster address ("None"); the agent was not started');
    expect(w.fake.unmet()).toEqual([]);
  });

  it('tears down and exits 128+signal when interrupted while waiting for the proxy', async () => {
    const w = runWorld();
    scriptKubernetesSession(w.fake, {
      id: ID,
      until: 'proxy-ready',
      proxyReady: { result: (_argv, options) => (w.signals.emit('SIGINT'), { code: options?.signal?.aborted ? 130 : 0 }) },
    });
    const result = await run({ target: 'kubernetes', cmd: ['true'] }, w.ctx, deps(w));
    expect(result.exitCode).toBe(130);
    expect(w.fake.unmet()).toEqual([]);
    expect(w.stderr()).toMatch(/stopped by SIGINT/);
  });

  it('reports a failed teardown with the command that finishes it', async () => {
    const w = runWorld();
    scriptKubernetesSession(w.fake, { id: ID, deleteNamespace: { result: { code: 1, stderr: 'error: the server is currently unable to handle the request\n' } } });
    await run({ target: 'kubernetes', cmd: ['true'] }, w.ctx, deps(w));
    expect(w.stderr()).toMatch(/teardown: kubectl delete namespace failed: .*unable to handle the request — finish it with: kubectl --context kind-drydock delete namespace -l 'drydock.session in \(myapp-aaaa\)'/);
  });

  it('retries with a new id when the namespace already exists', async () => {
    const w = runWorld();
    w.fake.expect({ argv: k('get', 'namespace', nsOf(ID), `${nsOf(ID)}-egress`, '--ignore-not-found', '-o', 'name'), result: { stdout: `namespace/${nsOf(ID)}\n` } });
    const script = scriptKubernetesSession(w.fake, { id: 'myapp-bbbb' });
    const result = await run({ target: 'kubernetes', cmd: ['true'] }, w.ctx, deps(w));
    expect((result.data as { sessionId: string }).sessionId).toBe('myapp-bbbb');
    expect(existsSync(w.sessionDir(ID))).toBe(false);
    expect(script.inputs).toHaveLength(3);
    expect(w.fake.unmet()).toEqual([]);
  });

  it('refuses before calling kubectl: dood, a project that makes no namespace name, a bad timeout', async () => {
    const w = runWorld();
    await expect(run({ target: 'kubernetes', mode: 'dood', cmd: [] }, w.ctx, deps(w))).rejects.toThrow(UsageError);
    await expect(run({ target: 'kubernetes', project: 'my_app', cmd: [] }, w.ctx, deps(w))).rejects.toThrow(/namespace name "drydock-my_app-0000"/);
    const bad = runWorld({ DRYDOCK_KUBERNETES_TIMEOUT_SECONDS: '0' });
    await expect(run({ target: 'kubernetes', cmd: [] }, bad.ctx, deps(bad))).rejects.toThrow(/DRYDOCK_KUBERNETES_TIMEOUT_SECONDS/);
    expect(w.fake.calls).toEqual([]);
  });

  it('says so when kubectl is missing or has no context', async () => {
    const w = runWorld();
    w.fake.expect({ argv: ['kubectl', 'config', 'current-context'], throws: new ProgramNotFound('kubectl', new Error('ENOENT')) });
    await expect(run({ target: 'kubernetes', cmd: [] }, w.ctx, deps(w))).rejects.toThrow(/kubectl was not found on PATH/);
    const v = runWorld();
    v.fake.expect({ argv: ['kubectl', 'config', 'current-context'], result: { code: 1, stderr: 'error: current-context is not set\n' } });
    await expect(run({ target: 'kubernetes', cmd: [] }, v.ctx, deps(v))).rejects.toThrow(/kubectl config current-context failed: error: current-context is not set/);
  });
});

const readdir = (dir: string): string[] => readdirSync(dir).sort();
