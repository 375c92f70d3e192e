/**
 * The host user's git identity (user.name, user.email), handed to the agent as a system-level
 * gitconfig so a repository's own config and the agent's ~/.gitconfig still win.
 *
 * Read with `git config --global` from `/`: the global files only, never the project's
 * .git/config, which the agent can write (nothing the agent writes is trusted on the host).
 */
import type { CommandRunner } from '../docker/runner.js';

export interface GitIdentity {
  name?: string;
  email?: string;
}

async function globalValue(runner: CommandRunner, key: string): Promise<string | undefined> {
  try {
    const result = await runner.run(['git', 'config', '--global', '--get', key], { cwd: '/', timeoutMs: 5_000 });
    const value = result.stdout.replace(/\n$/, '');
    return result.code === 0 && value !== '' ? value : undefined;
  } catch {
    return undefined; // no git on the host: the agent simply has no identity
  }
}

export async function hostGitIdentity(runner: CommandRunner): Promise<GitIdentity> {
  const [name, email] = await Promise.all([globalValue(runner, 'user.name'), globalValue(runner, 'user.email')]);
  return { ...(name !== undefined && { name }), ...(email !== undefined && { email }) };
}

/** A git-config value: quoted, with `\` and `"` escaped; control characters (a newline) dropped. */
function quoted(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, '');
  return `"${clean.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The gitconfig file, or undefined when there is nothing to say. */
export function renderGitconfig(identity: GitIdentity): string | undefined {
  const lines: string[] = [];
  if (identity.name !== undefined) lines.push(`\tname = ${quoted(identity.name)}`);
  if (identity.email !== undefined) lines.push(`\temail = ${quoted(identity.email)}`);
  if (lines.length === 0) return undefined;
  return ['# drydock: the host user\'s git identity (git config --global). Generated; do not edit.', '[user]', ...lines, ''].join('\n');
}
