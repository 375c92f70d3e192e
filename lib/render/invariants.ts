/**
 * What must hold of a session's merged compose document (`mergeCompose(base, overlay)`, or the
 * output of `compose config`) for the jail to be a jail. Each check looks inside one service or
 * network block, so a property present elsewhere in the file cannot satisfy it. `render` runs
 * these before writing: a violation is a drydock bug, not bad input.
 *
 * The document is read loosely (list or mapping forms of networks/environment/labels) because
 * `compose config` normalises differently from what drydock writes.
 */
import {
  AGENT_SERVICE,
  DOCKER_SOCKET,
  EGRESS_NETWORK,
  EGRESS_NETWORK_KEY,
  EGRESS_SERVICE,
  FILE_NAMES,
  INTERNAL_NETWORK_KEY,
  NETNS_SERVICE,
  CONTAINER_LABEL_KEYS,
  LABELS,
  NETWORK_LABEL_KEYS,
  NO_PROXY_VARIABLES,
  PROXY_VARIABLES,
  SIDECAR_CONF_DIR,
  SIDECAR_HEALTHCHECK,
  SIDECAR_RESOLV_CONF_PATH,
  SIDECAR_SYSCTLS,
  SIDECAR_USER,
  WORKSPACE,
  internalNetworkName,
  noProxyHosts,
  proxyUrlFor,
} from '../names.js';
import { agentLimitViolations, sidecarLimitViolations } from '../limits/invariants.js';
import { AGENT_MOUNT_TARGETS } from '../agent/runtime.js';
import { AGENT_CAPABILITIES, INHIBIT_IPV4, NO_NEW_PRIVILEGES, TELEMETRY_DEFAULTS } from './overlay.js';
import { AGENT_NETWORK_MODE } from './netns-holder.js';
import { netnsHolderViolations } from './netns-invariants.js';
import { block, networkNames, sameSequence, strings, type Block } from './compose-read.js';

export interface Violation {
  code: string;
  message: string;
}

/** A `KEY=VALUE` list or a mapping, as a mapping. */
function keyValues(value: unknown): Record<string, string> {
  if (Array.isArray(value)) {
    return Object.fromEntries(value.map((item) => String(item)).map((s) => [s.split('=')[0] ?? s, s.slice(s.indexOf('=') + 1)]));
  }
  const map = block(value) ?? {};
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]));
}

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

function mounts(service: Block): Mount[] {
  return (Array.isArray(service.volumes) ? service.volumes : []).map((v: unknown) => {
    if (typeof v === 'string') {
      const [source = '', target = '', flags = ''] = v.split(':');
      return { source, target, readOnly: flags.split(',').includes('ro') };
    }
    const m = block(v) ?? {};
    return { source: String(m.source ?? ''), target: String(m.target ?? ''), readOnly: m.read_only === true };
  });
}

/**
 * The project at /workspace, or a workspace-guard mount under it: read-only, or (a git dir kept
 * writable so it cannot be renamed away) a path of the project itself.
 */
function workspaceMount(m: Mount, all: readonly Mount[]): boolean {
  if (m.target === WORKSPACE) return true;
  if (!m.target.startsWith(`${WORKSPACE}/`) || m.target.split('/').includes('..')) return false;
  const project = all.find((w) => w.target === WORKSPACE)?.source;
  return m.readOnly || (project !== undefined && m.source === `${project}${m.target.slice(WORKSPACE.length)}`);
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x)) && b.every((x) => a.includes(x));
}

class Collector {
  readonly violations: Violation[] = [];
  require(ok: boolean, code: string, message: string): void {
    if (!ok) this.violations.push({ code, message });
  }
}

const CONTAINER_LABELS = CONTAINER_LABEL_KEYS;
const NETWORK_LABELS = NETWORK_LABEL_KEYS;

function checkLabels(c: Collector, subject: string, labels: unknown, role: string, required: string[], session: string | undefined): void {
  const map = keyValues(labels);
  const missing = required.filter((name) => !map[name]);
  c.require(missing.length === 0, 'labels', `${subject}: missing label(s) ${missing.join(', ')}`);
  if (missing.length > 0) return;
  c.require(map[LABELS.role] === role, 'labels', `${subject}: ${LABELS.role} is "${map[LABELS.role]}", expected "${role}"`);
  c.require(session === undefined || map[LABELS.session] === session, 'labels', `${subject}: ${LABELS.session} differs from the agent's`);
}

/** What the caller asked for explicitly, so an invariant can tell an opt-out from a bug. */
export interface InvariantExpectations {
  /** --allow-root with DRYDOCK_AGENT_USER=0. */
  rootAgent?: boolean;
  /** false with DRYDOCK_TELEMETRY=on. */
  telemetryDefaults?: boolean;
}

/** Hardening every agent container has, in either mode. */
function checkAgentHardening(c: Collector, agent: Block, expect: InvariantExpectations): void {
  c.require(strings(agent.cap_drop).includes('ALL'), 'agent-cap-drop', `${AGENT_SERVICE}: cap_drop must include ALL`);
  const user = /^(\d+):(\d+)$/.exec(String(agent.user ?? ''));
  c.require(user !== null, 'agent-user', `${AGENT_SERVICE}: user must be an explicit numeric uid:gid (the image's USER may be root)`);
  const root = user !== null && Number(user[1]) === 0;
  c.require(!root || expect.rootAgent === true, 'agent-root', `${AGENT_SERVICE}: runs as uid 0 without --allow-root`);
  c.require(root || strings(agent.cap_add).length === 0, 'agent-nonroot-cap-add', `${AGENT_SERVICE}: a non-root agent adds no capabilities`);
  const extra = strings(agent.cap_add).filter((cap) => !AGENT_CAPABILITIES.includes(cap));
  c.require(extra.length === 0, 'agent-cap-add', `${AGENT_SERVICE}: cap_add has ${extra.join(', ')}, beyond ${AGENT_CAPABILITIES.join(', ')}`);
  c.require(strings(agent.security_opt).includes(NO_NEW_PRIVILEGES), 'agent-no-new-privileges', `${AGENT_SERVICE}: security_opt must include ${NO_NEW_PRIVILEGES}`);
  c.require(agent.privileged !== true, 'privileged', `${AGENT_SERVICE}: must not be privileged`);
  c.require(mounts(agent).some((m) => m.target === WORKSPACE), 'agent-workspace', `${AGENT_SERVICE}: the project is not mounted at ${WORKSPACE}`);
  c.violations.push(...agentLimitViolations(AGENT_SERVICE, agent));
}

function services(doc: unknown): Block {
  return block(block(doc)?.services) ?? {};
}

export function checkContainedInvariants(doc: unknown, expect: InvariantExpectations = {}): Violation[] {
  const c = new Collector();
  const all = services(doc);
  const agent = block(all[AGENT_SERVICE]) ?? {};
  const sidecar = block(all[EGRESS_SERVICE]) ?? {};
  const networks = block(block(doc)?.networks) ?? {};
  const internal = block(networks[INTERNAL_NETWORK_KEY]) ?? {};
  const egress = block(networks[EGRESS_NETWORK_KEY]) ?? {};
  const session = keyValues(agent.labels)[LABELS.session];

  const others = Object.keys(all).filter((name) => name !== AGENT_SERVICE && name !== EGRESS_SERVICE && name !== NETNS_SERVICE);
  c.require(others.length === 0, 'unexpected-service', `unexpected service(s) ${others.join(', ')}`);

  // The network layout: the agent can only reach the sidecar; only the sidecar reaches the NAT bridge.
  c.require(internal.internal === true, 'internal-network-not-internal', `network ${INTERNAL_NETWORK_KEY}: must be internal: true`);
  c.require(
    keyValues(internal.driver_opts)[INHIBIT_IPV4] === 'true',
    'internal-network-host-reachable',
    `network ${INTERNAL_NETWORK_KEY}: needs driver_opts ${INHIBIT_IPV4}: "true" (else the host is reachable on the bridge address)`,
  );
  c.require(String(internal.name ?? '').startsWith(internalNetworkName('')), 'internal-network-name', `network ${INTERNAL_NETWORK_KEY}: needs an explicit name drydock_internal_<session>`);
  c.require(egress.external === true && egress.name === EGRESS_NETWORK, 'egress-network-external', `network ${EGRESS_NETWORK_KEY}: must be external with name ${EGRESS_NETWORK}`);
  // The agent has no network of its own: it lives in the holder's namespace, which is on the
  // session network only (netns-invariants.ts).
  c.require(agent.network_mode === AGENT_NETWORK_MODE && networkNames(agent).length === 0, 'agent-networks', `${AGENT_SERVICE}: must be in the namespace of ${NETNS_SERVICE} (network_mode: ${AGENT_NETWORK_MODE}) with no networks of its own`);
  c.violations.push(...netnsHolderViolations(all[NETNS_SERVICE], { sidecarImage: sidecar.image }));
  c.require(sidecar.network_mode === undefined && sameSet(networkNames(sidecar), [INTERNAL_NETWORK_KEY, EGRESS_NETWORK_KEY]), 'sidecar-networks', `${EGRESS_SERVICE}: must be on ${INTERNAL_NETWORK_KEY} and ${EGRESS_NETWORK_KEY}`);

  // The agent.
  checkAgentHardening(c, agent, expect);
  const agentMounts = mounts(agent);
  const stray = agentMounts.filter((m) => !workspaceMount(m, agentMounts) && !AGENT_MOUNT_TARGETS.includes(m.target));
  c.require(stray.length === 0, 'agent-mounts', `${AGENT_SERVICE}: mounts ${stray.map((m) => m.target).join(', ')} besides ${WORKSPACE}, the workspace guard's mounts under it and the agent's own (no docker.sock in contained mode)`);
  const dependsOn = block(block(agent.depends_on)?.[EGRESS_SERVICE]);
  c.require(dependsOn?.condition === 'service_healthy', 'agent-depends-on', `${AGENT_SERVICE}: depends_on ${EGRESS_SERVICE} must have condition service_healthy`);
  const env = keyValues(agent.environment);
  const url = proxyUrlFor(String(sidecar.container_name ?? ''));
  const wrongProxy = PROXY_VARIABLES.filter((name) => env[name] !== url);
  c.require(wrongProxy.length === 0, 'agent-proxy-env', `${AGENT_SERVICE}: ${wrongProxy.join(', ')} must be ${url}`);
  const allowedBypass = noProxyHosts(String(sidecar.container_name ?? ''));
  const wrongNoProxy = NO_PROXY_VARIABLES.filter((name) => !(env[name] ?? '').split(',').every((h) => allowedBypass.includes(h)));
  c.require(wrongNoProxy.length === 0, 'agent-no-proxy', `${AGENT_SERVICE}: ${wrongNoProxy.join(', ')} may list only ${allowedBypass.join(',')}`);
  const noTelemetry = Object.keys(TELEMETRY_DEFAULTS).filter((name) => !(name in env));
  c.require(noTelemetry.length === 0 || expect.telemetryDefaults === false, 'agent-telemetry-defaults', `${AGENT_SERVICE}: ${noTelemetry.join(', ')} not set`);

  // The sidecar: unprivileged, immutable, and healthy only when its port answers.
  c.require(strings(sidecar.cap_add).length === 0, 'sidecar-cap-add', `${EGRESS_SERVICE}: must not add capabilities`);
  c.require(strings(sidecar.cap_drop).includes('ALL'), 'sidecar-cap-drop', `${EGRESS_SERVICE}: cap_drop must include ALL`);
  c.require(strings(sidecar.security_opt).includes(NO_NEW_PRIVILEGES), 'sidecar-no-new-privileges', `${EGRESS_SERVICE}: security_opt must include ${NO_NEW_PRIVILEGES}`);
  c.require(sidecar.privileged !== true, 'privileged', `${EGRESS_SERVICE}: must not be privileged`);
  c.require(String(sidecar.user ?? '') === SIDECAR_USER, 'sidecar-user', `${EGRESS_SERVICE}: must run as ${SIDECAR_USER}`);
  c.require(sidecar.read_only === true, 'sidecar-read-only', `${EGRESS_SERVICE}: the service itself must be read_only: true`);
  const tmpfs = strings(sidecar.tmpfs).map((t) => t.split(':')[0]);
  c.require(['/run', '/tmp'].every((p) => tmpfs.includes(p)), 'sidecar-tmpfs', `${EGRESS_SERVICE}: tmpfs must include /run and /tmp`);
  c.violations.push(...sidecarLimitViolations(EGRESS_SERVICE, sidecar));
  const health = block(sidecar.healthcheck) ?? {};
  c.require(health.disable !== true && sameSequence(strings(health.test), ['CMD', SIDECAR_HEALTHCHECK]), 'sidecar-healthcheck', `${EGRESS_SERVICE}: healthcheck must be ["CMD", "${SIDECAR_HEALTHCHECK}"] (it connects to the proxy port)`);
  const sidecarMounts = mounts(sidecar);
  const expected = [SIDECAR_CONF_DIR, SIDECAR_RESOLV_CONF_PATH];
  c.require(sameSet(sidecarMounts.map((m) => m.target), expected) && sidecarMounts.every((m) => m.readOnly), 'sidecar-mounts', `${EGRESS_SERVICE}: must mount exactly the directory ${SIDECAR_CONF_DIR} and the file ${SIDECAR_RESOLV_CONF_PATH}, read-only`);
  // The floor's resolv.conf is drydock's own (nameserver 127.0.0.1 only), never another file.
  // It sits beside the egress directory, in the session directory (`./` as rendered, absolute
  // once docker-compose has normalised the file).
  const resolv = sidecarMounts.find((m) => m.target === SIDECAR_RESOLV_CONF_PATH);
  const confDir = sidecarMounts.find((m) => m.target === SIDECAR_CONF_DIR);
  const sessionDir = confDir?.source.endsWith(`/${FILE_NAMES.egressDir}`) ? confDir.source.slice(0, -FILE_NAMES.egressDir.length) : undefined;
  c.require(resolv === undefined || confDir === undefined || (sessionDir !== undefined && resolv.source === `${sessionDir}${FILE_NAMES.resolvConf}`), 'sidecar-resolv-conf', `${EGRESS_SERVICE}: ${SIDECAR_RESOLV_CONF_PATH} must be the session's own ${FILE_NAMES.resolvConf}, beside its ${FILE_NAMES.egressDir} directory`);
  // A namespaced sysctl lets the resolver bind port 53 without a capability; nothing else is set.
  const sysctls = block(sidecar.sysctls) ?? {};
  c.require(sameSet(Object.keys(sysctls), Object.keys(SIDECAR_SYSCTLS)) && Object.entries(SIDECAR_SYSCTLS).every(([k, v]) => String(sysctls[k]) === String(v)), 'sidecar-sysctls', `${EGRESS_SERVICE}: sysctls must be exactly ${Object.entries(SIDECAR_SYSCTLS).map(([k, v]) => `${k}=${v}`).join(', ')} (the resolver's port 53, no capability)`);

  for (const [name, service] of Object.entries(all)) {
    c.require(strings(block(service)?.ports).length === 0, 'ports', `${name}: must not publish ports`);
  }
  checkLabels(c, AGENT_SERVICE, agent.labels, 'agent', CONTAINER_LABELS, undefined);
  checkLabels(c, EGRESS_SERVICE, sidecar.labels, 'egress', CONTAINER_LABELS, session);
  if (all[NETNS_SERVICE] !== undefined) checkLabels(c, NETNS_SERVICE, block(all[NETNS_SERVICE])?.labels, 'netns', CONTAINER_LABELS, session);
  checkLabels(c, `network ${INTERNAL_NETWORK_KEY}`, internal.labels, 'network', NETWORK_LABELS, session);
  return c.violations;
}


export function checkDoodInvariants(doc: unknown, expect: InvariantExpectations = {}): Violation[] {
  const c = new Collector();
  const all = services(doc);
  const agent = block(all[AGENT_SERVICE]) ?? {};
  c.require(Object.keys(all).length === 1 && all[AGENT_SERVICE] !== undefined, 'dood-services', `dood runs the ${AGENT_SERVICE} service only (no sidecar)`);
  c.require(Object.keys(block(block(doc)?.networks) ?? {}).length === 0 && networkNames(agent).length === 0, 'dood-networks', 'dood declares no networks (the agent is on the host network)');
  c.require(agent.network_mode === 'host', 'dood-host-network', `${AGENT_SERVICE}: network_mode must be host`);
  const agentMounts = mounts(agent);
  c.require(agentMounts.some((m) => m.source.startsWith('/') && m.target === DOCKER_SOCKET), 'dood-socket', `${AGENT_SERVICE}: ${DOCKER_SOCKET} must be mounted`);
  c.require(!agentMounts.some((m) => m.target.startsWith('/etc/drydock')), 'dood-filter-mount', `${AGENT_SERVICE}: no egress filter is mounted in dood mode`);
  const env = keyValues(agent.environment);
  const proxyVars = [...PROXY_VARIABLES, ...NO_PROXY_VARIABLES].filter((name) => name in env);
  c.require(proxyVars.length === 0, 'dood-proxy-env', `${AGENT_SERVICE}: ${proxyVars.join(', ')} must not be set in dood mode`);
  const telemetry = Object.keys(TELEMETRY_DEFAULTS).filter((name) => name in env);
  c.require(telemetry.length === 0, 'dood-telemetry', `${AGENT_SERVICE}: ${telemetry.join(', ')} must not be defaulted in dood mode`);
  checkAgentHardening(c, agent, expect);
  c.require(strings(agent.ports).length === 0, 'ports', `${AGENT_SERVICE}: must not publish ports`);
  checkLabels(c, AGENT_SERVICE, agent.labels, 'agent', CONTAINER_LABELS, undefined);
  return c.violations;
}
