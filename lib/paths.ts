import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Env } from './context.js';

/**
 * `<project>` as it appears in file names, session ids and labels: lowercase,
 * `[^a-z0-9_-]` to `-`, runs of `-` collapsed, ends trimmed, empty becomes `project`.
 */
export function sanitizeProjectName(raw: string): string {
  const name = raw
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
  return name === '' ? 'project' : name;
}

/** `--project` if given, else the sanitised name of the working directory. */
export function resolveProjectName(flag: string | undefined, cwd: string): string {
  const raw = flag ?? cwd.split(/[\\/]/).filter(Boolean).pop() ?? '';
  return sanitizeProjectName(raw);
}

function homeOf(env: Env): string {
  return env.HOME && env.HOME !== '' ? env.HOME : homedir();
}

/** `$DRYDOCK_CONFIG_DIR`, else `$XDG_CONFIG_HOME/drydock`, else `~/.config/drydock`. */
export function configDir(env: Env): string {
  if (env.DRYDOCK_CONFIG_DIR) return env.DRYDOCK_CONFIG_DIR;
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'drydock');
  return join(homeOf(env), '.config', 'drydock');
}

/** `$DRYDOCK_STATE_DIR`, else `$XDG_STATE_HOME/drydock`, else `~/.local/state/drydock`. */
export function stateDir(env: Env): string {
  if (env.DRYDOCK_STATE_DIR) return env.DRYDOCK_STATE_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'drydock');
  return join(homeOf(env), '.local', 'state', 'drydock');
}

export function sessionsDir(env: Env): string {
  return join(stateDir(env), 'sessions');
}

export function sessionDir(env: Env, sessionId: string): string {
  return join(sessionsDir(env), sessionId);
}

let cachedRoot: string | undefined;

/**
 * The installed package's root (where `allowlists/` and `templates/` live). Found by walking up
 * from this module, because the same code runs from `lib/` (tests) and from `dist/` chunks.
 */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'allowlists')) && existsSync(join(dir, 'package.json'))) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('drydock: cannot find the package root (allowlists/ is missing)');
    dir = parent;
  }
}

export function templatesDir(): string {
  return join(packageRoot(), 'templates');
}

/** The shipped baseline, unless `DRYDOCK_BASELINE` names an organisation's own (which replaces it). */
export function baselinePath(env: Env): string {
  return env.DRYDOCK_BASELINE || join(packageRoot(), 'allowlists', 'egress-baseline.conf');
}

/** The user's allowlist files by role, for hints that say where to add a line. */
export function allowlistFilesOf(env: Env, project: string | undefined): { global: string; project?: string } {
  const global = join(configDir(env), 'egress-allowlist');
  return project === undefined ? { global } : { global, project: `${global}-${project}` };
}

/** The user's allowlist files in the order they apply: global, then per project. */
export function userAllowlistPaths(env: Env, project: string): string[] {
  const dir = configDir(env);
  return [join(dir, 'egress-allowlist'), join(dir, `egress-allowlist-${project}`)];
}
