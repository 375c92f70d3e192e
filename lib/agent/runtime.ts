/**
 * The agent's side of a session that is not the jail: who it runs as, its home, the extra CA, git
 * identity, ssh through the sidecar, telemetry. A pure part (`AgentRuntime` → compose pieces) the
 * renderer calls, so lib/render/overlay.ts only places what this module returns.
 */
import type { BindMount } from '../render/compose-types.js';
import { AGENT_HOME } from './state.js';
import { BUNDLE_VARIABLES, CA_BUNDLE_PATH, EXTRA_CA_PATH } from './ca.js';

/** Files a session directory may hold for the agent (mounted read-only; none holds a secret). */
export const AGENT_FILE_NAMES = {
  extraCa: 'extra-ca.pem',
  caBundle: 'ca-bundle.pem',
  gitconfig: 'gitconfig',
  sshConfig: 'ssh_config',
} as const;

export const SYSTEM_GITCONFIG = '/etc/gitconfig';
/** Debian's /etc/ssh/ssh_config includes ssh_config.d/*.conf, so a drop-in needs no other change. */
export const SSH_CONFIG_DROP_IN = '/etc/ssh/ssh_config.d/drydock.conf';
export const SSH_AGENT_SOCKET = '/run/drydock/ssh-agent.sock';

export interface AgentRuntime {
  /** `uid:gid` — never 0 unless the user asked for it explicitly (see user.ts). */
  user: string;
  root: boolean;
  /** The persistent home on the host, or undefined for a per-session tmpfs (opt-out). */
  homeSource?: string;
  extraCa: boolean;
  gitconfig: boolean;
  /** SSH agent forwarding: the host socket (opt-in only). */
  sshAgentSocket?: string;
  /** false: DRYDOCK_TELEMETRY=on, none of the telemetry-off variables is set. */
  telemetryDefaults: boolean;
}

export interface AgentPieces {
  user: string;
  volumes: BindMount[];
  tmpfs: string[];
  environment: Record<string, string>;
}

function sessionFile(name: string, target: string): BindMount {
  return { type: 'bind', source: `./${name}`, target, read_only: true };
}

/** Everything of the runtime that is the same in every mode. */
export function agentPieces(runtime: AgentRuntime): AgentPieces {
  const [uid = '1000', gid = uid] = runtime.user.split(':');
  const volumes: BindMount[] = [];
  const tmpfs: string[] = [];
  const environment: Record<string, string> = { HOME: AGENT_HOME };
  if (runtime.homeSource !== undefined) {
    volumes.push({ type: 'bind', source: runtime.homeSource, target: AGENT_HOME });
  } else {
    tmpfs.push(`${AGENT_HOME}:uid=${uid},gid=${gid},mode=0700`);
  }
  if (runtime.extraCa) {
    volumes.push(sessionFile(AGENT_FILE_NAMES.extraCa, EXTRA_CA_PATH), sessionFile(AGENT_FILE_NAMES.caBundle, CA_BUNDLE_PATH));
    environment.NODE_EXTRA_CA_CERTS = EXTRA_CA_PATH;
    for (const name of BUNDLE_VARIABLES) environment[name] = CA_BUNDLE_PATH;
  }
  if (runtime.gitconfig) volumes.push(sessionFile(AGENT_FILE_NAMES.gitconfig, SYSTEM_GITCONFIG));
  if (runtime.sshAgentSocket !== undefined) {
    volumes.push({ type: 'bind', source: runtime.sshAgentSocket, target: SSH_AGENT_SOCKET });
    environment.SSH_AUTH_SOCK = SSH_AGENT_SOCKET;
  }
  return { user: runtime.user, volumes, tmpfs, environment };
}

/** Contained mode: ssh (and git over ssh) to a `host:22` entry goes through the sidecar as CONNECT. */
export function sshConfigMount(): BindMount {
  return sessionFile(AGENT_FILE_NAMES.sshConfig, SSH_CONFIG_DROP_IN);
}

export function renderSshConfig(proxyHost: string, proxyPort: number): string {
  return [
    '# drydock: ssh has no route out of the jail except the egress sidecar, which speaks HTTP CONNECT.',
    '# Only hosts:ports on the allowlist get through (e.g. github.com:22). Generated; do not edit.',
    'Host *',
    `    ProxyCommand nc -X connect -x ${proxyHost}:${proxyPort} %h %p`,
    '',
  ].join('\n');
}

/** Every target the agent's own mounts may have besides /workspace (checked by the invariants). */
export const AGENT_MOUNT_TARGETS: readonly string[] = [AGENT_HOME, EXTRA_CA_PATH, CA_BUNDLE_PATH, SYSTEM_GITCONFIG, SSH_CONFIG_DROP_IN, SSH_AGENT_SOCKET];
