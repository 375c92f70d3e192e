/**
 * The start-up self-test's decisions, as pure functions of what the probe saw from inside the
 * agent's network namespace (lib/selftest/probe.ts) and of the agent's configured environment.
 * Each check passes only on positive evidence of the jail; anything unexpected fails (fail closed).
 *
 *   ipv4-default-route   /proc/net/route has no 0.0.0.0/0 route
 *   ipv6-default-route   /proc/net/ipv6_route has no ::/0 route (other than the kernel's reject route on lo)
 *   proxy-variables      HTTPS_PROXY/HTTP_PROXY (both cases) are this session's sidecar URL, NO_PROXY only the fixed list
 *   proxy-address        the sidecar's name resolves, in the agent's namespace, to the sidecar's own address
 *   canary-refused       a CONNECT to a name no allowlist can contain is refused by the sidecar (403)
 *   answer-control       the sidecar's own session address answered a connect, in the same window (see below)
 *   unreachable:<what>   the sidecar's NAT-bridge address and the Docker host's addresses cannot be connected to
 *   agent-namespace      the agent is in the network namespace the probe looked at (its holder's)
 *   probe                the probe itself ran to its end (a probe that did not proves nothing)
 *
 * Silence is only evidence when the kernel shows it. An owned address answers a SYN from its
 * kernel (ARP, then SYN-ACK or RST, no process involved) in well under a millisecond; the unowned
 * on-link gateway never does. The probe reads the agent namespace's socket table twice: a connect
 * whose socket is in SYN_SENT in both reads went unanswered for at least the time between them, and
 * that must be MIN_SILENCE_MS, whatever the load did to the probe's own processes. A socket found in
 * any other state was answered (a hole). One not yet in the first read, or reads too close
 * together, is inconclusive, and inconclusive fails. The control (`answer-control`: the sidecar's
 * own session address) must be answered, so the namespace was not merely dead.
 */
import { NO_PROXY_VARIABLES, PROXY_VARIABLES, noProxyHosts, proxyUrlFor } from '../names.js';
import type { TcpLook, TcpSocket } from './probe.js';

export type SelfTestCheckName = 'probe' | 'agent-namespace' | 'ipv4-default-route' | 'ipv6-default-route' | 'proxy-variables' | 'proxy-address' | 'canary-refused' | 'answer-control' | `unreachable:${string}`;

export interface SelfTestCheck {
  name: SelfTestCheckName;
  ok: boolean;
  detail: string;
  /** Failed for want of time, not because the jail has a hole: worth one more try with a longer window. */
  inconclusive?: boolean;
}

/** A socket must stay unanswered (SYN_SENT) at least this long to count as silence: 100× what an owned address needs. */
export const MIN_SILENCE_MS = 50;

export interface SelfTestReport {
  ok: boolean;
  checks: SelfTestCheck[];
  /** The first failed check, for the one-line refusal. */
  failed?: SelfTestCheck;
}

export function report(checks: SelfTestCheck[]): SelfTestReport {
  const failed = checks.find((c) => !c.ok);
  return failed ? { ok: false, checks, failed } : { ok: true, checks };
}

const pass = (name: SelfTestCheckName, detail: string): SelfTestCheck => ({ name, ok: true, detail });
const fail = (name: SelfTestCheckName, detail: string): SelfTestCheck => ({ name, ok: false, detail });

/**
 * The probe runs in the namespace holder, not in the agent: it proves the agent's jail only if the
 * engine says the agent joined exactly that container's namespace (`container:<holder id>`).
 */
export function agentNamespaceCheck(agent: { networkMode?: string }, holder: { name: string; id?: string }): SelfTestCheck {
  if (!holder.id) return fail('agent-namespace', `the engine has no namespace holder ${holder.name} for this session (started by an older drydock? stop it and start a new one)`);
  const expected = `container:${holder.id}`;
  if (agent.networkMode === expected) return pass('agent-namespace', `the agent is in the network namespace of ${holder.name}, where the probe looked`);
  return fail('agent-namespace', `the agent's network mode is ${JSON.stringify(agent.networkMode ?? '(none)')}, not ${holder.name}'s namespace: the probe did not look at the agent's network`);
}

/**
 * /proc/net/route: a header, then `Iface Destination Gateway Flags RefCnt Use Metric Mask …` with
 * hex addresses. A default route is destination 00000000 with mask 00000000. Text we cannot read
 * (missing, no header) fails: no evidence is not evidence of no route.
 *
 * Docker gives a container on an `internal: true` network a default route via that network's
 * gateway address all the same. drydock's session network has no host address
 * (inhibit_ipv4), so that gateway is an address no one owns and the route leads nowhere; the
 * `unreachable:host-session-gateway` check proves it. That one route, and only that one, is
 * accepted (`sessionGateway`); a default route via any other gateway fails.
 */
export function ipv4DefaultRouteCheck(text: string | undefined, sessionGateway?: string): SelfTestCheck {
  const name = 'ipv4-default-route';
  if (text === undefined) return fail(name, 'could not read /proc/net/route');
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (!lines[0] || !/^Iface\s+Destination\s+Gateway/.test(lines[0])) return fail(name, 'unreadable /proc/net/route');
  const defaults = lines.slice(1).map((l) => l.split(/\s+/)).filter((f) => f[1] === '00000000' && f[7] === '00000000');
  const elsewhere = defaults.filter((f) => sessionGateway === undefined || hexToIpv4(f[2] ?? '') !== sessionGateway);
  if (elsewhere.length > 0) return fail(name, `the agent has an IPv4 default route (via ${elsewhere.map((f) => `${f[0]} gateway ${hexToIpv4(f[2] ?? '')}`).join(', ')}): it is not jailed`);
  if (defaults.length > 0) return pass(name, `no IPv4 default route out: the only one is via the session network's gateway ${sessionGateway}, an address no host owns (see unreachable:host-session-gateway)`);
  return pass(name, `no IPv4 default route (${lines.length - 1} route(s), all on-link)`);
}

/** /proc/net/route writes addresses as little-endian hex. */
export function hexToIpv4(hex: string): string {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return hex;
  const bytes = [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return bytes.reverse().join('.');
}

const RTF_REJECT = 0x0200;

/**
 * /proc/net/ipv6_route: `dest destlen src srclen nexthop metric refcnt use flags iface`, hex. A
 * default route is dest 0…0 with length 00. The kernel keeps an unreachable (RTF_REJECT) default on
 * `lo` in every namespace; that one routes nothing. No file at all means IPv6 is off: no route.
 */
export function ipv6DefaultRouteCheck(text: string | undefined): SelfTestCheck {
  const name = 'ipv6-default-route';
  if (text === undefined) return pass(name, 'IPv6 is disabled in the agent namespace');
  const routes = text.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 10);
  const defaults = routes.filter((f) => /^0{32}$/.test(f[0]!) && f[1] === '00' && (parseInt(f[8]!, 16) & RTF_REJECT) === 0);
  if (defaults.length > 0) return fail(name, `the agent has an IPv6 default route (via ${defaults.map((f) => f[9]).join(', ')}): it is not jailed`);
  if (text.trim() !== '' && routes.length === 0) return fail(name, 'unreadable /proc/net/ipv6_route');
  return pass(name, 'no IPv6 default route');
}

/** The proxy variables the agent's processes get, against this session's sidecar. */
export function proxyVariablesCheck(env: Readonly<Record<string, string>>, sidecarName: string): SelfTestCheck {
  const name = 'proxy-variables';
  const url = proxyUrlFor(sidecarName);
  const wrong = PROXY_VARIABLES.filter((v) => env[v] !== url);
  if (wrong.length > 0) return fail(name, `${wrong.map((v) => `${v}=${env[v] ?? '(unset)'}`).join(', ')}: expected ${url}`);
  const allowed = noProxyHosts(sidecarName);
  const bypass = NO_PROXY_VARIABLES.filter((v) => !(env[v] ?? '').split(',').every((h) => allowed.includes(h)));
  if (bypass.length > 0) return fail(name, `${bypass.map((v) => `${v}=${env[v]}`).join(', ')}: may list only ${allowed.join(',')}`);
  return pass(name, `${PROXY_VARIABLES.join(', ')} = ${url}`);
}

/** `getent hosts NAME` output: the sidecar's name must resolve to its address on the session network, and only to that. */
export function proxyAddressCheck(getent: string | undefined, sidecarName: string, sidecarIp: string | undefined): SelfTestCheck {
  const name = 'proxy-address';
  if (!sidecarIp) return fail(name, `the sidecar ${sidecarName} has no address on the session network`);
  const addresses = (getent ?? '').split('\n').map((l) => l.trim().split(/\s+/)[0]).filter((a): a is string => !!a);
  if (addresses.length === 0) return fail(name, `${sidecarName} does not resolve in the agent's namespace`);
  const others = addresses.filter((a) => a !== sidecarIp);
  if (others.length > 0) return fail(name, `${sidecarName} resolves to ${addresses.join(', ')}, not only to the session sidecar's ${sidecarIp}`);
  return pass(name, `${sidecarName} resolves to the session sidecar (${sidecarIp})`);
}

/**
 * The proxy's answer to `CONNECT <canary>:443`: its status line. Only a 403 proves the filter
 * refused it; tinyproxy answers a name it tried and could not resolve with 500/502, which means
 * the filter let it through.
 */
export function canaryCheck(statusLine: string | undefined, canary: string): SelfTestCheck {
  const name = 'canary-refused';
  const line = (statusLine ?? '').trim();
  const status = /^HTTP\/1\.[01] (\d{3})\b/.exec(line)?.[1];
  if (status === '403') return pass(name, `the sidecar refused CONNECT ${canary}:443 (403)`);
  if (!line) return fail(name, `no answer from the sidecar to CONNECT ${canary}:443`);
  return fail(name, `the sidecar answered CONNECT ${canary}:443 with "${line.slice(0, 80)}", not 403: its filter did not refuse a name no allowlist can contain`);
}

/** What one TCP connect attempt from the agent's namespace ended in. */
export type ConnectResult = 'connected' | 'refused' | 'unreachable' | 'timeout' | 'error';

/** bash `/dev/tcp` + `timeout`: exit 0 connected, 124 timed out; otherwise read the message. */
export function classifyConnect(exit: number, message: string): ConnectResult {
  if (exit === 0) return 'connected';
  if (exit === 124) return 'timeout';
  if (/Connection refused/i.test(message)) return 'refused';
  if (/Network is unreachable|No route to host|Cannot assign requested address/i.test(message)) return 'unreachable';
  return 'error';
}

const ms = (n: number): string => (n < 10 ? n.toFixed(2) : n.toFixed(0));

/** The control: the sidecar's own address on the session network must answer (under `timeout 3`). */
export function answerControlCheck(target: string, result: ConnectResult | undefined): SelfTestCheck {
  const name = 'answer-control';
  if (result === 'connected') return pass(name, `the session sidecar's own address ${target} answered`);
  return { ...fail(name, `the session sidecar's own address ${target} did not answer (${result ?? 'no result'}): silence elsewhere proves nothing`), ...(result === 'timeout' ? { inconclusive: true } : {}) };
}

/** What the two reads of the socket table say about the connects to one `ip:port`. */
export type Silence =
  | { kind: 'silent'; ms: number }
  | { kind: 'answered'; detail: string }
  | { kind: 'unknown'; detail: string };

const SYN_SENT = 2;
const TCP_STATES: Record<number, string> = { 1: 'ESTABLISHED', 3: 'SYN_RECV', 4: 'FIN_WAIT1', 5: 'FIN_WAIT2', 6: 'TIME_WAIT', 7: 'CLOSE', 8: 'CLOSE_WAIT', 9: 'LAST_ACK', 11: 'CLOSING' };

export function silenceOf(remote: string, first: TcpLook | undefined, second: TcpLook | undefined): Silence {
  if (!first || !second || first.endMs === undefined || second.startMs === undefined) return { kind: 'unknown', detail: 'the probe did not read the socket table twice' };
  const to = (look: TcpLook) => look.sockets.filter((s) => s.remote === remote);
  const answered = [...to(first), ...to(second)].find((s) => s.state !== SYN_SENT);
  if (answered) return { kind: 'answered', detail: `its connect was answered (${TCP_STATES[answered.state] ?? `state ${answered.state}`})` };
  const key = (s: TcpSocket) => `${s.local} ${s.inode}`;
  const later = new Set(to(second).map(key));
  const waiting = to(first).filter((s) => later.has(key(s)));
  if (waiting.length === 0) {
    if (to(first).length > 0) return { kind: 'answered', detail: 'its connect ended between the two reads' };
    return { kind: 'unknown', detail: 'its connect had not started by the first read (a busy machine)' };
  }
  const silentMs = second.startMs - first.endMs;
  if (silentMs < MIN_SILENCE_MS) return { kind: 'unknown', detail: `unanswered for ${ms(silentMs)} ms, short of the ${MIN_SILENCE_MS} ms that prove silence` };
  return { kind: 'silent', ms: silentMs };
}

/**
 * Connected or refused (a RST came back) both mean the address answered: the jail has a hole.
 * No route passes (the kernel said so at once); a connect still waiting passes only on the socket
 * table's evidence (`silence`), which fails it too when any socket to it was answered.
 */
export function unreachableCheck(what: string, target: string, result: ConnectResult | undefined, silence?: Silence): SelfTestCheck {
  const name = `unreachable:${what}` as const;
  // Any answered socket to it in the table (the probe's or another process's) is a hole, whatever the probe's own connect said.
  if (silence?.kind === 'answered') return fail(name, `${target} answered from the agent's namespace: ${silence.detail}; it must be unreachable`);
  if (result === 'unreachable') return pass(name, `${target} is unreachable (no route)`);
  if (result === undefined && silence) {
    if (silence.kind === 'silent') return pass(name, `${target} is unreachable (its SYN unanswered for ${ms(silence.ms)} ms)`);
    return { ...fail(name, `${target} could not be shown silent: ${silence.detail}`), inconclusive: true };
  }
  if (result === 'connected' || result === 'refused') return fail(name, `${target} answered from the agent's namespace (${result === 'connected' ? 'connected' : 'connection refused'}): it must be unreachable`);
  return fail(name, `could not test ${target} (${result ?? 'no result'})`);
}
