/**
 * Which uid:gid the agent runs as. Never 0 unless the user asks for it explicitly: a root agent
 * writes root-owned (and, with CHOWN/FOWNER/SETUID, setuid-root) files into the host's project dir.
 */
import type { Env } from '../context.js';
import { UsageError } from '../errors.js';

export const AGENT_USER_VARIABLE = 'DRYDOCK_AGENT_USER';
export const ALLOW_ROOT_VARIABLE = 'DRYDOCK_ALLOW_ROOT_AGENT';
/** Who the agent is when drydock itself runs as root and the project dir is root's too (CI, sudo). */
export const FALLBACK_AGENT_ID = 1000;

export interface AgentUser {
  uid: number;
  gid: number;
  /** Where the ids came from, for the banner. */
  source: 'host user' | 'project dir owner' | 'fallback' | typeof AGENT_USER_VARIABLE;
  root: boolean;
  /** Something the user should know (printed as a warning). */
  warning?: string;
}

export interface AgentUserInput {
  env: Env;
  /** drydock's own ids (process.getuid/getgid). */
  hostUid: number;
  hostGid: number;
  /** Owner of the project directory (stat), to pick when drydock runs as root. */
  projectOwner?: { uid: number; gid: number };
  /** `--allow-root`. */
  allowRootFlag?: boolean;
}

const ID = /^(\d{1,10})(?::(\d{1,10}))?$/;

function parseFlag(env: Env, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false' || raw === 'no') return false;
  if (raw === '1' || raw === 'true' || raw === 'yes') return true;
  throw new UsageError(`${name}: "${env[name]}" is not 1 or 0`, { hint: `set ${name}=1 or unset it` });
}

function chosen(input: AgentUserInput): AgentUser {
  const explicit = (input.env[AGENT_USER_VARIABLE] ?? '').trim();
  if (explicit !== '') {
    const match = ID.exec(explicit);
    if (!match) {
      throw new UsageError(`${AGENT_USER_VARIABLE}: "${explicit}" is not UID or UID:GID (numbers)`, {
        hint: `set ${AGENT_USER_VARIABLE}=1000:1000, or unset it to run as your own user`,
      });
    }
    const uid = Number(match[1]);
    const gid = match[2] === undefined ? uid : Number(match[2]);
    return { uid, gid, source: AGENT_USER_VARIABLE, root: uid === 0 };
  }
  if (input.hostUid !== 0) return { uid: input.hostUid, gid: input.hostGid, source: 'host user', root: false };
  const owner = input.projectOwner;
  if (owner && owner.uid !== 0) {
    return {
      uid: owner.uid, gid: owner.gid, source: 'project dir owner', root: false,
      warning: `drydock runs as root: the agent runs as the project directory's owner, uid ${owner.uid}:${owner.gid}, not as root`,
    };
  }
  return {
    uid: FALLBACK_AGENT_ID, gid: FALLBACK_AGENT_ID, source: 'fallback', root: false,
    warning: `drydock runs as root and the project directory is root's: the agent runs as uid ${FALLBACK_AGENT_ID}:${FALLBACK_AGENT_ID}, ` +
      `so /workspace is read-only to it unless uid ${FALLBACK_AGENT_ID} may write there (chown the project, or set ${AGENT_USER_VARIABLE})`,
  };
}

/** The agent's ids; a uid 0 without `--allow-root` / DRYDOCK_ALLOW_ROOT_AGENT=1 is refused. */
export function resolveAgentUser(input: AgentUserInput): AgentUser {
  const user = chosen(input);
  if (!user.root) return user;
  if (!(input.allowRootFlag || parseFlag(input.env, ALLOW_ROOT_VARIABLE))) {
    throw new UsageError(`${AGENT_USER_VARIABLE}=${input.env[AGENT_USER_VARIABLE]} would run the agent as root, which drydock refuses by default`, {
      hint: `a root agent can write root-owned and setuid files into your project; if you really mean it, add --allow-root (or ${ALLOW_ROOT_VARIABLE}=1)`,
    });
  }
  return { ...user, warning: 'THE AGENT RUNS AS ROOT (uid 0): files it writes in your project are root-owned, and it keeps CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID' };
}

export function composeUser(user: AgentUser): string {
  return `${user.uid}:${user.gid}`;
}
