/**
 * `drydock stop --target kubernetes SESSION | --project NAME | --all`: find the sessions'
 * namespaces by label on kubectl's current context, keep each proxy's log in its session dir,
 * delete the namespaces by label in one call.
 */
import { existsSync } from 'node:fs';
import type { CommandContext, CommandResult } from '../context.js';
import type { StopDeps, StopOptions } from '../commands/stop.js';
import { processRunner } from '../docker/runner.js';
import { ExitCode, NegativeAnswer, UsageError } from '../errors.js';
import { validateSessionId } from '../session/id.js';
import { decisionContext } from '../session/save-log.js';
import type { RefusalReport } from '../egress/refusals.js';
import { allowlistHintFiles, requireSettings, resolveSettings, sessionDirOf, type Settings } from '../settings.js';
import { Kubectl, type NamespaceRecord } from './kubectl.js';
import { deleteAgentPod, deleteSessions, denialReport, saveProxyLog } from './teardown.js';

function select(opts: StopOptions, settings: Settings, namespaces: NamespaceRecord[]): NamespaceRecord[] {
  const listing = namespaces.length
    ? `sessions:\n${namespaces.map((n) => `  ${n.session} (project ${n.project}, namespace ${n.name}${n.terminating ? ', terminating' : ''})`).join('\n')}`
    : 'there are no drydock sessions on this cluster';
  if (opts.all) return namespaces;
  if (opts.session !== undefined) {
    const found = namespaces.filter((n) => n.session === opts.session);
    if (found.length === 0) throw new NegativeAnswer(`no session "${opts.session}" on this cluster\n${listing}`, { hint: 'stop one of these by id, or all with --all' });
    return found;
  }
  const { project } = settings;
  const found = namespaces.filter((n) => n.project === project);
  if (found.length === 0) throw new NegativeAnswer(`no session of project "${project}" on this cluster\n${listing}`, { hint: 'stop one of these by id, or all with --all' });
  return found;
}

export async function stopKubernetes(opts: StopOptions, ctx: CommandContext, deps: StopDeps = {}): Promise<CommandResult> {
  const given = [opts.session !== undefined, opts.project !== undefined, !!opts.all].filter(Boolean).length;
  if (given !== 1) {
    throw new UsageError('say which sessions to stop: exactly one of SESSION, --project NAME or --all', {
      hint: 'drydock stop --target kubernetes myapp-3f9a   |   --project myapp   |   --all',
    });
  }
  if (opts.session !== undefined) validateSessionId(opts.session);
  const settings = resolveSettings({ env: ctx.env, cwd: ctx.cwd, project: opts.project });
  requireSettings(settings, 'egressLog');
  const kubectl = new Kubectl(deps.runner ?? processRunner(settings.env));
  const context = await kubectl.pinCurrentContext();
  const selected = select(opts, settings, await kubectl.listSessionNamespaces());

  const failures: string[] = [];
  const logs: Record<string, string> = {};
  const refusals: Record<string, RefusalReport> = {};
  for (const ns of selected) {
    if (ns.terminating) continue;
    const dir = sessionDirOf(settings, ns.session);
    // The agent goes first, while its proxy's log is read (as compose's stop does).
    const [agentFailures, saved] = await Promise.all([
      deleteAgentPod(kubectl, ns.session),
      saveProxyLog(kubectl, ns.session, {
        dir: existsSync(dir) ? dir : undefined,
        decisions: ns.project ? decisionContext(settings, { id: ns.session, project: ns.project, observe: ns.observe }) : undefined,
        maxBytes: settings.egressLog.maxBytes,
        timeoutMs: settings.egressLog.readMs,
      }),
    ]);
    failures.push(...agentFailures, ...saved.failures);
    if (saved.logPath) logs[ns.session] = saved.logPath;
    if (saved.refusals) refusals[ns.session] = saved.refusals;
    const denials = denialReport(saved.refusals, allowlistHintFiles(settings, ns.project));
    if (denials && !ctx.json) ctx.err(`${ns.session}:\n${denials}`);
  }
  failures.push(...(await deleteSessions(kubectl, selected.map((n) => n.session))));

  if (!ctx.json) {
    for (const ns of selected) ctx.out(`stopped ${ns.session} (namespace ${ns.name} on context ${context})`);
    if (selected.length === 0) ctx.out('no drydock sessions to stop');
    for (const f of failures) ctx.err(`drydock: ${f}`);
  }
  return {
    exitCode: failures.length ? ExitCode.External : ExitCode.Ok,
    data: { target: 'kubernetes', context, stopped: selected.map((n) => n.session), namespaces: selected.map((n) => n.name), egressLogs: logs, refusals, failures },
  };
}
