/** What the engine and the probe say about a healthy contained session, for the self-test's unit tests. */
import { NO_PROXY_VARIABLES, PROXY_VARIABLES, noProxyHosts, proxyUrl } from '../../lib/names.js';

/** `docker inspect drydock-<id> drydock_internal_<id> drydock_egress bridge`. */
export function inspectDocs(id: string, options: { agentEnv?: Record<string, string> } = {}): unknown[] {
  const sidecar = `drydock-${id}-egress`;
  const env = {
    ...Object.fromEntries(PROXY_VARIABLES.map((v) => [v, proxyUrl(id)])),
    ...Object.fromEntries(NO_PROXY_VARIABLES.map((v) => [v, noProxyHosts(sidecar).join(',')])),
    PATH: '/usr/bin',
    ...options.agentEnv,
  };
  return [
    { Name: `/drydock-${id}`, Config: { Env: Object.entries(env).map(([k, v]) => `${k}=${v}`) } },
    { Name: `drydock_internal_${id}`, IPAM: { Config: [{ Subnet: '172.30.0.0/24', Gateway: '172.30.0.1' }] }, Containers: { a: { Name: `drydock-${id}`, IPv4Address: '172.30.0.3/24' }, e: { Name: sidecar, IPv4Address: '172.30.0.2/24' } } },
    { Name: 'drydock_egress', IPAM: { Config: [{ Subnet: '172.20.0.0/16', Gateway: '172.20.0.1' }] }, Containers: { e: { Name: sidecar, IPv4Address: '172.20.0.5/16' } } },
    { Name: 'bridge', IPAM: { Config: [{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }] }, Containers: {} },
  ];
}

export const ROUTE4_JAILED = [
  'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
  'eth0\t00001EAC\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
].join('\n');

export const ROUTE4_WITH_DEFAULT = [
  ROUTE4_JAILED,
  'eth1\t00000000\t010014AC\t0003\t0\t0\t0\t00000000\t0\t0\t0',
].join('\n');

/** The kernel's own: fe80::/64 on eth0, and the reject default on lo that routes nothing. */
export const ROUTE6_JAILED = [
  'fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0',
  '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo',
].join('\n');

export const ROUTE6_WITH_DEFAULT = [
  ROUTE6_JAILED,
  '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth1',
].join('\n');

export interface ProbeFixture {
  route4?: string;
  route6?: string | null;
  resolve?: string;
  canary?: string;
  /** WHAT@IP → "EXIT T0 [@start T1] [@done T2] MESSAGE" (see `connected`, `refused`, `silent`, `noRoute`). */
  connects?: Record<string, string>;
  end?: boolean;
}

const T0 = 1_796_180_000;
const at = (ms: number): string => (T0 + ms / 1000).toFixed(6);
/** A connect that was answered `answerMs` after it started, `lateMs` after its wrapper was started. */
export const connected = (answerMs = 0.3, lateMs = 3): string => `0 ${at(0)} @start ${at(lateMs)} @done ${at(lateMs + answerMs)}`;
export const refused = (lateMs = 3): string => `1 ${at(0)} @start ${at(lateMs)} bash: connect: Connection refused bash: line 1: /dev/tcp/x: Connection refused`;
/** Cut off by `timeout` (124) after its window; its connect started `lateMs` after the wrapper. */
export const silent = (lateMs = 3): string => `124 ${at(0)} @start ${at(lateMs)}`;
export const noRoute = (lateMs = 3): string => `1 ${at(0)} @start ${at(lateMs)} bash: connect: Network is unreachable bash: line 1: /dev/tcp/x: Network is unreachable`;

/** The control's key: the sidecar's session address in inspectDocs. */
export const CONTROL_KEY = 'answer-control@172.30.0.2';

export function probeOutput(id: string, f: ProbeFixture = {}): string {
  const connects = f.connects ?? {
    'sidecar-nat-address@172.20.0.5': noRoute(),
    'host-nat-gateway@172.20.0.1': noRoute(),
    'host-session-gateway@172.30.0.1': silent(),
    'host-docker0@172.17.0.1': noRoute(),
    [CONTROL_KEY]: connected(),
  };
  return [
    '@route4', f.route4 ?? ROUTE4_JAILED,
    '@route6', f.route6 === null ? '@missing' : (f.route6 ?? ROUTE6_JAILED),
    '@resolve', f.resolve ?? `172.30.0.2      drydock-${id}-egress`,
    ...Object.entries(connects).map(([what, rest]) => `@connect ${what} ${rest}`),
    '@canary', f.canary ?? 'HTTP/1.1 403 Filtered',
    ...(f.end === false ? [] : ['@end']),
  ].join('\n');
}

/** What Docker actually gives a container on an internal network: a default route via its (unowned) gateway. */
export const ROUTE4_INTERNAL_DEFAULT = [
  ROUTE4_JAILED,
  'eth0\t00000000\t01001EAC\t0003\t0\t0\t0\t00000000\t0\t0\t0',
].join('\n');
