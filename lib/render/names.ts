/**
 * Every name a session gives to docker objects, in one place, so that `run`, `stop`, `gc` and the
 * renderer cannot drift apart. stop/gc still find things by label, never by these names alone.
 */

/** The shared NAT bridge every sidecar is attached to; created by `run`, never by compose. */
export const EGRESS_NETWORK = 'drydock_egress';
export const AGENT_SERVICE = 'drydock';
export const EGRESS_SERVICE = 'drydock-egress';
/** Compose-file keys of the two networks (their docker names are set explicitly with `name:`). */
export const INTERNAL_NETWORK_KEY = 'drydock_internal';
export const EGRESS_NETWORK_KEY = 'drydock_egress';

export const PROXY_PORT = 8888;
/** Where the sidecar reads its filter and proxy config (bind-mounted read-only; baked defaults deny all). */
export const SIDECAR_FILTER_PATH = '/etc/drydock/egress-filter';
export const SIDECAR_CONF_PATH = '/etc/drydock/tinyproxy.conf';
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

export function internalNetworkName(sessionId: string): string {
  return `drydock_internal_${sessionId}`;
}

export function proxyUrl(sessionId: string): string {
  return `http://${egressContainerName(sessionId)}:${PROXY_PORT}`;
}
