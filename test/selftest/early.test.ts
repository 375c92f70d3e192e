import { describe, expect, it } from 'vitest';
import { Docker } from '../../lib/docker/client.js';
import type { RunOptions } from '../../lib/docker/runner.js';
import { startEarlyNamespaceProbe } from '../../lib/selftest/early.js';
import type { SelfTestSession } from '../../lib/selftest/session.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { inspectDocs, probeOutput } from './fixtures.js';

const ID = 'app-1a2b';
const session: SelfTestSession = {
  sessionId: ID, agentContainer: `drydock-${ID}`, netnsContainer: `drydock-${ID}-netns`, egressContainer: `drydock-${ID}-egress`,
  internalNetwork: `drydock_internal_${ID}`, egressNetwork: 'drydock_egress', egressImage: 'drydock-egress:latest', observe: false,
};
const EVENTS = ['docker', 'events', '--filter', 'type=container', '--filter', `container=drydock-${ID}-egress`, '--filter', 'event=health_status', '--format', '{{.Action}}'];
const NAMESPACE_INSPECT = ['docker', 'inspect', `drydock-${ID}-netns`, `drydock_internal_${ID}`, 'drydock_egress', 'bridge'];
const isProbe = (a: readonly string[]) => a[1] === 'exec' && a[5] === `drydock-${ID}-netns`;

/** A `docker events` that prints the given lines, then streams nothing until it is aborted. */
const eventStream = (lines: string[]) => (_argv: readonly string[], options?: RunOptions) =>
  new Promise<{ code: number }>((resolve) => {
    for (const line of lines) options?.onStdoutLine?.(line);
    if (options?.signal?.aborted) return resolve({ code: 130 });
    options?.signal?.addEventListener('abort', () => resolve({ code: 130 }));
  });

describe('the self-test\'s early namespace half', () => {
  it('waits for the sidecar\'s healthy event (not unhealthy, not starting), then probes the namespace: inspect beside the exec', async () => {
    const fake = new FakeRunner()
      .expect({ argv: EVENTS, result: eventStream(['health_status: starting', 'health_status: unhealthy', 'health_status: healthy']) })
      .expect({ argv: NAMESPACE_INSPECT, result: { stdout: JSON.stringify(inspectDocs(ID).slice(1)) } })
      .expect({ argv: isProbe, result: { stdout: probeOutput(ID) } });
    const early = startEarlyNamespaceProbe(new Docker(fake), session);
    await new Promise((r) => setTimeout(r, 20));
    const probe = await early.settle();
    expect(probe?.result.stdout).toContain('@end');
    expect(probe?.docs).toHaveLength(4);
  });

  it('no healthy event before compose returned: no early half (the whole self-test runs later), nothing probed', async () => {
    const fake = new FakeRunner().expect({ argv: EVENTS, result: eventStream(['health_status: starting']) });
    const early = startEarlyNamespaceProbe(new Docker(fake), session);
    expect(await early.settle()).toBeUndefined();
    expect(fake.calls.some(isProbe)).toBe(false);
  });

  it('an engine error in the early half is no error: there is just no early half', async () => {
    const fake = new FakeRunner()
      .expect({ argv: EVENTS, result: eventStream(['health_status: healthy']) })
      .expect({ argv: NAMESPACE_INSPECT, result: { code: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' } })
      .expect({ argv: isProbe, result: { code: 1, stderr: 'Cannot connect to the Docker daemon' } });
    const early = startEarlyNamespaceProbe(new Docker(fake), session);
    await new Promise((r) => setTimeout(r, 20));
    expect(await early.settle()).toBeUndefined();
  });
});
