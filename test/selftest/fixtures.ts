/** What the engine and the probe say about a healthy contained session, for the self-test's unit tests. */
import { NO_PROXY_VARIABLES, PROXY_VARIABLES, noProxyHosts, proxyUrl } from '../../lib/names.js';

/** The namespace holder's id in inspectDocs (the agent's NetworkMode names it). */
export const HOLDER_ID = 'b0'.repeat(32);

/** `docker inspect drydock-<id> drydock-<id>-netns drydock_internal_<id> drydock_egress bridge`. */
export function inspectDocs(id: string, options: { agentEnv?: Record<string, string>; agentNetworkMode?: string; noHolder?: boolean } = {}): unknown[] {
  const sidecar = `drydock-${id}-egress`;
  const env = {
    ...Object.fromEntries(PROXY_VARIABLES.map((v) => [v, proxyUrl(id)])),
    ...Object.fromEntries(NO_PROXY_VARIABLES.map((v) => [v, noProxyHosts(sidecar).join(',')])),
    PATH: '/usr/bin',
    ...options.agentEnv,
  };
  return [
    { Name: `/drydock-${id}`, Config: { Env: Object.entries(env).map(([k, v]) => `${k}=${v}`) }, HostConfig: { NetworkMode: options.agentNetworkMode ?? `container:${HOLDER_ID}` } },
    ...(options.noHolder ? [] : [{ Name: `/drydock-${id}-netns`, Id: HOLDER_ID, HostConfig: { NetworkMode: `drydock_internal_${id}` } }]),
    { Name: `drydock_internal_${id}`, IPAM: { Config: [{ Subnet: '172.30.0.0/24', Gateway: '172.30.0.1' }] }, Containers: { a: { Name: `drydock-${id}-netns`, IPv4Address: '172.30.0.3/24' }, e: { Name: sidecar, IPv4Address: '172.30.0.2/24' } } },
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
  /** WHAT@IP → "EXIT MESSAGE" for a connect that ended, or SILENT (still waiting: SYN_SENT in both reads). */
  connects?: Record<string, string>;
  /** The control's "EXIT MESSAGE" (default: connected); null: no line. */
  control?: string | null;
  /** The socket-table reads: the ms between them (default 80), extra rows, or none at all (null). */
  looks?: { gapMs?: number; extraA?: string[]; extraB?: string[]; onlyInB?: boolean } | null;
  end?: boolean;
}

export const SILENT = '@silent';
export const REFUSED = '1 bash: connect: Connection refused bash: line 1: /dev/tcp/x: Connection refused';
export const NO_ROUTE = '1 bash: connect: Network is unreachable bash: line 1: /dev/tcp/x: Network is unreachable';

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
/** `a.b.c.d:port` as /proc/net/tcp writes it (little-endian address, hex port). */
export const tcpHex = (address: string): string => {
  const [ip, port] = address.split(':');
  return `${ip!.split('.').map(Number).reverse().map(hex2).join('')}:${Number(port).toString(16).toUpperCase().padStart(4, '0')}`;
};
/** One /proc/net/tcp row from the agent's address to `remote`, in `state` (2 SYN_SENT, 1 ESTABLISHED, …). */
export const tcpRow = (slot: number, remote: string, state: number, inode: number): string =>
  `  ${slot}: ${tcpHex(`172.30.0.3:${40000 + slot}`)} ${tcpHex(remote)} ${hex2(state)} 00000000:00000000 01:00000064 00000002 10001        0 ${inode} 2 0000000000000000 100 0 0 10 -1`;
const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';

/** The connects in inspectDocs' session: what@ip → port. */
const PORTS: Record<string, number> = { 'sidecar-nat-address': 8888 };
const remoteOf = (key: string): string => {
  const [what, ip] = key.split('@');
  return `${ip}:${PORTS[what!] ?? 80}`;
};

export function probeOutput(id: string, f: ProbeFixture = {}): string {
  const connects = f.connects ?? {
    'sidecar-nat-address@172.20.0.5': NO_ROUTE,
    'host-nat-gateway@172.20.0.1': NO_ROUTE,
    'host-session-gateway@172.30.0.1': SILENT,
    'host-docker0@172.17.0.1': NO_ROUTE,
  };
  const silent = Object.entries(connects).filter(([, v]) => v === SILENT).map(([k], i) => tcpRow(i, remoteOf(k), 2, 9000 + i));
  const T0 = 1_796_180_000;
  const at = (ms: number): string => (T0 + ms / 1000).toFixed(6);
  const gap = f.looks?.gapMs ?? 80;
  const looks = f.looks === null ? [] : [
    `@tcp a ${at(20)}`, TCP_HEADER, ...(f.looks?.onlyInB ? [] : silent), ...(f.looks?.extraA ?? []), `@tcp-end a ${at(21)}`,
    `@tcp b ${at(21 + gap)}`, TCP_HEADER, ...silent, ...(f.looks?.extraB ?? []), `@tcp-end b ${at(22 + gap)}`,
  ];
  return [
    '@route4', f.route4 ?? ROUTE4_JAILED,
    '@route6', f.route6 === null ? '@missing' : (f.route6 ?? ROUTE6_JAILED),
    '@resolve', f.resolve ?? `172.30.0.2      drydock-${id}-egress`,
    ...Object.entries(connects).filter(([, v]) => v !== SILENT).map(([what, rest]) => `@connect ${what} ${rest}`),
    ...looks,
    ...(f.control === null ? [] : [`@connect @control ${f.control ?? '0 '}`]),
    '@canary', f.canary ?? 'HTTP/1.1 403 Filtered',
    ...(f.end === false ? [] : ['@end']),
  ].join('\n');
}

/** What Docker actually gives a container on an internal network: a default route via its (unowned) gateway. */
export const ROUTE4_INTERNAL_DEFAULT = [
  ROUTE4_JAILED,
  'eth0\t00000000\t01001EAC\t0003\t0\t0\t0\t00000000\t0\t0\t0',
].join('\n');
