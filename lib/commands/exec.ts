/**
 * `drydock exec SESSION [-- CMD…]`: another command (by default a shell) in a running session's
 * agent container, with a terminal when stdin and stdout are one. It goes through the same agent
 * container, so it has the same jail: the same proxy, the same filter, the same workspace.
 * The exit code is the command's.
 */
import type { CommandContext, CommandResult } from '../context.js';
import { Docker } from '../docker/client.js';
import { processRunner, type CommandRunner } from '../docker/runner.js';
import { NegativeAnswer } from '../errors.js';
import { validateSessionId } from '../session/id.js';
import { groupSessions } from '../session/model.js';
import { passedEnvNames } from '../agent/credentials.js';

export interface ExecOptions {
  session: string;
  cmd: string[];
}

export interface ExecDeps {
  runner?: CommandRunner;
  tty?: boolean;
}

/** bash when the agent image has it, else sh: a fixed argv drydock writes, nothing of the user's. */
export const DEFAULT_SHELL = ['sh', '-c', 'command -v bash >/dev/null 2>&1 && exec bash || exec sh'];

export async function exec(opts: ExecOptions, ctx: CommandContext, deps: ExecDeps = {}): Promise<CommandResult> {
  const session = validateSessionId(opts.session);
  const docker = new Docker(deps.runner ?? processRunner(ctx.env));
  const [view] = groupSessions(await docker.listSessionState({ session }));
  if (!view?.agent) {
    throw new NegativeAnswer(`no session ${session} with an agent container`, { hint: '`drydock ls` lists the running sessions' });
  }
  if (view.agent.state !== 'running') {
    throw new NegativeAnswer(`the agent of ${session} is ${view.agent.state}, not running`, { hint: `end it with drydock stop ${session}` });
  }
  // The same credentials as `run`, by name only (lib/agent/credentials.ts).
  const passEnv = passedEnvNames(ctx.env);
  const cmd = opts.cmd.length > 0 ? opts.cmd : DEFAULT_SHELL;
  const tty = deps.tty ?? (!!process.stdin.isTTY && !!process.stdout.isTTY);
  const code = await docker.exec(view.agent.name, cmd, { tty, passEnv });
  return { exitCode: code, data: { session, container: view.agent.name, exitCode: code } };
}
