/**
 * The pure heart of `render`: a session spec in, the base compose file and the one mode overlay
 * out. No I/O and no randomness, so the same spec always renders the same bytes (snapshot-tested).
 */
import { UsageError } from '../errors.js';
import type { BindMount, ComposeFile, ComposeService, Labels } from './compose-types.js';
import type { Mode } from './mode.js';
import {
  AGENT_SERVICE,
  DOCKER_SOCKET,
  EGRESS_NETWORK,
  EGRESS_NETWORK_KEY,
  EGRESS_SERVICE,
  FILE_NAMES,
  INTERNAL_NETWORK_KEY,
  LABELS,
  NETNS_SERVICE,
  NO_PROXY_VARIABLES,
  PROXY_VARIABLES,
  SIDECAR_CONF_DIR,
  SIDECAR_HEALTHCHECK,
  SIDECAR_RESOLV_CONF_PATH,
  SIDECAR_SYSCTLS,
  SIDECAR_USER,
  WORKSPACE,
  agentContainerName,
  egressContainerName,
  internalNetworkName,
  netnsContainerName,
  noProxyHosts,
  proxyUrl,
} from '../names.js';
import { SIDECAR_HEALTHCHECK_TIMING } from '../egress/healthcheck.js';
import { agentLimitFields, sidecarLimitFields } from '../limits/compose.js';
import type { ResourceLimits } from '../limits/settings.js';
import { agentPieces, sshConfigMount, type AgentRuntime } from '../agent/runtime.js';
import { AGENT_NETWORK_MODE, renderNetnsHolder } from './netns-holder.js';

export interface SessionSpec {
  sessionId: string;
  project: string;
  projectDir: string;
  mode: Mode;
  observe: boolean;
  agentImage: string;
  egressImage: string;
  /** Only the telemetry switches are read from it (a user's value beats drydock's default). */
  userEnv: Record<string, string | undefined>;
  /** dood: the group owning the host's docker.sock, so the non-root agent user can use it. */
  dockerSocketGid?: number;
  /** dood: the engine's socket on the host (settings.engine.socket; default /var/run/docker.sock). */
  dockerSocket?: string;
  /** The workspace guard's mounts under /workspace (read-only git config, hooks, auto-run files). */
  workspaceMounts?: BindMount[];
  /** Memory, CPU, pids, init, log caps, tmpfs sizes (settings.limits; lib/limits/settings.ts). */
  limits: ResourceLimits;
  /** Who the agent runs as, its home, CA, git identity, telemetry (lib/agent/runtime.ts). */
  agent: AgentRuntime;
}

export interface RenderedCompose {
  base: ComposeFile;
  overlay: ComposeFile;
  overlayFileName: string;
}

/**
 * Capabilities a ROOT agent keeps (only with --allow-root): enough for package managers to
 * chown/setuid in its own files. A non-root agent gets none: it could not use them anyway.
 */
export const AGENT_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID'];
export const NO_NEW_PRIVILEGES = 'no-new-privileges:true';
/** Defaults that keep the agent's optional phone-home traffic off; each yields to the user's own value. */
export const TELEMETRY_DEFAULTS: Readonly<Record<string, string>> = {
  DISABLE_TELEMETRY: '1',
  DISABLE_ERROR_REPORTING: '1',
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
};

/** Compose interpolates `$VAR` in every value; a literal `$` (in a path, a user's value) must be `$$`. */
export function escapeInterpolation(value: string): string {
  return value.replace(/\$/g, '$$$$');
}

export function sessionLabels(spec: SessionSpec, role: 'agent' | 'egress' | 'netns' | 'network'): Labels {
  const labels: Labels = {
    [LABELS.session]: spec.sessionId,
    [LABELS.project]: spec.project,
    [LABELS.role]: role,
    [LABELS.mode]: spec.mode,
  };
  if (role !== 'network') labels[LABELS.observe] = String(spec.observe);
  return labels;
}

function renderBase(spec: SessionSpec): ComposeFile {
  const workspace: BindMount = { type: 'bind', source: escapeInterpolation(spec.projectDir), target: WORKSPACE };
  const pieces = agentPieces(spec.agent);
  const agent: ComposeService = {
    image: spec.agentImage,
    container_name: agentContainerName(spec.sessionId),
    labels: sessionLabels(spec, 'agent'),
    // A keepalive: `run` execs the user's command into it, so the agent's start is measurable
    // and the container outlives one command (the devcontainers pattern).
    command: ['sleep', 'infinity'],
    // Whatever USER the image names: a root image must not make a root agent.
    user: pieces.user,
    working_dir: WORKSPACE,
    volumes: [workspace, ...[...(spec.workspaceMounts ?? []), ...pieces.volumes].map((m) => ({ ...m, source: escapeInterpolation(m.source) }))],
    environment: pieces.environment,
    cap_drop: ['ALL'],
    security_opt: [NO_NEW_PRIVILEGES],
    ...agentLimitFields(spec.limits.agent, spec.limits.logs),
  };
  if (spec.agent.root) agent.cap_add = [...AGENT_CAPABILITIES];
  if (pieces.tmpfs.length > 0) agent.tmpfs = pieces.tmpfs;
  return { services: { [AGENT_SERVICE]: agent } };
}

function agentEnvironment(spec: SessionSpec): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PROXY_VARIABLES) env[name] = proxyUrl(spec.sessionId);
  const noProxy = noProxyHosts(egressContainerName(spec.sessionId)).join(',');
  for (const name of NO_PROXY_VARIABLES) env[name] = noProxy;
  for (const [name, value] of Object.entries(spec.agent.telemetryDefaults ? TELEMETRY_DEFAULTS : {})) {
    const own = spec.userEnv[name];
    env[name] = escapeInterpolation(own === undefined ? value : own);
  }
  return env;
}

function renderContainOverlay(spec: SessionSpec): ComposeFile {
  // The agent lives in the holder's network namespace (lib/render/netns-holder.ts): the session
  // network is the holder's only one, so it is the agent's only one.
  const agent: ComposeService = {
    network_mode: AGENT_NETWORK_MODE,
    environment: agentEnvironment(spec),
    volumes: [sshConfigMount()],
    depends_on: { [EGRESS_SERVICE]: { condition: 'service_healthy' }, [NETNS_SERVICE]: { condition: 'service_started' } },
  };
  const holder = renderNetnsHolder({
    image: spec.egressImage, containerName: netnsContainerName(spec.sessionId), labels: sessionLabels(spec, 'netns'),
    logs: spec.limits.logs, noNewPrivileges: NO_NEW_PRIVILEGES,
  });
  const sidecar: ComposeService = {
    image: spec.egressImage,
    container_name: egressContainerName(spec.sessionId),
    labels: sessionLabels(spec, 'egress'),
    user: SIDECAR_USER,
    cap_drop: ['ALL'],
    security_opt: [NO_NEW_PRIVILEGES],
    read_only: true,
    ...sidecarLimitFields(spec.limits.egress, spec.limits.logs),
    networks: [INTERNAL_NETWORK_KEY, EGRESS_NETWORK_KEY],
    // A directory, so a live change renamed into it is seen (a file mount would keep the old inode).
    // And the address floor (lib/egress/address-floor.ts): a user mount on /etc/resolv.conf
    // replaces Docker's, so tinyproxy asks the sidecar's own resolver and never Docker's directly.
    volumes: [
      { type: 'bind', source: `./${FILE_NAMES.egressDir}`, target: SIDECAR_CONF_DIR, read_only: true },
      { type: 'bind', source: `./${FILE_NAMES.resolvConf}`, target: SIDECAR_RESOLV_CONF_PATH, read_only: true },
    ],
    sysctls: { ...SIDECAR_SYSCTLS },
    healthcheck: { test: ['CMD', SIDECAR_HEALTHCHECK], ...SIDECAR_HEALTHCHECK_TIMING },
  };
  return {
    services: { [AGENT_SERVICE]: agent, [EGRESS_SERVICE]: sidecar, [NETNS_SERVICE]: holder },
    networks: {
      [INTERNAL_NETWORK_KEY]: {
        name: internalNetworkName(spec.sessionId),
        internal: true,
        // `internal: true` alone still gives the host's bridge an address on this network, so the
        // agent could reach any host service listening there (seen on a real engine). With no
        // address on the bridge, the sidecar is the only thing the agent can reach.
        driver_opts: { [INHIBIT_IPV4]: 'true' },
        labels: sessionLabels(spec, 'network'),
      },
      // Shared by all sessions and created by `run`: external, so one session's `down` never removes it.
      [EGRESS_NETWORK_KEY]: { name: EGRESS_NETWORK, external: true },
    },
  };
}

/** Bridge driver option: do not give the host's bridge interface an IPv4 address. */
export const INHIBIT_IPV4 = 'com.docker.network.bridge.inhibit_ipv4';

function renderDoodOverlay(spec: SessionSpec): ComposeFile {
  const agent: ComposeService = {
    network_mode: 'host',
    volumes: [{ type: 'bind', source: spec.dockerSocket ?? DOCKER_SOCKET, target: DOCKER_SOCKET }],
  };
  if (spec.dockerSocketGid !== undefined) agent.group_add = [String(spec.dockerSocketGid)];
  return { services: { [AGENT_SERVICE]: agent } };
}

export function renderOverlay(spec: SessionSpec): RenderedCompose {
  if (spec.mode === 'dood' && spec.observe) {
    throw new UsageError('--observe needs contained mode: in dood mode there is no egress proxy to observe', {
      hint: 'drop --observe, or use --mode contain --observe',
    });
  }
  const base = renderBase(spec);
  if (spec.mode === 'contain') {
    return { base, overlay: renderContainOverlay(spec), overlayFileName: FILE_NAMES.contain };
  }
  return { base, overlay: renderDoodOverlay(spec), overlayFileName: FILE_NAMES.dood };
}
