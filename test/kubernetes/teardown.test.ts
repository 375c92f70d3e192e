/**
 * The proxy Pod's log at teardown, through the strict fake kubectl: streamed (the fake refuses to
 * hand the log over as one string), capped like the compose sidecar's (first 12 MiB + last 4 MiB
 * of egress.log), every refusal counted while streaming, the reading time-boxed, and the
 * namespace deleted whatever the reading did.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunOptions } from '../../lib/docker/runner.js';
import { Kubectl } from '../../lib/kubernetes/kubectl.js';
import { teardownKubernetesSession } from '../../lib/kubernetes/teardown.js';
import { DEFAULT_LOG_CAP } from '../../lib/session/log-limits.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { tempDir } from '../helpers/temp-dir.js';
import { CONTEXT, deleteAgentArgv, k, proxyLogsArgv } from './kubectl-fixture.js';

const ID = 'myapp-aaaa';
const MIB = 1024 * 1024;
const deleteAgent = deleteAgentArgv(ID);
const deleteNamespace = k('delete', 'namespace', '-l', `drydock.session in (${ID})`, '--ignore-not-found', '--wait=false');

const refusal = (i: number, host = 'flood.test') =>
  `2024-05-01T10:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(9, '0')}Z NOTICE    May 01 10:00:01.100 [7]: Proxying refused on filtered url "${host}:443"`;

/** kubectl's answer as a stream: lines handed to the reader one by one, never one string. */
function streamed(lines: (emit: (line: string) => void, options: RunOptions) => Promise<void> | void) {
  return async (_argv: readonly string[], options?: RunOptions) => {
    if (!options?.onStdoutLine) throw new Error('the proxy log was asked for whole, not streamed');
    await lines(options.onStdoutLine, options);
    return { code: 0 };
  };
}

describe('the kubernetes teardown reads the proxy log as the compose one does', () => {
  it('streams a 24 MiB log: egress.log keeps its first 12 MiB and last 4 MiB, every refusal is counted', async () => {
    const dir = tempDir('k8s-teardown');
    const count = Math.ceil((24 * MIB) / (refusal(0).length + 1));
    let fed = 0;
    const fake = new FakeRunner()
      .expect({ argv: deleteAgent })
      .expect({
        argv: proxyLogsArgv(ID),
        result: streamed((emit) => {
          // The agent was sent away before the log is read: it stops adding to it, and has no egress.
          expect(fake.calls).toContainEqual(deleteAgent);
          emit(refusal(0, 'first.test'));
          for (let i = 1; i < count - 1; i++) emit(refusal(i));
          emit(refusal(count, 'last.test'));
          fed = count;
        }),
      })
      .expect({ argv: deleteNamespace });
    const teardown = await teardownKubernetesSession(new Kubectl(fake, CONTEXT), ID, { dir });
    expect(teardown.failures).toEqual([]);
    expect(fed * (refusal(0).length + 1)).toBeGreaterThan(24 * MIB - 200);
    const destinations = Object.fromEntries(teardown.refusals!.destinations.map((d) => [d.host, d.count]));
    expect(destinations).toEqual({ 'first.test': 1, 'flood.test': count - 2, 'last.test': 1 });
    expect(teardown.refusals!.complete).toBe(true);

    const path = join(dir, 'egress.log');
    expect(teardown.logPath).toBe(path);
    expect(statSync(path).size).toBeLessThanOrEqual(DEFAULT_LOG_CAP + 200);
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith(`${refusal(0, 'first.test')}\n`)).toBe(true);
    expect(text.endsWith(`${refusal(count, 'last.test')}\n`)).toBe(true);
    const marker = text.indexOf('# drydock: ');
    expect(text.slice(marker)).toMatch(/^# drydock: \d+ lines \([\d.]+ MiB\) of the log left out here/);
    expect(marker).toBeGreaterThan(12 * MIB - 1024);
    expect(marker).toBeLessThanOrEqual(12 * MIB);
    expect(teardown.omitted!.lines).toBeGreaterThan(0);
  }, 60_000);

  it('stops reading when the time box is over, keeps what was read, and still deletes the namespace', async () => {
    const dir = tempDir('k8s-teardown');
    const fake = new FakeRunner()
      .expect({ argv: deleteAgent })
      .expect({
        argv: proxyLogsArgv(ID),
        // A log that never ends (an agent still flooding): lines until the reader's signal fires.
        result: streamed(async (emit, options) => {
          for (let i = 0; !options.signal?.aborted; i++) {
            emit(refusal(i));
            if (i % 100 === 0) await new Promise((r) => setImmediate(r));
          }
        }),
      })
      .expect({ argv: deleteNamespace });
    const teardown = await teardownKubernetesSession(new Kubectl(fake, CONTEXT), ID, { dir, timeoutMs: 150 });
    expect(teardown.failures).toEqual([expect.stringMatching(/^stopped reading the sidecar's log after 0 s \(\d+ lines read\)/)]);
    expect(teardown.refusals!.complete).toBe(false);
    expect(teardown.refusals!.destinations[0]!.count).toBeGreaterThan(0);
    expect(readFileSync(join(dir, 'egress.log'), 'utf8')).toMatch(/# drydock: the log was read until the time limit: the rest of it is not here\n$/);
  });

  it('a kubectl that cannot read the log is reported, and the namespace is still deleted', async () => {
    const fake = new FakeRunner()
      .expect({ argv: deleteAgent })
      .expect({ argv: proxyLogsArgv(ID), result: { code: 1, stderr: 'error: unable to upgrade connection: container not ready\n' } })
      .expect({ argv: deleteNamespace });
    const teardown = await teardownKubernetesSession(new Kubectl(fake, CONTEXT), ID, { dir: tempDir('k8s-teardown') });
    expect(teardown.failures).toEqual([expect.stringMatching(/could not read the sidecar's log \(drydock-egress in drydock-myapp-aaaa\): kubectl logs drydock-egress failed: error: unable to upgrade connection/)]);
    expect(teardown.logPath).toBeUndefined();
  });

  it('an agent Pod that cannot be deleted is reported; the log is saved and the namespace deleted all the same', async () => {
    const dir = tempDir('k8s-teardown');
    const fake = new FakeRunner()
      .expect({ argv: deleteAgent, result: { code: 1, stderr: 'Error from server (Forbidden): pods "drydock-agent" is forbidden\n' } })
      .expect({ argv: proxyLogsArgv(ID), result: { stdout: `${refusal(1)}\n` } })
      .expect({ argv: deleteNamespace });
    const teardown = await teardownKubernetesSession(new Kubectl(fake, CONTEXT), ID, { dir });
    expect(teardown.failures).toEqual([expect.stringMatching(/^could not delete the agent Pod before reading the proxy's log: kubectl delete pod failed: .*Forbidden/)]);
    expect(teardown.logPath).toBe(join(dir, 'egress.log'));
  });

  it('a proxy Pod already gone has no log and no failure', async () => {
    const fake = new FakeRunner()
      .expect({ argv: deleteAgent })
      .expect({ argv: proxyLogsArgv(ID), result: { code: 1, stderr: 'Error from server (NotFound): pods "drydock-egress" not found\n' } })
      .expect({ argv: deleteNamespace });
    const teardown = await teardownKubernetesSession(new Kubectl(fake, CONTEXT), ID, { dir: tempDir('k8s-teardown') });
    expect(teardown).toEqual({ refusals: undefined, logPath: undefined, omitted: undefined, failures: [] });
  });

  it('a bug in the reader still lets the namespace go, then surfaces', async () => {
    const fake = new FakeRunner()
      .expect({ argv: deleteAgent })
      .expect({ argv: proxyLogsArgv(ID), throws: new TypeError('reader bug') })
      .expect({ argv: deleteNamespace });
    await expect(teardownKubernetesSession(new Kubectl(fake, CONTEXT), ID, {})).rejects.toThrow('reader bug');
  });
});
