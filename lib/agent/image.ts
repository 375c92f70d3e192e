/**
 * The default agent image, built from templates/agent/ on first use (like the sidecar) and by
 * `drydock build`, with the agent user's uid/gid so files it writes in /workspace are the user's.
 */
import { join } from 'node:path';
import type { Env } from '../context.js';
import type { Docker } from '../docker/client.js';
import { UsageError } from '../errors.js';
import { templatesDir } from '../paths.js';
import { DEFAULT_AGENT_IMAGE } from '../render/images.js';
import { FALLBACK_AGENT_ID } from './user.js';

export const AGENT_BASE_VARIABLE = 'DRYDOCK_AGENT_BASE_IMAGE';
export const CLAUDE_CODE_VERSION_VARIABLE = 'DRYDOCK_CLAUDE_CODE_VERSION';
export const CODEX_VERSION_VARIABLE = 'DRYDOCK_CODEX_VERSION';
/** Set by templates/agent/Dockerfile: the uid its user was built with. */
export const AGENT_UID_LABEL = 'drydock.agent-uid';

/** An npm version or dist-tag: digits, letters, dots, dashes (no shell, no spaces, no `$`). */
const VERSION = /^[A-Za-z0-9][A-Za-z0-9.+-]{0,63}$/;

export interface AgentBuild {
  tag: string;
  contextDir: string;
  buildArgs: Record<string, string>;
}

function version(value: string | undefined, what: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!VERSION.test(value)) {
    throw new UsageError(`${what}: "${value}" is not an npm version or tag`, { hint: 'use a version such as 2.1.197, or latest' });
  }
  return value;
}

/** The build of the default image for this user; the flags win over the environment. */
export function agentBuild(env: Env, user: { uid: number; gid: number; root: boolean }, flags: { claudeCode?: string; codex?: string } = {}): AgentBuild {
  // A root agent (--allow-root) still gets an ordinary user in the image; it just is not used.
  const uid = user.root ? FALLBACK_AGENT_ID : user.uid;
  const gid = user.root ? FALLBACK_AGENT_ID : user.gid;
  const buildArgs: Record<string, string> = { AGENT_UID: String(uid), AGENT_GID: String(gid) };
  const claude = version(flags.claudeCode ?? env[CLAUDE_CODE_VERSION_VARIABLE], flags.claudeCode ? '--claude-code-version' : CLAUDE_CODE_VERSION_VARIABLE);
  if (claude) buildArgs.CLAUDE_CODE_VERSION = claude;
  const codex = version(flags.codex ?? env[CODEX_VERSION_VARIABLE], flags.codex ? '--codex-version' : CODEX_VERSION_VARIABLE);
  if (codex) buildArgs.CODEX_VERSION = codex;
  const base = env[AGENT_BASE_VARIABLE];
  if (base) buildArgs.BASE = base;
  return { tag: DEFAULT_AGENT_IMAGE, contextDir: join(templatesDir(), 'agent'), buildArgs };
}

export function describeBuild(build: AgentBuild): string {
  const args = Object.entries(build.buildArgs).map(([k, v]) => `${k}=${v}`).join(', ');
  return `the agent image ${build.tag} from ${build.contextDir} (${args})`;
}

/**
 * Build the default image if it is missing. Any other image (DRYDOCK_AGENT_IMAGE) is the user's:
 * drydock never builds or pulls it, and compose up reports it missing.
 */
export async function ensureAgentImage(docker: Docker, isDefault: boolean, build: AgentBuild, say: (line: string) => void): Promise<'present' | 'built' | 'custom'> {
  if (!isDefault) return 'custom';
  const builtFor = await docker.imageLabel(DEFAULT_AGENT_IMAGE, AGENT_UID_LABEL);
  if (builtFor !== undefined) {
    // The run still works (compose sets the uid), but ssh and whoami need a passwd entry for it.
    if (builtFor !== '' && builtFor !== build.buildArgs.AGENT_UID) {
      say(`drydock: warning: ${DEFAULT_AGENT_IMAGE} was built for uid ${builtFor}, the agent runs as ${build.buildArgs.AGENT_UID}: rebuild it with \`drydock build\``);
    }
    return 'present';
  }
  say(`drydock: building ${describeBuild(build)}; the first build downloads Claude Code and takes a few minutes…`);
  await docker.buildImage({ tag: build.tag, contextDir: build.contextDir, buildArgs: build.buildArgs });
  return 'built';
}
