import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import { SELFTEST_CANARY_HOST } from '../../lib/names.js';
import {
  CONTROL_MARGIN,
  MIN_SILENCE_MS,
  answerControlCheck,
  canaryCheck,
  classifyConnect,
  hexToIpv4,
  ipv4DefaultRouteCheck,
  ipv6DefaultRouteCheck,
  proxyAddressCheck,
  outstandingMs,
  proxyVariablesCheck,
  unreachableCheck,
} from '../../lib/selftest/checks.js';
import { PROBE_SCRIPT, parseProbeOutput, probeArgs } from '../../lib/selftest/probe.js';
import { decideSelfTest, inspectedFacts, type SelfTestSession } from '../../lib/selftest/session.js';
import {
  CONTROL_KEY, ROUTE4_INTERNAL_DEFAULT, ROUTE4_JAILED, ROUTE4_WITH_DEFAULT, ROUTE6_JAILED, ROUTE6_WITH_DEFAULT,
  connected, inspectDocs, noRoute, probeOutput, refused, silent,
} from './fixtures.js';

const ID = 'app-1a2b';
const session: SelfTestSession = {
  sessionId: ID, agentContainer: `drydock-${ID}`, egressContainer: `drydock-${ID}-egress`, internalNetwork: `drydock_internal_${ID}`,
  egressNetwork: 'drydock_egress', egressImage: 'drydock-egress:latest', observe: false,
};
/** With a 100 ms window for the connects. */
const decide = (probe: string, docs = inspectDocs(ID)) => decideSelfTest(inspectedFacts(docs, session), probe, session, 100);

describe('routes, read from the kernel', () => {
  it('a jailed agent has no IPv4 default route; one with a default route fails, naming the gateway', () => {
    expect(ipv4DefaultRouteCheck(ROUTE4_JAILED).ok).toBe(true);
    const broken = ipv4DefaultRouteCheck(ROUTE4_WITH_DEFAULT);
    expect(broken).toMatchObject({ ok: false, detail: expect.stringMatching(/IPv4 default route \(via eth1 gateway 172\.20\.0\.1\)/) });
  });

  it('accepts the one default route Docker gives an internal network, via the session gateway no one owns; any other fails', () => {
    expect(ipv4DefaultRouteCheck(ROUTE4_INTERNAL_DEFAULT, '172.30.0.1')).toMatchObject({ ok: true, detail: expect.stringMatching(/only one is via the session network's gateway 172\.30\.0\.1/) });
    expect(ipv4DefaultRouteCheck(ROUTE4_INTERNAL_DEFAULT, '172.31.0.1').ok).toBe(false);
    expect(ipv4DefaultRouteCheck(ROUTE4_INTERNAL_DEFAULT).ok).toBe(false);
    expect(ipv4DefaultRouteCheck(ROUTE4_WITH_DEFAULT, '172.30.0.1').ok).toBe(false);
    expect(decide(probeOutput(ID, { route4: ROUTE4_INTERNAL_DEFAULT })).ok).toBe(true);
    const noSessionGatewayProbe = probeOutput(ID, { route4: ROUTE4_INTERNAL_DEFAULT, connects: { 'sidecar-nat-address@172.20.0.5': noRoute(), 'host-nat-gateway@172.20.0.1': noRoute(), [CONTROL_KEY]: connected() } });
    expect(decide(noSessionGatewayProbe).failed?.name).toBe('unreachable:host-session-gateway');
  });

  it('no evidence is not evidence: a missing or unreadable route table fails', () => {
    expect(ipv4DefaultRouteCheck(undefined).ok).toBe(false);
    expect(ipv4DefaultRouteCheck('garbage').ok).toBe(false);
  });

  it('IPv6: the kernel\'s reject default on lo routes nothing; a real default fails; IPv6 off passes', () => {
    expect(ipv6DefaultRouteCheck(ROUTE6_JAILED).ok).toBe(true);
    expect(ipv6DefaultRouteCheck(ROUTE6_WITH_DEFAULT)).toMatchObject({ ok: false, detail: expect.stringMatching(/IPv6 default route \(via eth1\)/) });
    expect(ipv6DefaultRouteCheck(undefined).ok).toBe(true);
    expect(ipv6DefaultRouteCheck('not a route table').ok).toBe(false);
  });

  it('reads /proc/net/route addresses (little-endian hex)', () => {
    expect(hexToIpv4('010014AC')).toBe('172.20.0.1');
    expect(hexToIpv4('00000000')).toBe('0.0.0.0');
  });
});

describe('proxy variables and address', () => {
  const sidecar = `drydock-${ID}-egress`;
  const good = Object.fromEntries(['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy'].map((v) => [v, `http://${sidecar}:8888`]));
  it('all four point at this session\'s sidecar, NO_PROXY lists only the fixed bypasses', () => {
    expect(proxyVariablesCheck({ ...good, NO_PROXY: `${sidecar},localhost`, no_proxy: '127.0.0.1' }, sidecar).ok).toBe(true);
    expect(proxyVariablesCheck({ ...good, HTTP_PROXY: 'http://drydock-other-9999-egress:8888' }, sidecar)).toMatchObject({ ok: false, detail: expect.stringMatching(/^HTTP_PROXY=http:\/\/drydock-other/) });
    expect(proxyVariablesCheck({ ...good, https_proxy: undefined as unknown as string }, sidecar).detail).toMatch(/https_proxy=\(unset\)/);
    expect(proxyVariablesCheck({ ...good, NO_PROXY: 'localhost,.example.com' }, sidecar)).toMatchObject({ ok: false, detail: expect.stringMatching(/NO_PROXY=localhost,\.example\.com/) });
  });

  it('the sidecar name resolves to the sidecar, and only to it', () => {
    expect(proxyAddressCheck('172.30.0.2      x', 'x', '172.30.0.2').ok).toBe(true);
    expect(proxyAddressCheck('10.9.9.9        x', 'x', '172.30.0.2').ok).toBe(false);
    expect(proxyAddressCheck('', 'x', '172.30.0.2').detail).toMatch(/does not resolve/);
    expect(proxyAddressCheck('172.30.0.2 x', 'x', undefined).ok).toBe(false);
  });
});

describe('the canary', () => {
  it('cannot be written in any allowlist, nor covered by a wildcard', () => {
    for (const line of [SELFTEST_CANARY_HOST, `http://${SELFTEST_CANARY_HOST}`, `${SELFTEST_CANARY_HOST}:8443`, '*.drydock-selftest.invalid']) {
      const parsed = parseAllowlist(line, 'list');
      expect(parsed.entries, line).toEqual([]);
      expect(parsed.errors[0]?.message, line).toMatch(/self-test canary/);
    }
    expect(parseAllowlist('other.drydock-selftest.invalid', 'list').errors).toEqual([]);
  });

  it('only a 403 proves the filter refused it; a 500 (tried to resolve it) or no answer fails', () => {
    expect(canaryCheck('HTTP/1.1 403 Filtered', SELFTEST_CANARY_HOST).ok).toBe(true);
    expect(canaryCheck('HTTP/1.0 500 Unable to connect', SELFTEST_CANARY_HOST)).toMatchObject({ ok: false, detail: expect.stringMatching(/did not refuse/) });
    expect(canaryCheck('HTTP/1.0 200 Connection established', SELFTEST_CANARY_HOST).ok).toBe(false);
    expect(canaryCheck('', SELFTEST_CANARY_HOST).detail).toMatch(/no answer/);
    expect(canaryCheck(undefined, SELFTEST_CANARY_HOST).ok).toBe(false);
  });
});

describe('reachability', () => {
  it('classifies bash /dev/tcp results', () => {
    expect(classifyConnect(0, '')).toBe('connected');
    expect(classifyConnect(124, '')).toBe('timeout');
    expect(classifyConnect(1, 'bash: connect: Connection refused')).toBe('refused');
    expect(classifyConnect(1, 'bash: connect: Network is unreachable')).toBe('unreachable');
    expect(classifyConnect(1, 'bash: connect: No route to host')).toBe('unreachable');
    expect(classifyConnect(2, 'bash: syntax error')).toBe('error');
  });

  it('an answer of any kind (connected, or refused with a RST) is a hole; no route or long enough silence passes; no result fails', () => {
    const long = { outstandingMs: 97, requiredMs: 50 };
    expect(unreachableCheck('host', '1.2.3.4:80', 'unreachable').ok).toBe(true);
    expect(unreachableCheck('host', '1.2.3.4:80', 'timeout', long).ok).toBe(true);
    expect(unreachableCheck('host', '1.2.3.4:80', 'refused', long).ok).toBe(false);
    expect(unreachableCheck('host', '1.2.3.4:80', 'connected', long).ok).toBe(false);
    expect(unreachableCheck('host', '1.2.3.4:80', 'connected').ok).toBe(false);
    expect(unreachableCheck('host', '1.2.3.4:80', 'error').ok).toBe(false);
    expect(unreachableCheck('host', '1.2.3.4:80', undefined).ok).toBe(false);
  });

  it('silence counts only when the connect was outstanding long enough: too short, or not measured, is inconclusive and fails', () => {
    const short = unreachableCheck('host', '1.2.3.4:80', 'timeout', { outstandingMs: 40, requiredMs: 50 });
    expect(short).toMatchObject({ ok: false, inconclusive: true });
    expect(short.detail).toMatch(/no answer in 40 ms, short of the 50 ms/);
    expect(unreachableCheck('host', '1.2.3.4:80', 'timeout')).toMatchObject({ ok: false, inconclusive: true });
    expect(unreachableCheck('host', '1.2.3.4:80', 'timeout', { outstandingMs: 90 })).toMatchObject({ ok: false, inconclusive: true });
    // An answer is never inconclusive: it is a hole.
    expect(unreachableCheck('host', '1.2.3.4:80', 'refused', { outstandingMs: 1, requiredMs: 50 }).inconclusive).toBeUndefined();
  });

  it('the window a cut-off connect certainly had is the window less the time its connect took to start', () => {
    expect(outstandingMs({ beforeMs: 1000, startMs: 1003 }, 100)).toBe(97);
    expect(outstandingMs({ beforeMs: 1000, startMs: 1080 }, 100)).toBe(20);
    expect(outstandingMs({ beforeMs: 1000 }, 100)).toBeUndefined();
    // A clock that went backwards proves nothing.
    expect(outstandingMs({ beforeMs: 1000, startMs: 990 }, 100)).toBeUndefined();
  });

  it('the control must be answered; its answer time sets the silence needed (at least MIN_SILENCE_MS, CONTROL_MARGIN× the control)', () => {
    const quick = answerControlCheck('172.30.0.2:8888', 'connected', { startMs: 0, doneMs: 0.4 });
    expect(quick).toMatchObject({ ok: true, requiredSilenceMs: MIN_SILENCE_MS });
    const slow = answerControlCheck('172.30.0.2:8888', 'connected', { startMs: 0, doneMs: 8 });
    expect(slow).toMatchObject({ ok: true, requiredSilenceMs: 8 * CONTROL_MARGIN });
    expect(answerControlCheck('172.30.0.2:8888', 'timeout', { startMs: 0 })).toMatchObject({ ok: false, inconclusive: true });
    expect(answerControlCheck('172.30.0.2:8888', 'refused', { startMs: 0 }).ok).toBe(false);
    expect(answerControlCheck('172.30.0.2:8888', 'connected', undefined).ok).toBe(false);
    expect(answerControlCheck('172.30.0.2:8888', undefined, undefined).ok).toBe(false);
  });
});

describe('the whole self-test', () => {
  it('passes an intact jail, with every check named', () => {
    const r = decide(probeOutput(ID));
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    expect(r.checks.map((c) => c.name)).toEqual([
      'ipv4-default-route', 'ipv6-default-route', 'proxy-variables', 'proxy-address', 'canary-refused', 'answer-control',
      'unreachable:sidecar-nat-address', 'unreachable:host-nat-gateway', 'unreachable:host-session-gateway', 'unreachable:host-docker0',
    ]);
  });

  it('an agent also on the NAT bridge: a default route, and the sidecar\'s NAT address answers', () => {
    const r = decide(probeOutput(ID, {
      route4: ROUTE4_WITH_DEFAULT,
      connects: {
        'sidecar-nat-address@172.20.0.5': refused(),
        'host-nat-gateway@172.20.0.1': refused(),
        'host-session-gateway@172.30.0.1': silent(),
        'host-docker0@172.17.0.1': refused(),
        [CONTROL_KEY]: connected(),
      },
    }));
    expect(r.ok).toBe(false);
    expect(r.failed?.name).toBe('ipv4-default-route');
    expect(r.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['ipv4-default-route', 'unreachable:sidecar-nat-address', 'unreachable:host-nat-gateway', 'unreachable:host-docker0']);
  });

  it('a cut-off probe, a missing address, or a filter that lets the canary through each fail', () => {
    expect(decide(probeOutput(ID, { end: false })).failed?.name).toBe('probe');
    expect(decide(probeOutput(ID, { canary: 'HTTP/1.0 500 Unable to connect' })).failed?.name).toBe('canary-refused');
    const noNat = inspectDocs(ID).filter((d) => (d as { Name: string }).Name !== 'drydock_egress');
    expect(decide(probeOutput(ID), noNat).failed?.name).toBe('unreachable:sidecar-nat-address');
  });

  it('a connect started late on a busy machine, or a slow control, is inconclusive (and fails); a silent control fails', () => {
    const base = { 'sidecar-nat-address@172.20.0.5': noRoute(), 'host-nat-gateway@172.20.0.1': noRoute(), 'host-docker0@172.17.0.1': noRoute() };
    // 100 ms window: started 70 ms late leaves 30 ms of certain silence, short of 50.
    const late = decide(probeOutput(ID, { connects: { ...base, 'host-session-gateway@172.30.0.1': silent(70), [CONTROL_KEY]: connected() } }));
    expect(late.ok).toBe(false);
    expect(late.failed).toMatchObject({ name: 'unreachable:host-session-gateway', inconclusive: true });
    // A control that took 8 ms asks for 80 ms of silence; 97 ms passes, with a 1 s window so would 20 ms late.
    expect(decide(probeOutput(ID, { connects: { ...base, 'host-session-gateway@172.30.0.1': silent(), [CONTROL_KEY]: connected(8) } })).ok).toBe(true);
    expect(decide(probeOutput(ID, { connects: { ...base, 'host-session-gateway@172.30.0.1': silent(30), [CONTROL_KEY]: connected(8) } })).failed?.name).toBe('unreachable:host-session-gateway');
    expect(decideSelfTest(inspectedFacts(inspectDocs(ID), session), probeOutput(ID, { connects: { ...base, 'host-session-gateway@172.30.0.1': silent(30), [CONTROL_KEY]: connected(8) } }), session, 1000).ok).toBe(true);
    const noControl = decide(probeOutput(ID, { connects: { ...base, 'host-session-gateway@172.30.0.1': silent(), [CONTROL_KEY]: silent() } }));
    expect(noControl.failed).toMatchObject({ name: 'answer-control', inconclusive: true });
    const missingControl = decide(probeOutput(ID, { connects: { ...base, 'host-session-gateway@172.30.0.1': silent() } }));
    expect(missingControl.failed?.name).toBe('answer-control');
  });

  it('observe mode does not run the canary check (observe lets everything through); the topology checks still run', () => {
    const r = decideSelfTest(inspectedFacts(inspectDocs(ID), { ...session, observe: true }), probeOutput(ID, { canary: 'HTTP/1.0 500 x' }), { ...session, observe: true });
    expect(r.ok).toBe(true);
    expect(r.checks.map((c) => c.name)).not.toContain('canary-refused');
  });

  it('the probe gets its values as arguments, never in its text', () => {
    const args = probeArgs({ proxyHost: 'p', proxyPort: 8888, canary: 'c', connectTimeout: 0.5, targets: [{ what: 'w@1.2.3.4', ip: '1.2.3.4', port: 80 }] });
    expect(args).toEqual(['probe', 'p', '8888', 'c', '0.5', 'w@1.2.3.4', '1.2.3.4', '80']);
    expect(PROBE_SCRIPT).not.toMatch(/1\.2\.3\.4|drydock-/);
    expect(parseProbeOutput('@route4\nx\n@end').route4).toBe('x');
  });

  it('reads each connect\'s clock readings and keeps its message apart', () => {
    const out = parseProbeOutput([
      '@connect a@1.2.3.4 0 1796180000.000000 @start 1796180000.003000 @done 1796180000.003250',
      '@connect b@1.2.3.5 1 1796180000,000000 @start 1796180000,002000 bash: connect: Connection refused',
      '@connect c@1.2.3.6 124 1796180000.000000 @start 1796180000.004000',
      '@end',
    ].join('\n'));
    const a = out.connects.get('a@1.2.3.4')!;
    expect(a.exit).toBe(0);
    expect(a.startMs! - a.beforeMs!).toBeCloseTo(3, 3);
    expect(a.doneMs! - a.startMs!).toBeCloseTo(0.25, 3);
    expect(out.connects.get('b@1.2.3.5')).toMatchObject({ exit: 1, message: 'bash: connect: Connection refused', doneMs: undefined });
    expect(out.connects.get('b@1.2.3.5')!.startMs! - out.connects.get('b@1.2.3.5')!.beforeMs!).toBeCloseTo(2, 3);
    expect(out.connects.get('c@1.2.3.6')).toMatchObject({ exit: 124, message: '', doneMs: undefined });
  });
});
