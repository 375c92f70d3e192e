import { describe, expect, it } from 'vitest';
import { Docker } from '../../lib/docker/client.js';
import { PROBE_ATTEMPTS, runSelfTest, type SelfTestSession } from '../../lib/selftest/session.js';
import type { RunOptions } from '../../lib/docker/runner.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { REFUSED, inspectDocs, probeOutput } from './fixtures.js';

const ID = 'app-1a2b';
const session: SelfTestSession = {
  sessionId: ID, agentContainer: `drydock-${ID}`, netnsContainer: `drydock-${ID}-netns`, egressContainer: `drydock-${ID}-egress`, internalNetwork: `drydock_internal_${ID}`,
  egressNetwork: 'drydock_egress', egressImage: 'drydock-egress:latest', observe: false,
};
const inspect = ['docker', 'inspect', `drydock-${ID}`, `drydock-${ID}-netns`, `drydock_internal_${ID}`, 'drydock_egress', 'bridge'];
/** The probe of one attempt, exec'd into the holder as the sidecar's user: its settle and window are the 5th and 6th probe arguments after `bash -c SCRIPT`. */
const probeWith = (attempt: { settle: number; window: number }) => (argv: readonly string[]) => {
  const c = argv.indexOf('-c');
  return argv.slice(0, 6).join(' ') === `docker exec -i --user 10001:10001 drydock-${ID}-netns` && argv[c + 6] === String(attempt.settle) && argv[c + 7] === String(attempt.window);
};
/** What a probe was given on its stdin (the runner's input may be a promise). */
const stdinOf = async (options: RunOptions | undefined): Promise<string> => (await options?.input) ?? '';
const [short, long] = PROBE_ATTEMPTS;

describe('runSelfTest: one inspect beside one probe exec into the holder, one longer retry only when the short look was inconclusive', () => {
  it('an intact jail: the short look concludes, no retry; the probe\'s stdin has the control (the sidecar\'s session address), then the targets', async () => {
    let stdin = '';
    const fake = new FakeRunner()
      .expect({ argv: inspect, result: { stdout: JSON.stringify(inspectDocs(ID)) } })
      .expect({ argv: probeWith(short), result: async (_argv, options) => ((stdin = await stdinOf(options)), { stdout: probeOutput(ID) }) });
    const r = await runSelfTest(new Docker(fake), session);
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    expect(r.checks.find((c) => c.name === 'agent-namespace')).toMatchObject({ ok: true });
    expect(stdin.split('\n')).toEqual([
      '172.30.0.2 8888',
      'sidecar-nat-address@172.20.0.5 172.20.0.5 8888',
      'host-nat-gateway@172.20.0.1 172.20.0.1 80',
      'host-session-gateway@172.30.0.1 172.30.0.1 80',
      'host-docker0@172.17.0.1 172.17.0.1 80',
      '',
    ]);
  });

  it('the probe starts before the inspect has answered: its stdin is written once the addresses are known', async () => {
    let answerInspect!: () => void;
    const inspected = new Promise<void>((resolve) => (answerInspect = resolve));
    const order: string[] = [];
    const fake = new FakeRunner()
      .expect({ argv: inspect, result: async () => (await inspected, order.push('inspect answered'), { stdout: JSON.stringify(inspectDocs(ID)) }) })
      .expect({ argv: probeWith(short), result: async (_argv, options) => {
        order.push('probe started');
        answerInspect();
        const text = await stdinOf(options);
        order.push(`probe read ${text.split('\n')[0]}`);
        return { stdout: probeOutput(ID) };
      } });
    const r = await runSelfTest(new Docker(fake), session);
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    expect(order).toEqual(['probe started', 'inspect answered', 'probe read 172.30.0.2 8888']);
  });

  it('an engine error of the inspect is the self-test\'s error (the probe got no input and is not trusted)', async () => {
    let stdin: string | undefined;
    const fake = new FakeRunner()
      .expect({ argv: inspect, result: { code: 1, stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' } })
      .expect({ argv: probeWith(short), result: async (_argv, options) => ((stdin = await stdinOf(options)), { stdout: '@route4\n@no-input\n' }) });
    await expect(runSelfTest(new Docker(fake), session)).rejects.toThrow(/docker inspect/);
    expect(stdin).toBe('');
  });

  it('an agent that is not in the holder\'s namespace fails agent-namespace, whatever the probe saw', async () => {
    const fake = new FakeRunner()
      .expect({ argv: inspect, result: { stdout: JSON.stringify(inspectDocs(ID, { agentNetworkMode: 'drydock_egress' })) } })
      .expect({ argv: probeWith(short), result: { stdout: probeOutput(ID) } });
    const r = await runSelfTest(new Docker(fake), session);
    expect(r.ok).toBe(false);
    expect(r.failed).toMatchObject({ name: 'agent-namespace' });
    expect(r.failed!.detail).toContain('"drydock_egress"');
  });

  it('a session without a holder (an older drydock\'s) fails agent-namespace and says so', async () => {
    const fake = new FakeRunner()
      .expect({ argv: inspect, result: { code: 1, stdout: JSON.stringify(inspectDocs(ID, { noHolder: true })), stderr: `Error: No such object: drydock-${ID}-netns` } })
      .expect({ argv: probeWith(short), result: { code: 1, stderr: `Error: No such container: drydock-${ID}-netns` } });
    const r = await runSelfTest(new Docker(fake), session);
    expect(r.ok).toBe(false);
  });

  it('a busy machine (a connect not started by the first look): retried once with the long look, which concludes', async () => {
    const fake = new FakeRunner()
      .expect({ argv: inspect, result: { stdout: JSON.stringify(inspectDocs(ID)) } })
      .expect({ argv: probeWith(short), result: { stdout: probeOutput(ID, { looks: { onlyInB: true } }) } })
      .expect({ argv: probeWith(long), result: { stdout: probeOutput(ID, { looks: { gapMs: 300 } }) } });
    const r = await runSelfTest(new Docker(fake), session);
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
  });

  it('inconclusive twice fails (fail closed), naming the check', async () => {
    const fake = new FakeRunner()
      .expect({ argv: inspect, result: { stdout: JSON.stringify(inspectDocs(ID)) } })
      .expect({ argv: probeWith(short), result: { stdout: probeOutput(ID, { looks: { onlyInB: true } }) } })
      .expect({ argv: probeWith(long), result: { stdout: probeOutput(ID, { looks: { onlyInB: true } }) } });
    const r = await runSelfTest(new Docker(fake), session);
    expect(r.ok).toBe(false);
    expect(r.failed).toMatchObject({ name: 'unreachable:host-session-gateway', inconclusive: true });
  });

  it('a hole is final: an address that answered is not asked again, whatever else was inconclusive', async () => {
    const fake = new FakeRunner()
      .expect({ argv: inspect, result: { stdout: JSON.stringify(inspectDocs(ID)) } })
      .expect({ argv: probeWith(short), result: { stdout: probeOutput(ID, {
        connects: { 'sidecar-nat-address@172.20.0.5': REFUSED, 'host-nat-gateway@172.20.0.1': REFUSED, 'host-session-gateway@172.30.0.1': '@silent', 'host-docker0@172.17.0.1': REFUSED },
        looks: { onlyInB: true },
      }) } });
    const r = await runSelfTest(new Docker(fake), session);
    expect(r.ok).toBe(false);
    expect(r.checks.find((c) => c.name === 'unreachable:host-nat-gateway')).toMatchObject({ ok: false });
    expect(r.checks.find((c) => c.name === 'unreachable:host-nat-gateway')?.inconclusive).toBeUndefined();
  });
});
