/**
 * Every name and number drydock gives to things, in one place, so that `run`, `stop`, `gc`, doctor,
 * the renderer, the allowlist compiler and the log parser cannot drift apart: docker object names,
 * label keys, ports, the NO_PROXY list, file names. stop/gc still find things by label, never by
 * these names alone. Pure constants and name builders only (no imports), so every layer may use it.
 */

/** The shared NAT bridge every sidecar is attached to; created by `run`, never by compose. */
export const EGRESS_NETWORK = 'drydock_egress';
export const AGENT_SERVICE = 'drydock';
export const EGRESS_SERVICE = 'drydock-egress';
/**
 * The session's network-namespace holder: a container that does nothing but own the namespace the
 * agent joins (`network_mode: service:…`), so the self-test probes that namespace with a cheap
 * `docker exec` from drydock's own image instead of a throw-away container (lib/render/netns-holder.ts).
 */
export const NETNS_SERVICE = 'drydock-netns';
/** Compose-file keys of the two networks (their docker names are set explicitly with `name:`). */
export const INTERNAL_NETWORK_KEY = 'drydock_internal';
export const EGRESS_NETWORK_KEY = 'drydock_egress';

/** The port tinyproxy listens on inside the sidecar. */
export const PROXY_PORT = 8888;
/** The ports an allowlist entry means when it names none: HTTPS (CONNECT) and plain HTTP. */
export const HTTPS_PORT = 443;
export const HTTP_PORT = 80;

/** Label keys on every session object; `stop`, `gc` and doctor find sessions by these alone. */
export const LABELS = {
  session: 'drydock.session',
  project: 'drydock.project',
  role: 'drydock.role',
  mode: 'drydock.mode',
  observe: 'drydock.observe',
  /** On the shared bridge only (`drydock.shared=egress`), which belongs to no session. */
  shared: 'drydock.shared',
} as const;
/** The labels of the shared NAT bridge. */
export const EGRESS_NETWORK_LABELS: Readonly<Record<string, string>> = { [LABELS.shared]: 'egress' };
/** What a container carries (agent and sidecar) and what a session network carries. */
export const CONTAINER_LABEL_KEYS = [LABELS.session, LABELS.project, LABELS.role, LABELS.mode, LABELS.observe];
export const NETWORK_LABEL_KEYS = [LABELS.session, LABELS.project, LABELS.role, LABELS.mode];

/** Variables that point the agent's clients at the sidecar, and the ones that list bypasses. */
export const PROXY_VARIABLES = ['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy'];
export const NO_PROXY_VARIABLES = ['NO_PROXY', 'no_proxy'];
/**
 * What the agent may reach without the proxy, besides the sidecar itself: loopback, and the cloud
 * metadata address, listed so no client sends it through the proxy (directly it has no route).
 */
export const NO_PROXY_FIXED = ['localhost', '127.0.0.1', '::1', '169.254.169.254'] as const;
/** Where the sidecar reads its filter and proxy config (bind-mounted read-only; baked defaults deny all). */
export const SIDECAR_FILTER_PATH = '/etc/drydock/egress-filter';
export const SIDECAR_CONF_PATH = '/etc/drydock/tinyproxy.conf';
/** The address floor: the sidecar's resolv.conf (a file mount) names only its own resolver. */
export const SIDECAR_RESOLV_CONF_PATH = '/etc/resolv.conf';
/** Lets the non-root sidecar bind its resolver on 127.0.0.1:53: a namespaced sysctl, no capability. */
export const SIDECAR_SYSCTLS: Readonly<Record<string, number>> = { 'net.ipv4.ip_unprivileged_port_start': 53 };
export const SIDECAR_HEALTHCHECK = '/usr/local/bin/drydock-egress-healthcheck';
/**
 * The session's egress files are one read-only DIRECTORY mount, not file mounts: a bind-mounted
 * file keeps its old inode when the host renames a new one over it, a directory shows the rename.
 */
export const SIDECAR_CONF_DIR = '/etc/drydock';
/** Applies and confirms a new filter in a running sidecar (`drydock allowlist add|remove`). */
export const SIDECAR_RELOAD = '/usr/local/bin/drydock-egress-reload';
export const SIDECAR_USER = '10001:10001';
export const DOCKER_SOCKET = '/var/run/docker.sock';
export const WORKSPACE = '/workspace';

/**
 * The start-up self-test's canary: a name no allowlist can contain (the parser refuses it and every
 * wildcard over it), under `.invalid`, which never resolves (RFC 6761). The sidecar must refuse it.
 */
export const SELFTEST_CANARY_HOST = 'canary.drydock-selftest.invalid';

/** File names inside a session directory. */
export const FILE_NAMES = {
  base: 'docker-compose.yml',
  contain: 'docker-compose.contain.yml',
  dood: 'docker-compose.dood.yml',
  /** The directory mounted at SIDECAR_CONF_DIR; the filter, config and refusal pages are in it. */
  egressDir: 'egress',
  filter: 'egress-filter',
  tinyproxyConf: 'tinyproxy.conf',
  /** What the live filter is: its generation and entries (`drydock allowlist add|remove`, `ls`). */
  liveState: 'live.json',
  /** The address floor's resolver config, in the egress directory (lib/egress/address-floor.ts). */
  resolverConf: 'resolver.conf',
  /** The sidecar's /etc/resolv.conf, beside the egress directory (a file mount: read once at start). */
  resolvConf: 'resolv.conf',
} as const;

export function composeProjectName(sessionId: string): string {
  return `drydock-${sessionId}`;
}

export function agentContainerName(sessionId: string): string {
  return `drydock-${sessionId}`;
}

export function egressContainerName(sessionId: string): string {
  return `drydock-${sessionId}-egress`;
}

export function netnsContainerName(sessionId: string): string {
  return `drydock-${sessionId}-netns`;
}

export function internalNetworkName(sessionId: string): string {
  return `drydock_internal_${sessionId}`;
}

/** The proxy URL for a sidecar container name (the invariants check a rendered name with it). */
export function proxyUrlFor(sidecarName: string): string {
  return `http://${sidecarName}:${PROXY_PORT}`;
}

export function proxyUrl(sessionId: string): string {
  return proxyUrlFor(egressContainerName(sessionId));
}

/** The whole NO_PROXY list for a sidecar container name: the sidecar, then the fixed bypasses. */
export function noProxyHosts(sidecarName: string): string[] {
  return [sidecarName, ...NO_PROXY_FIXED];
}
