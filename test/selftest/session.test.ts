import { describe, expect, it } from 'vitest';
import { Docker } from '../../lib/docker/client.js';
import { PROBE_ATTEMPTS, runSelfTest, type SelfTestSession } from '../../lib/selftest/session.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { REFUSED, inspectDocs, probeOutput } from './fixtures.js';

const ID = 'app-1a2b';
const session: SelfTestSession = {
  sessionId: ID, agentContainer: `drydock-${ID}`, egressContainer: `drydock-${ID}-egress`, internalNetwork: `drydock_internal_${ID}`,
  egressNetwork: 'drydock_egress', egressImage: 'drydock-egress:latest', observe: false,
};
const inspect = ['docker', 'inspect', `drydock-${ID}`, `drydock_internal_${ID}`, 'drydock_egress', 'bridge'];
/** The probe container of one attempt: its settle and window are the 7th and 8th probe arguments after `bash -c SCRIPT`. */
const probeWith = (attempt: { settle: number; window: number }) => (argv: readonly string[]) => {
  const c = argv.indexOf('-c');
  return argv[1] === 'run' && argv.includes(`container:drydock-${ID}`) && argv[c + 8] === String(attempt.settle) && argv[c + 9] === String(attempt.window);
};
const [short, long] = PROBE_ATTEMPTS;

describe('runSelfTest: one inspect, one probe container, one longer retry only when the short look was inconclusive', () => {
  it('an intact jail: the short look concludes, no retry; the control is the sidecar\'s session address', async () => {
    const fake = new FakeRunner()
      .expect({ argv: inspect, result: { stdout: JSON.stringify(inspectDocs(ID)) } })
      .expect({ argv: probeWith(short), result: { stdout: probeOutput(ID) } });
    const r = await runSelfTest(new Docker(fake), session);
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    const c = fake.calls[1]!.indexOf('-c');
    expect(fake.calls[1]!.slice(c + 6, c + 8)).toEqual(['172.30.0.2', '8888']);
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
