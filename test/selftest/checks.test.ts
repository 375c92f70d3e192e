import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import { SELFTEST_CANARY_HOST } from '../../lib/names.js';
import {
  MIN_SILENCE_MS,
  answerControlCheck,
  canaryCheck,
  classifyConnect,
  hexToIpv4,
  ipv4DefaultRouteCheck,
  ipv6DefaultRouteCheck,
  proxyAddressCheck,
  proxyVariablesCheck,
  silenceOf,
  unreachableCheck,
} from '../../lib/selftest/checks.js';
import { PROBE_SCRIPT, parseProbeOutput, probeArgs, probeStdin } from '../../lib/selftest/probe.js';
import { decideSelfTest, inspectedFacts, type SelfTestSession } from '../../lib/selftest/session.js';
import {
  NO_ROUTE, REFUSED, ROUTE4_INTERNAL_DEFAULT, ROUTE4_JAILED, ROUTE4_WITH_DEFAULT, ROUTE6_JAILED, ROUTE6_WITH_DEFAULT, SILENT,
  inspectDocs, probeOutput, tcpRow,
} from './fixtures.js';

const ID = 'app-1a2b';
const session: SelfTestSession = {
  sessionId: ID, agentContainer: `drydock-${ID}`, netnsContainer: `drydock-${ID}-netns`, egressContainer: `drydock-${ID}-egress`, internalNetwork: `drydock_internal_${ID}`,
  egressNetwork: 'drydock_egress', egressImage: 'drydock-egress:latest', observe: false,
};
const decide = (probe: string, docs = inspectDocs(ID)) => decideSelfTest(inspectedFacts(docs, session), probe, session);

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
    const noSessionGatewayProbe = probeOutput(ID, { route4: ROUTE4_INTERNAL_DEFAULT, connects: { 'sidecar-nat-address@172.20.0.5': NO_ROUTE, 'host-nat-gateway@172.20.0.1': NO_ROUTE } });
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

  it('an answer of any kind (connected, or refused with a RST) is a hole; no route, or the kernel\'s evidence of silence, passes; no result fails', () => {
    const silent = { kind: 'silent', ms: 80 } as const;
    expect(unreachableCheck('host', '1.2.3.4:80', 'unreachable').ok).toBe(true);
    expect(unreachableCheck('host', '1.2.3.4:80', undefined, silent).ok).toBe(true);
    expect(unreachableCheck('host', '1.2.3.4:80', 'refused', silent).ok).toBe(false);
    expect(unreachableCheck('host', '1.2.3.4:80', 'connected', silent).ok).toBe(false);
    expect(unreachableCheck('host', '1.2.3.4:80', 'error').ok).toBe(false);
    expect(unreachableCheck('host', '1.2.3.4:80', undefined).ok).toBe(false);
    expect(unreachableCheck('host', '1.2.3.4:80', undefined, { kind: 'answered', detail: 'x' })).toMatchObject({ ok: false });
    expect(unreachableCheck('host', '1.2.3.4:80', undefined, { kind: 'answered', detail: 'x' }).inconclusive).toBeUndefined();
    expect(unreachableCheck('host', '1.2.3.4:80', undefined, { kind: 'unknown', detail: 'x' })).toMatchObject({ ok: false, inconclusive: true });
  });

  it('silence is a socket in SYN_SENT in both reads of the socket table, at least MIN_SILENCE_MS apart', () => {
    const look = (startMs: number, rows: string[]) => parseProbeOutput([`@tcp a ${(startMs / 1000).toFixed(6)}`, ...rows, `@tcp-end a ${((startMs + 1) / 1000).toFixed(6)}`, '@end'].join('\n')).looks.get('a')!;
    const waiting = tcpRow(0, '172.30.0.1:80', 2, 9000);
    expect(silenceOf('172.30.0.1:80', look(1000, [waiting]), look(1081, [waiting]))).toMatchObject({ kind: 'silent', ms: expect.closeTo(80, 3) });
    // Too close together: inconclusive, not silence.
    expect(silenceOf('172.30.0.1:80', look(1000, [waiting]), look(1031, [waiting]))).toMatchObject({ kind: 'unknown' });
    expect(MIN_SILENCE_MS).toBe(50);
    // Not yet started at the first read (a busy machine): inconclusive.
    expect(silenceOf('172.30.0.1:80', look(1000, []), look(1100, [waiting]))).toMatchObject({ kind: 'unknown' });
    // Answered, whether or not the probe's process got to say so: a hole.
    expect(silenceOf('172.30.0.1:80', look(1000, [waiting]), look(1100, [tcpRow(0, '172.30.0.1:80', 1, 9000)]))).toMatchObject({ kind: 'answered', detail: expect.stringMatching(/ESTABLISHED/) });
    expect(silenceOf('172.30.0.1:80', look(1000, [waiting]), look(1100, []))).toMatchObject({ kind: 'answered' });
    // Another socket's waiting is not this one's (the same local address and inode in both reads).
    expect(silenceOf('172.30.0.1:80', look(1000, [waiting]), look(1100, [tcpRow(1, '172.30.0.1:80', 2, 9001)]))).toMatchObject({ kind: 'answered' });
    expect(silenceOf('172.30.0.1:80', undefined, look(1100, [waiting]))).toMatchObject({ kind: 'unknown' });
  });

  it('the control must be answered; one that timed out is inconclusive, any other end fails', () => {
    expect(answerControlCheck('172.30.0.2:8888', 'connected').ok).toBe(true);
    expect(answerControlCheck('172.30.0.2:8888', 'timeout')).toMatchObject({ ok: false, inconclusive: true });
    expect(answerControlCheck('172.30.0.2:8888', 'refused').ok).toBe(false);
    expect(answerControlCheck('172.30.0.2:8888', 'refused').inconclusive).toBeUndefined();
    expect(answerControlCheck('172.30.0.2:8888', undefined).ok).toBe(false);
  });
});

describe('the whole self-test', () => {
  it('passes an intact jail, with every check named', () => {
    const r = decide(probeOutput(ID));
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    expect(r.checks.map((c) => c.name)).toEqual([
      'agent-namespace', 'ipv4-default-route', 'ipv6-default-route', 'proxy-variables', 'proxy-address', 'canary-refused', 'answer-control',
      'unreachable:sidecar-nat-address', 'unreachable:host-nat-gateway', 'unreachable:host-session-gateway', 'unreachable:host-docker0',
    ]);
  });

  it('an agent also on the NAT bridge: a default route, and the sidecar\'s NAT address answers', () => {
    const r = decide(probeOutput(ID, {
      route4: ROUTE4_WITH_DEFAULT,
      connects: {
        'sidecar-nat-address@172.20.0.5': REFUSED,
        'host-nat-gateway@172.20.0.1': REFUSED,
        'host-session-gateway@172.30.0.1': SILENT,
        'host-docker0@172.17.0.1': REFUSED,
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

  it('a connect not yet started at the first read, or reads too close, is inconclusive (and fails); so is a control that timed out', () => {
    const late = decide(probeOutput(ID, { looks: { onlyInB: true } }));
    expect(late.ok).toBe(false);
    expect(late.failed).toMatchObject({ name: 'unreachable:host-session-gateway', inconclusive: true });
    expect(decide(probeOutput(ID, { looks: { gapMs: 30 } })).failed).toMatchObject({ name: 'unreachable:host-session-gateway', inconclusive: true });
    expect(decide(probeOutput(ID, { looks: null })).failed).toMatchObject({ name: 'unreachable:host-session-gateway', inconclusive: true });
    expect(decide(probeOutput(ID, { control: '124 ' })).failed).toMatchObject({ name: 'answer-control', inconclusive: true });
    expect(decide(probeOutput(ID, { control: null })).failed?.name).toBe('answer-control');
  });

  it('a waiting connect that the socket table shows answered is a hole, even if the probe never said so', () => {
    // Even next to the probe's own "no route": another socket to it was answered.
    const r = decide(probeOutput(ID, { looks: { extraB: [tcpRow(5, '172.20.0.1:80', 1, 9100)] } }));
    expect(r.failed).toMatchObject({ name: 'unreachable:host-nat-gateway' });
    const answered = decide(probeOutput(ID, { looks: { extraB: [tcpRow(5, '172.30.0.1:80', 1, 9100)] } }));
    expect(answered.failed).toMatchObject({ name: 'unreachable:host-session-gateway' });
    expect(answered.failed?.inconclusive).toBeUndefined();
  });

  it('observe mode does not run the canary check (observe lets everything through); the topology checks still run', () => {
    const r = decideSelfTest(inspectedFacts(inspectDocs(ID), { ...session, observe: true }), probeOutput(ID, { canary: 'HTTP/1.0 500 x' }), { ...session, observe: true });
    expect(r.ok).toBe(true);
    expect(r.checks.map((c) => c.name)).not.toContain('canary-refused');
  });

  it('the probe gets its values as arguments and on stdin, never in its text', () => {
    const args = probeArgs({ proxyHost: 'p', proxyPort: 8888, canary: 'c', settle: 0.02, window: 0.08 });
    expect(args).toEqual(['probe', 'p', '8888', 'c', '0.02', '0.08']);
    expect(probeStdin({ control: { ip: '1.2.3.9', port: 8888 }, targets: [{ what: 'w@1.2.3.4', ip: '1.2.3.4', port: 80 }] })).toBe('1.2.3.9 8888\nw@1.2.3.4 1.2.3.4 80\n');
    expect(PROBE_SCRIPT).not.toMatch(/1\.2\.3\.4|drydock-/);
    expect(parseProbeOutput('@route4\nx\n@end').route4).toBe('x');
  });

  it('stdin carries only plain IPv4 addresses and ports: anything else from the engine is left out (its check then fails), never extra words', () => {
    const text = probeStdin({
      control: { ip: '10.0.0.1\nw 9.9.9.9 80', port: 8888 },
      targets: [
        { what: 'ok@1.2.3.4', ip: '1.2.3.4', port: 80 },
        { what: 'bad@x', ip: '1.2.3.4 5.6.7.8', port: 80 },
        { what: 'bad port', ip: '1.2.3.5', port: 80 },
        { what: 'bad@1.2.3.6', ip: '1.2.3.6', port: 0 },
      ],
    });
    expect(text).toBe('0.0.0.0 8888\nok@1.2.3.4 1.2.3.4 80\n');
    // A target the probe never got cannot pass: its check has neither a connect nor a socket.
    const facts = inspectedFacts(inspectDocs(ID), session);
    const r = decideSelfTest(facts, probeOutput(ID, { connects: { 'sidecar-nat-address@172.20.0.5': NO_ROUTE, 'host-nat-gateway@172.20.0.1': NO_ROUTE, 'host-docker0@172.17.0.1': NO_ROUTE } }), session);
    expect(r.checks.find((c) => c.name === 'unreachable:host-session-gateway')).toMatchObject({ ok: false });
  });

  it('reads the socket table\'s rows and the connects that ended, even inside another section', () => {
    const out = parseProbeOutput([
      '@tcp a 1796180000.000000',
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      tcpRow(0, '172.30.0.1:80', 2, 9000),
      '@connect b@1.2.3.5 1 bash: connect: Connection refused',
      '@tcp-end a 1796180000,002000',
      '@connect @control 0 ',
      '@end',
    ].join('\n'));
    expect(out.looks.get('a')).toMatchObject({ startMs: 1796180000000, sockets: [{ local: '172.30.0.3:40000', remote: '172.30.0.1:80', state: 2, inode: '9000' }] });
    expect(out.looks.get('a')!.endMs! - out.looks.get('a')!.startMs!).toBeCloseTo(2, 3);
    expect(out.connects.get('b@1.2.3.5')).toEqual({ exit: 1, message: 'bash: connect: Connection refused' });
    expect(out.control).toEqual({ exit: 0, message: '' });
  });
});
