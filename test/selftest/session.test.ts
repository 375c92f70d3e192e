import { describe, expect, it } from 'vitest';
import { Docker } from '../../lib/docker/client.js';
import { CONNECT_WINDOWS_S, runSelfTest, type SelfTestSession } from '../../lib/selftest/session.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { CONTROL_KEY, connected, inspectDocs, noRoute, probeOutput, refused, silent } from './fixtures.js';

const ID = 'app-1a2b';
const session: SelfTestSession = {
  sessionId: ID, agentContainer: `drydock-${ID}`, egressContainer: `drydock-${ID}-egress`, internalNetwork: `drydock_internal_${ID}`,
  egressNetwork: 'drydock_egress', egressImage: 'drydock-egress:latest', observe: false,
};
const inspect = ['docker', 'inspect', `drydock-${ID}`, `drydock_internal_${ID}`, 'drydock_egress', 'bridge'];
/** The probe container, with the window (seconds) its connects get: the 5th probe argument after `bash -c SCRIPT`. */
const probeWith = (windowS: number) => (argv: readonly string[]) =>
  argv[1] === 'run' && argv.includes(`container:drydock-${ID}`) && argv[argv.indexOf('-c') + 6] === String(windowS);
const base = { 'sidecar-nat-address@172.20.0.5': noRoute(), 'host-nat-gateway@172.20.0.1': noRoute(), 'host-docker0@172.17.0.1': noRoute() };

describe('runSelfTest: one inspect, one probe container, one longer retry only when the short window was inconclusive', () => {
  it('an intact jail: the short window concludes, no retry', async () => {
    const fake = new FakeRunner()
      .expect({ argv: inspect, result: { stdout: JSON.stringify(inspectDocs(ID)) } })
      .expect({ argv: probeWith(CONNECT_WINDOWS_S[0]), result: { stdout: probeOutput(ID) } });
    const r = await runSelfTest(new Docker(fake), session);
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    // The control rides along with the targets, at the sidecar's session address.
    expect(fake.calls[1]).toEqual(expect.arrayContaining([CONTROL_KEY, '172.30.0.2', '8888']));
  });

  it('a busy machine (a connect started too late): retried once with the long window, which concludes', async () => {
    const fake = new FakeRunner()
      .expect({ argv: inspect, result: { stdout: JSON.stringify(inspectDocs(ID)) } })
      .expect({ argv: probeWith(CONNECT_WINDOWS_S[0]), result: { stdout: probeOutput(ID, { connects: { ...base, 'host-session-gateway@172.30.0.1': silent(120), [CONTROL_KEY]: connected() } }) } })
      .expect({ argv: probeWith(CONNECT_WINDOWS_S[1]), result: { stdout: probeOutput(ID, { connects: { ...base, 'host-session-gateway@172.30.0.1': silent(120), [CONTROL_KEY]: connected() } }) } });
    const r = await runSelfTest(new Docker(fake), session);
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
  });

  it('inconclusive twice fails (fail closed), naming the check', async () => {
    const tooBusy = probeOutput(ID, { connects: { ...base, 'host-session-gateway@172.30.0.1': silent(990), [CONTROL_KEY]: connected() } });
    const fake = new FakeRunner()
      .expect({ argv: inspect, result: { stdout: JSON.stringify(inspectDocs(ID)) } })
      .expect({ argv: probeWith(CONNECT_WINDOWS_S[0]), result: { stdout: tooBusy } })
      .expect({ argv: probeWith(CONNECT_WINDOWS_S[1]), result: { stdout: tooBusy } });
    const r = await runSelfTest(new Docker(fake), session);
    expect(r.ok).toBe(false);
    expect(r.failed).toMatchObject({ name: 'unreachable:host-session-gateway', inconclusive: true });
  });

  it('a hole is final: an address that answered is not asked again, whatever else was inconclusive', async () => {
    const fake = new FakeRunner()
      .expect({ argv: inspect, result: { stdout: JSON.stringify(inspectDocs(ID)) } })
      .expect({ argv: probeWith(CONNECT_WINDOWS_S[0]), result: { stdout: probeOutput(ID, { connects: { ...base, 'host-nat-gateway@172.20.0.1': refused(), 'host-session-gateway@172.30.0.1': silent(120), [CONTROL_KEY]: connected() } }) } });
    const r = await runSelfTest(new Docker(fake), session);
    expect(r.ok).toBe(false);
    expect(r.checks.find((c) => c.name === 'unreachable:host-nat-gateway')).toMatchObject({ ok: false });
    expect(r.checks.find((c) => c.name === 'unreachable:host-nat-gateway')?.inconclusive).toBeUndefined();
  });
});
