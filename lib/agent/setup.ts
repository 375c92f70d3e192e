/**
 * The thin shell that turns the user's environment and flags into the agent's runtime for one
 * session: the pure `AgentRuntime` the renderer places, the session files it mounts, and the
 * warnings to print. Host I/O here is limited to stat'ing the project dir and the ssh-agent
 * socket and reading the extra CA file; the git identity is read beforehand (git-identity.ts).
 */
import { statSync } from 'node:fs';
import type { Env } from '../context.js';
import { UsageError } from '../errors.js';
import type { Mode } from '../render/mode.js';
import { loadExtraCa } from './ca.js';
import { renderGitconfig, type GitIdentity } from './git-identity.js';
import { AGENT_FILE_NAMES, renderSshConfig, type AgentRuntime } from './runtime.js';
import { agentHomeDir, persistState } from './state.js';
import { composeUser, resolveAgentUser, type AgentUser } from './user.js';

export const TELEMETRY_VARIABLE = 'DRYDOCK_TELEMETRY';
export const SSH_AGENT_VARIABLE = 'DRYDOCK_SSH_AGENT';

export interface AgentRequest {
  /** `--allow-root`: permits DRYDOCK_AGENT_USER=0. */
  allowRoot?: boolean;
  /** `--no-persist` gives false. */
  persist?: boolean;
  /** `--ssh-agent`. */
  sshAgent?: boolean;
  gitIdentity?: GitIdentity;
  /** drydock's own ids (default: the process's). */
  hostIds?: { uid: number; gid: number };
}

export interface AgentSetup {
  runtime: AgentRuntime;
  user: AgentUser;
  /** Files for the session directory (none holds a secret). */
  files: Array<{ key: keyof typeof AGENT_FILE_NAMES; name: string; content: string }>;
  warnings: string[];
  /** The persistent home on the host (undefined with --no-persist). */
  home?: string;
  extraCaSource?: string;
}

function telemetryDefaults(env: Env): boolean {
  const raw = (env[TELEMETRY_VARIABLE] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'off') return true;
  if (raw === 'on') return false;
  throw new UsageError(`${TELEMETRY_VARIABLE}: "${env[TELEMETRY_VARIABLE]}" is not on or off`, {
    hint: `${TELEMETRY_VARIABLE}=on leaves the agent's telemetry settings alone (drydock sets none of its variables); off (the default) turns it off`,
  });
}

function wantsSshAgent(env: Env, flag: boolean | undefined): boolean {
  if (flag) return true;
  const raw = (env[SSH_AGENT_VARIABLE] ?? '').trim().toLowerCase();
  if (raw === '' || raw === '0' || raw === 'no' || raw === 'false') return false;
  if (raw === '1' || raw === 'yes' || raw === 'true') return true;
  throw new UsageError(`${SSH_AGENT_VARIABLE}: "${env[SSH_AGENT_VARIABLE]}" is not 1 or 0`, { hint: `set ${SSH_AGENT_VARIABLE}=1 or unset it` });
}

function sshAgentSocket(env: Env): string {
  const socket = env.SSH_AUTH_SOCK ?? '';
  let isSocket = false;
  try {
    isSocket = socket !== '' && statSync(socket).isSocket();
  } catch {
    isSocket = false;
  }
  if (!isSocket) {
    throw new UsageError(`--ssh-agent: SSH_AUTH_SOCK ${socket === '' ? 'is not set' : `(${socket}) is not a socket`}`, {
      hint: 'start an ssh-agent (eval "$(ssh-agent)"; ssh-add), or drop --ssh-agent',
    });
  }
  return socket;
}

function projectOwner(projectDir: string): { uid: number; gid: number } | undefined {
  try {
    const stat = statSync(projectDir);
    return { uid: stat.uid, gid: stat.gid };
  } catch {
    return undefined;
  }
}

export function agentSetup(input: { env: Env; projectDir: string; project: string; mode: Mode; proxy?: { host: string; port: number }; request?: AgentRequest }): AgentSetup {
  const request = input.request ?? {};
  const hostIds = request.hostIds ?? { uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 };
  const user = resolveAgentUser({
    env: input.env, hostUid: hostIds.uid, hostGid: hostIds.gid,
    projectOwner: projectOwner(input.projectDir), allowRootFlag: request.allowRoot,
  });
  const warnings = user.warning ? [user.warning] : [];
  const files: AgentSetup['files'] = [];
  const persist = persistState(input.env, request.persist);
  const home = persist ? agentHomeDir(input.env, input.project) : undefined;

  const ca = loadExtraCa(input.env);
  if (ca) {
    files.push({ key: 'extraCa', name: AGENT_FILE_NAMES.extraCa, content: ca.extraPem }, { key: 'caBundle', name: AGENT_FILE_NAMES.caBundle, content: ca.bundlePem });
    if (!ca.systemBundle) warnings.push(`no system CA bundle found on this host: SSL_CERT_FILE and friends trust only ${ca.source}`);
  }
  const gitconfig = request.gitIdentity ? renderGitconfig(request.gitIdentity) : undefined;
  if (gitconfig) files.push({ key: 'gitconfig', name: AGENT_FILE_NAMES.gitconfig, content: gitconfig });
  if (input.proxy) files.push({ key: 'sshConfig', name: AGENT_FILE_NAMES.sshConfig, content: renderSshConfig(input.proxy.host, input.proxy.port) });

  let socket: string | undefined;
  if (wantsSshAgent(input.env, request.sshAgent)) {
    socket = sshAgentSocket(input.env);
    warnings.push(`ssh agent forwarding is ON: the agent can sign with every key in your ssh-agent (${socket}) for the whole session`);
  }
  const runtime: AgentRuntime = {
    user: composeUser(user),
    root: user.root,
    ...(home !== undefined && { homeSource: home }),
    extraCa: ca !== undefined,
    gitconfig: gitconfig !== undefined,
    ...(socket !== undefined && { sshAgentSocket: socket }),
    telemetryDefaults: telemetryDefaults(input.env),
  };
  return { runtime, user, files, warnings, ...(home !== undefined && { home }), ...(ca && { extraCaSource: ca.source }) };
}
