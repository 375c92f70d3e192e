import { resolve } from 'node:path';
import type { CommandContext, CommandResult } from '../context.js';
import { ExitCode, UsageError } from '../errors.js';
import { requireSettings, resolveSettings } from '../settings.js';
import { renderSessionFiles } from '../render/session-files.js';
import { newSessionId, validateSessionId } from '../session/id.js';
import { prepareAgent, type AgentDeps, type AgentFlags } from '../agent/session.js';

export interface RenderOptions extends AgentFlags {
  mode?: string;
  project?: string;
  session?: string;
  out: string;
  observe?: boolean;
  json?: boolean;
  /** compose (the default) or kubernetes. */
  target?: string;
  /** kubernetes: the proxy Service's ClusterIP, to render the agent and probe Pods too. */
  proxyIp?: string;
}

/** For the copy-pasteable hint only; nothing is ever run through a shell. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `drydock render --out DIR`: the files `run` would use, written for inspection or by hand use. */
export async function render(opts: RenderOptions, ctx: CommandContext, deps: AgentDeps = {}): Promise<CommandResult> {
  if (opts.target === 'kubernetes') return (await import('../kubernetes/render-command.js')).renderKubernetes(opts, ctx);
  if (opts.proxyIp !== undefined) throw new UsageError('--proxy-ip is for --target kubernetes only');
  const settings = resolveSettings({ env: ctx.env, cwd: ctx.cwd, mode: opts.mode, project: opts.project });
  requireSettings(settings, 'mode');
  const { mode, project } = settings;
  const sessionId = opts.session !== undefined ? validateSessionId(opts.session) : newSessionId(project);
  const agent = await prepareAgent({ env: ctx.env, cwd: ctx.cwd, project, mode, flags: opts, deps });
  const rendered = renderSessionFiles({
    settings,
    agent: agent.request,
    observe: !!opts.observe,
    sessionId,
    outDir: resolve(ctx.cwd, opts.out),
  });
  for (const warning of rendered.warnings) ctx.err(warning);

  const data = { sessionId, mode, observe: rendered.observe, outDir: rendered.outDir, files: rendered.files };
  if (!ctx.json) {
    const lines = [`rendered session ${sessionId} (${mode}${rendered.observe ? ', observe: NOT a jail' : ''}) into ${rendered.outDir}`];
    for (const path of Object.values(rendered.files)) lines.push(`  ${path}`);
    const fileArgs = rendered.composeFiles.map((f) => `-f ${shellQuote(f)}`).join(' ');
    lines.push(`start it with: docker compose -p ${rendered.composeProject} ${fileArgs} up -d`);
    if (mode === 'contain') lines.push('(the drydock_egress network and the sidecar image must exist first; `drydock run` does both)');
    ctx.out(lines.join('\n'));
  }
  return { exitCode: ExitCode.Ok, data };
}
