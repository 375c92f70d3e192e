/**
 * The agent's persistent per-project home: `$DRYDOCK_STATE_DIR/agent-state/<project>/home`,
 * mounted at the agent's HOME so `~/.claude`, `~/.claude.json`, `~/.codex` and shell history
 * survive sessions. It lives beside `sessions/`, never inside it, so `gc` never sees it.
 *
 * Everything in it is written by the agent: drydock creates the directory, sets its owner, and
 * removes it on `drydock state clear`. It never reads, follows or executes anything inside it.
 */
import { chownSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Env } from '../context.js';
import { UsageError } from '../errors.js';
import { stateDir } from '../paths.js';

export const PERSIST_VARIABLE = 'DRYDOCK_PERSIST_STATE';
/** The agent's HOME in the container, whatever image runs. */
export const AGENT_HOME = '/home/agent';

export function agentStateRoot(env: Env): string {
  return join(stateDir(env), 'agent-state');
}

export function agentStateDir(env: Env, project: string): string {
  return join(agentStateRoot(env), project);
}

export function agentHomeDir(env: Env, project: string): string {
  return join(agentStateDir(env, project), 'home');
}

/** `--no-persist` or DRYDOCK_PERSIST_STATE=0: the home is a tmpfs that goes with the session. */
export function persistState(env: Env, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  const raw = (env[PERSIST_VARIABLE] ?? '').trim().toLowerCase();
  if (raw === '' || raw === '1' || raw === 'true' || raw === 'yes') return true;
  if (raw === '0' || raw === 'false' || raw === 'no') return false;
  throw new UsageError(`${PERSIST_VARIABLE}: "${env[PERSIST_VARIABLE]}" is not 1 or 0`, {
    hint: `set ${PERSIST_VARIABLE}=0 to give each session a fresh home, or unset it`,
  });
}

/**
 * Create the home (0700) and give it to the agent's uid. Only the directory itself is touched: a
 * symlink at its path (which only the host user could have made) is refused rather than followed.
 */
export function ensureAgentHome(path: string, owner: { uid: number; gid: number }, ids: { uid: number }): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const stat = lstatSync(path);
  if (!stat.isDirectory()) {
    throw new UsageError(`${path} is not a directory (a symlink?): drydock will not mount it as the agent's home`, {
      hint: `remove it (drydock state clear) and run again`,
    });
  }
  if (stat.uid !== owner.uid || stat.gid !== owner.gid) {
    // Only root may give a directory away; a non-root drydock runs the agent as itself anyway.
    if (ids.uid === 0) chownSync(path, owner.uid, owner.gid);
  }
}

/** Remove a project's agent state; true if there was any. Never follows a symlink inside it. */
export function clearAgentState(env: Env, project: string): boolean {
  const dir = agentStateDir(env, project);
  let existed = true;
  try {
    lstatSync(dir);
  } catch {
    existed = false;
  }
  rmSync(dir, { recursive: true, force: true });
  return existed;
}
