/**
 * `drydock stop SESSION | --project NAME | --all`: find the session's containers and networks by
 * label, keep the sidecar's log in the session dir, remove everything. A dood session, or one whose
 * sidecar is already gone, stops the same way.
 */
import { existsSync } from 'node:fs';
import type { CommandContext, CommandResult } from '../context.js';
import { Docker } from '../docker/client.js';
import { processRunner, type CommandRunner } from '../docker/runner.js';
import { ExitCode, NegativeAnswer, UsageError } from '../errors.js';
import { validateSessionId } from '../session/id.js';
import { containersOf, describeSession, groupSessions, type SessionView } from '../session/model.js';
import { formatDenialSummary, type RefusalReport } from '../egress/refusals.js';
import { removeObjects, type RemovalOutcome } from '../session/removal.js';
import { decisionContext, saveEgressLog } from '../session/save-log.js';
import { allowlistHintFiles, requireSettings, resolveSettings, sessionDirOf, type Settings } from '../settings.js';

export interface StopOptions {
  session?: string;
  project?: string;
  all?: boolean;
  json?: boolean;
  /** compose (the default) or kubernetes. */
  target?: string;
}

export interface StopDeps {
  runner?: CommandRunner;
}

function select(opts: StopOptions, settings: Settings, sessions: SessionView[]): SessionView[] {
  const live = sessions.map((s) => `  ${describeSession(s)}`).join('\n');
  const listing = sessions.length ? `sessions:\n${live}` : 'there are no drydock sessions';
  if (opts.all) return sessions;
  if (opts.session !== undefined) {
    const found = sessions.filter((s) => s.id === opts.session);
    if (found.length === 0) {
      throw new NegativeAnswer(`no session "${opts.session}"\n${listing}`, { hint: 'stop one of these by id, or all with --all' });
    }
    return found;
  }
  const { project } = settings;
  const found = sessions.filter((s) => s.project === project);
  if (found.length === 0) {
    throw new NegativeAnswer(`no session of project "${project}"\n${listing}`, { hint: 'stop one of these by id, or all with --all' });
  }
  return found;
}

export async function stop(opts: StopOptions, ctx: CommandContext, deps: StopDeps = {}): Promise<CommandResult> {
  if (opts.target === 'kubernetes') return (await import('../kubernetes/stop.js')).stopKubernetes(opts, ctx, deps);
  const given = [opts.session !== undefined, opts.project !== undefined, !!opts.all].filter(Boolean).length;
  if (given !== 1) {
    throw new UsageError('say which sessions to stop: exactly one of SESSION, --project NAME or --all', {
      hint: 'drydock stop myapp-3f9a   |   drydock stop --project myapp   |   drydock stop --all',
    });
  }
  if (opts.session !== undefined) validateSessionId(opts.session);

  const settings = resolveSettings({ env: ctx.env, cwd: ctx.cwd, project: opts.project });
  requireSettings(settings, 'egressLog');
  const docker = new Docker(deps.runner ?? processRunner(settings.env));
  const selected = select(opts, settings, groupSessions(await docker.listSessionState()));
  const failures: string[] = [];
  const logs: Record<string, string> = {};
  const decisionLogs: Record<string, string> = {};
  const refusals: Record<string, RefusalReport> = {};
  // The agents go first, while the logs are read: none keeps its egress while a long log is read.
  const sidecars = selected.flatMap((v) => (v.egress ? [v.egress] : []));
  const agents = selected.flatMap(containersOf).filter((c) => !sidecars.some((s) => s.id === c.id));
  const readLogs = async () => {
    for (const view of selected) {
      if (!view.egress) continue;
      const dir = sessionDirOf(settings, view.id);
      const saved = await saveEgressLog({
        docker, container: view.egress.name, dir: existsSync(dir) ? dir : undefined,
        decisions: view.project ? decisionContext(settings, { id: view.id, project: view.project, observe: view.observe }) : undefined,
        maxBytes: settings.egressLog.maxBytes, timeoutMs: settings.egressLog.readMs,
      });
      if (saved.error) failures.push(saved.error);
      if (saved.path) logs[view.id] = saved.path;
      if (saved.decisionsPath) decisionLogs[view.id] = saved.decisionsPath;
      if (saved.refusals) refusals[view.id] = saved.refusals;
      const denials = saved.refusals ? formatDenialSummary(saved.refusals.destinations, allowlistHintFiles(settings, view.project), saved.refusals) : '';
      if (denials && !ctx.json) ctx.err(`${view.id}:\n${denials}`);
    }
  };
  let early: RemovalOutcome = { removedContainers: [], removedNetworks: [], failures: [] };
  if (sidecars.length > 0) {
    [early] = await Promise.all([removeObjects({ docker, containers: agents, networks: [] }), readLogs()]);
  }
  const removal = await removeObjects({
    docker,
    containers: sidecars.length > 0 ? sidecars : selected.flatMap(containersOf),
    networks: selected.flatMap((v) => v.networks),
  });
  removal.removedContainers.unshift(...early.removedContainers);
  failures.push(...early.failures, ...removal.failures);

  if (!ctx.json) {
    for (const view of selected) {
      const parts = containersOf(view).map((c) => c.name);
      ctx.out(`stopped ${view.id}${parts.length || view.networks.length ? ` (${[...parts, ...view.networks.map((n) => n.name)].join(', ')})` : ''}`);
    }
    if (selected.length === 0) ctx.out('no drydock sessions to stop');
    for (const f of failures) ctx.err(`drydock: ${f}`);
  }
  return {
    exitCode: failures.length ? ExitCode.External : ExitCode.Ok,
    data: {
      stopped: selected.map((v) => v.id),
      removed: { containers: removal.removedContainers, networks: removal.removedNetworks },
      egressLogs: logs,
      egressDecisions: decisionLogs,
      refusals,
      failures,
    },
  };
}
