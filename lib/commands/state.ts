/**
 * `drydock state path|clear`: the agent's persistent per-project home. drydock never reads what
 * is inside it; `clear` removes it whole (symlinks inside are removed, never followed).
 */
import type { CommandContext, CommandResult } from '../context.js';
import { ExitCode } from '../errors.js';
import { resolveProjectName } from '../paths.js';
import { agentStateDir, clearAgentState } from '../agent/state.js';

export interface StateOptions {
  project?: string;
  json?: boolean;
}

export async function path(opts: StateOptions, ctx: CommandContext): Promise<CommandResult> {
  const project = resolveProjectName(opts.project, ctx.cwd);
  const dir = agentStateDir(ctx.env, project);
  if (!ctx.json) ctx.out(dir);
  return { exitCode: ExitCode.Ok, data: { project, path: dir } };
}

export async function clear(opts: StateOptions, ctx: CommandContext): Promise<CommandResult> {
  const project = resolveProjectName(opts.project, ctx.cwd);
  const dir = agentStateDir(ctx.env, project);
  const existed = clearAgentState(ctx.env, project);
  if (!ctx.json) ctx.out(existed ? `cleared the agent state of project ${project} (${dir})` : `project ${project} has no agent state (${dir})`);
  return { exitCode: ExitCode.Ok, data: { project, path: dir, cleared: existed } };
}
