/**
 * `drydock run [-- CMD…]`: start a session (the agent, plus the egress sidecar in contained mode),
 * run the command in the agent with the terminal handed over, and tear the session down on every
 * way out: the command's exit, SIGINT, SIGTERM, SIGHUP, or a failed start.
 *
 * In named phases: prepare (settings, compose, the shared prerequisites: lib/session/prepare.ts) → create (session id,
 * rendered files, session.json) → start and run the command → tear down → finish. The middle
 * phase ends in exactly one `RunOutcome`; `finish` alone turns it into the exit code or the error.
 */
import { rmdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import type { CommandContext, CommandResult } from '../context.js';
import { Docker } from '../docker/client.js';
import { describeCompose, type ComposeFlavour } from '../docker/compose.js';
import type { ComposeVersionCache } from '../docker/compose-cache.js';
import { processRunner, type CommandRunner } from '../docker/runner.js';
import { DrydockError, ExitCode, ExternalError, errorMessage } from '../errors.js';
import { templatesDir } from '../paths.js';
import { renderSessionFiles, type RenderedSession } from '../render/session-files.js';
import { composeErrorLines, sessionBanner, sidecarNeverHealthy, timingLines, type RunTiming } from '../session/banner.js';
import { Interrupted, SessionGuard } from '../session/guard.js';
import { writeSessionMetadata, type SessionMetadata } from '../session/metadata.js';
import { reserveSessionDir } from '../session/dirs.js';
import { pickSessionId } from '../session/pick-id.js';
import { SIGNAL_EXIT_CODE, processSignals, type SignalSource, type TerminationSignal } from '../session/signals.js';
import { teardownSession, type TeardownResult } from '../session/teardown.js';
import type { SelfTestReport } from '../selftest/checks.js';
import { addUnsafeTestOverlay, runSelfTest, selfTestFailureLine, selfTestSessionOf } from '../selftest/session.js';
import { composeUpProving } from '../selftest/early.js';
import type { ComposeFile } from '../render/compose-types.js';
import { decisionContext } from '../session/save-log.js';
import { formatDenialSummary } from '../egress/refusals.js';
import { escapeControls } from '../terminal-text.js';
import { allowlistHintFiles, resolveSettings, sessionDirOf, type Settings } from '../settings.js';
import { guardBannerLine, workspaceReportLines } from '../workspace/report.js';
import {
  finishWorkspaceGuard, forgetGuardStart, guardBindMounts, quarantineDirOf, saveGuardStart, startWorkspaceGuard,
  type WorkspaceGuardStart, type WorkspaceReport,
} from '../workspace/session-guard.js';
import { agentBannerLines } from '../agent/banner.js';
import { prepareAgent, type AgentDeps, type AgentFlags, type PreparedAgent } from '../agent/session.js';
import { composeCacheOf, prepareRun } from '../session/prepare.js';
import { ensureAgentHome } from '../agent/state.js';

export interface RunOptions extends AgentFlags {
  project?: string;
  mode?: string;
  observe?: boolean;
  json?: boolean;
  /** false: `--no-workspace-guard` (the agent may rewrite .git/config, hooks and auto-run files). */
  workspaceGuard?: boolean;
  cmd: string[];
  /** compose (the default) or kubernetes. */
  target?: string;
}

export interface RunDeps extends AgentDeps {
  runner?: CommandRunner;
  signals?: SignalSource;
  clock?: Clock;
  /** Whether to give the command a terminal (`docker exec -it`); default: stdin and the command's output stream are TTYs. */
  tty?: boolean;
  random?: () => string;
  hostname?: string;
  pid?: number;
  /**
   * TEST-ONLY SEAM, never set in production: an extra compose file merged over the rendered session
   * AFTER its invariants were checked, so an e2e test can break the jail on purpose and see the
   * start-up self-test refuse it. Reachable only by calling `run()` from code: lib/cli.ts passes no
   * deps at all, and no flag or variable sets it.
   */
  unsafeTestOverlay?: ComposeFile;
  /** Where Compose v1's version is remembered (default: the state dir's compose-version.json). */
  composeCache?: ComposeVersionCache;
}

/** The command to run in the agent: `-- CMD…`, else `DRYDOCK_AGENT_COMMAND` (settings.agentCommand), else `claude`. */
export function agentCommand(cmd: readonly string[], configured: readonly string[]): string[] {
  if (cmd.length > 0) return [...cmd];
  return configured.length > 0 ? [...configured] : ['claude'];
}

/** How the session ended: the one value `finish` turns into an exit code or an error. */
export type RunOutcome =
  | { kind: 'exited'; code: number }
  | { kind: 'interrupted'; signal: TerminationSignal }
  | { kind: 'start-failed'; output: string }
  | { kind: 'self-test-failed'; report: SelfTestReport }
  | { kind: 'failed'; error: unknown };

interface Session {
  id: string;
  dir: string;
  rendered: RenderedSession;
  metadata: SessionMetadata;
  workspace: WorkspaceGuardStart;
}

function startFailure(rendered: RenderedSession, output: string, teardown: TeardownResult | undefined): ExternalError {
  const logTail = (teardown?.egressLog.lastLines ?? []).filter((l) => l.trim() !== '').map((l) => `  ${escapeControls(l)}`);
  const details = composeErrorLines(output).map((l) => `  ${l}`);
  if (rendered.mode === 'contain' && sidecarNeverHealthy(output)) {
    return new ExternalError(
      ['the egress sidecar never became healthy; the agent was not started', ...details,
        ...(logTail.length ? ['last sidecar log lines:', ...logTail] : [])].join('\n'),
      { hint: `its full log is in ${join(rendered.outDir, 'egress.log')}; \`drydock doctor\` checks the engine and the sidecar image` },
    );
  }
  const agentImageMissing = output.includes(rendered.agentImage) && /pull access denied|not found|no such image|manifest unknown/i.test(output);
  return new ExternalError(['compose up failed; the session was torn down', ...details, ...logTail].join('\n'), {
    hint: agentImageMissing
      ? `the agent image ${rendered.agentImage} is missing: build it with docker build -t ${rendered.agentImage} ${join(templatesDir(), 'agent')}`
      : 'run `drydock doctor` to check the engine, compose and images',
  });
}

/** Timing is best effort: an engine error there is not worth failing the session for; a bug is. */
function onlyDrydockErrors(error: unknown): undefined {
  if (error instanceof DrydockError) return undefined;
  throw error;
}

/** Phase 2: a session id no one uses, its files rendered all-or-nothing, and session.json. */
async function createSession(settings: Settings, docker: Docker, observe: boolean, deps: RunDeps, clock: Clock, agent: PreparedAgent): Promise<Session> {
  const id = await pickSessionId({
    project: settings.project,
    existingContainers: (names) => docker.existingContainers(names),
    reserveSessionDir: (candidate) => reserveSessionDir(sessionDirOf(settings, candidate)),
    releaseSessionDir: (candidate) => rmdirSync(sessionDirOf(settings, candidate)),
    random: deps.random,
  });
  const dir = sessionDirOf(settings, id);
  let rendered: RenderedSession;
  // Wall-clock time, not the injected clock: the end-of-session scan compares it with file ctimes.
  const workspace = startWorkspaceGuard({ projectDir: settings.cwd, enabled: settings.workspaceGuard, nowMs: Date.now() });
  try {
    const workspaceMounts = guardBindMounts(workspace, { projectDir: resolve(settings.cwd), sessionDir: dir });
    rendered = renderSessionFiles({ settings, observe, sessionId: id, outDir: dir, workspaceMounts, agent: agent.request });
    if (rendered.agentHome) ensureAgentHome(rendered.agentHome, rendered.agentUser, { uid: deps.hostIds?.uid ?? process.getuid?.() ?? 0 });
  } catch (error) {
    // Nothing was written (the render is all-or-nothing): give back the reserved, empty directory.
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const metadata: SessionMetadata = {
    id, project: settings.project, mode: settings.mode, observe,
    createdAt: new Date(clock.now()).toISOString(),
    pid: deps.pid ?? process.pid,
    hostname: deps.hostname ?? hostname(),
  };
  writeSessionMetadata(dir, metadata);
  saveGuardStart(workspace, dir);
  return { id, dir, rendered, metadata, workspace };
}

interface StartContext {
  settings: Settings;
  docker: Docker;
  session: Session;
  compose: ComposeFlavour;
  guard: SessionGuard;
  ctx: CommandContext;
  cmd: string[];
  /** Credential names handed to `docker exec -e NAME` (never values). */
  passEnv: string[];
  tty: boolean;
  clock: Clock;
  started: number;
}

/** Phase 3: compose up (the agent only after a healthy sidecar), the banner, the command. */
async function startAndRun(s: StartContext): Promise<{ outcome: RunOutcome; timing?: RunTiming; selfTest?: SelfTestReport }> {
  const { docker, session, guard, ctx } = s;
  const interrupted = (): RunOutcome | undefined => (guard.interruptedBy ? { kind: 'interrupted', signal: guard.interruptedBy } : undefined);
  let timing: RunTiming | undefined;
  let selfTest: SelfTestReport | undefined;
  try {
    ctx.err(`drydock: starting session ${session.id} (${s.settings.mode}${session.rendered.observe ? ', observe' : ''})…`);
    const contained = session.rendered.mode === 'contain';
    // In contained mode the self-test's namespace half runs while Compose starts the agent.
    const { up, composedAt, namespaceProbe } = await composeUpProving(docker, session.rendered, { cwd: session.dir, signal: guard.signal, now: () => s.clock.now() });
    const stopped = interrupted();
    if (stopped) return { outcome: stopped };
    if (up.code !== 0) return { outcome: { kind: 'start-failed', output: `${up.stderr}\n${up.stdout}` } };
    for (const line of sessionBanner(session.rendered, { compose: describeCompose(s.compose) })) ctx.err(line);
    for (const line of agentBannerLines(session.rendered, s.passEnv)) ctx.err(line);
    ctx.err(guardBannerLine({ enabled: session.workspace.enabled, protectedPaths: session.workspace.mounts.filter((m) => m.readOnly).map((m) => m.rel) }));
    let selfTestMs: number | undefined;
    if (contained) {
      // The jail proves itself before the command exists: any failed check and it never starts.
      // Its cost is what it adds after Compose returned (any wait for the early half included).
      selfTest = await runSelfTest(docker, selfTestSessionOf(session.rendered), namespaceProbe);
      selfTestMs = s.clock.now() - composedAt;
      const stopped = interrupted();
      if (stopped) return { outcome: stopped, selfTest };
      if (!selfTest.ok) return { outcome: { kind: 'self-test-failed', report: selfTest }, selfTest };
      ctx.err(`drydock: jail self-test passed (${selfTest.checks.length} checks: no default route, canary refused, host and NAT bridge unreachable, proxy variables on this session's sidecar)`);
    }
    if (s.settings.runTiming) {
      timing = { ...(await startTiming(docker, session.rendered, s.clock.now() - s.started)), selfTestMs, selfTestEarlyMs: namespaceProbe?.ms };
      for (const line of timingLines(timing)) ctx.err(line);
    }
    // With --json the command's stdout goes to stderr: drydock's stdout is its one document.
    const code = await docker.exec(session.rendered.agentContainer, s.cmd, { tty: s.tty, signal: guard.signal, stdoutToStderr: ctx.json, passEnv: s.passEnv });
    return { outcome: interrupted() ?? { kind: 'exited', code }, timing, selfTest };
  } catch (error) {
    if (error instanceof Interrupted) return { outcome: { kind: 'interrupted', signal: error.signal } };
    return { outcome: interrupted() ?? { kind: 'failed', error }, timing, selfTest };
  }
}

async function startTiming(docker: Docker, rendered: RenderedSession, toAgentMs: number): Promise<RunTiming> {
  if (!rendered.egressContainer) return { toAgentMs };
  const health = await docker.healthTimeline(rendered.egressContainer).catch(onlyDrydockErrors);
  return { toAgentMs, createToHealthyMs: health?.createToHealthyMs, createToStartMs: health?.createToStartMs, approximate: health?.approximate };
}

/** Phase 4: on every way out. Each failure is reported; a drydock bug is the outcome's error if there was none. */
async function tearDown(settings: Settings, docker: Docker, session: Session, ctx: CommandContext, hurry: AbortSignal): Promise<{ teardown?: TeardownResult; bug?: unknown }> {
  try {
    const contained = settings.mode === 'contain';
    const teardown = await teardownSession({
      docker, sessionId: session.id, sessionDir: session.dir, contained,
      allowlistFiles: allowlistHintFiles(settings, settings.project),
      decisions: contained ? decisionContext(settings, { id: session.id, project: settings.project, observe: session.rendered.observe }) : undefined,
      hurry, logCap: settings.egressLog.maxBytes, logReadMs: settings.egressLog.readMs,
    });
    const summary = teardown.refusals ? formatDenialSummary(teardown.refusals.destinations, teardown.allowlistFiles, teardown.refusals) : '';
    if (summary && !ctx.json) ctx.err(summary);
    if (session.rendered.observe && teardown.egressLog.path) {
      ctx.err(`drydock: observe log saved to ${teardown.egressLog.path}; turn it into an allowlist with: drydock egress suggest ${session.id}`);
    }
    for (const f of teardown.failures) ctx.err(`drydock: teardown: ${f}`);
    return { teardown };
  } catch (error) {
    ctx.err(`drydock: teardown of ${session.id} failed: ${String(error)} — finish it with: drydock stop ${session.id}`);
    return { bug: error instanceof DrydockError ? undefined : error };
  }
}

/** The exit code an outcome stands for. */
export function outcomeExitCode(outcome: RunOutcome): number {
  switch (outcome.kind) {
    case 'exited': return outcome.code;
    case 'interrupted': return SIGNAL_EXIT_CODE[outcome.signal];
    default: return ExitCode.External;
  }
}

export async function run(opts: RunOptions, ctx: CommandContext, deps: RunDeps = {}): Promise<CommandResult> {
  if (opts.target === 'kubernetes') return (await import('../kubernetes/run.js')).runKubernetes(opts, ctx, deps);
  const clock = deps.clock ?? systemClock;
  const started = clock.now();
  const resolved = resolveSettings({ env: ctx.env, cwd: ctx.cwd, mode: opts.mode, project: opts.project });
  const settings: Settings = opts.workspaceGuard === false ? { ...resolved, workspaceGuard: false } : resolved;
  const observe = !!opts.observe;
  const agent = await prepareAgent({ env: settings.env, cwd: settings.cwd, project: settings.project, mode: settings.mode, flags: opts, deps });
  const docker = new Docker(deps.runner ?? processRunner(settings.env), { composeCache: deps.composeCache ?? composeCacheOf(settings) });
  const compose = await prepareRun(settings, docker, ctx, agent);
  const cmd = agentCommand(opts.cmd, settings.agentCommand);
  const session = await createSession(settings, docker, observe, deps, clock, agent);
  if (deps.unsafeTestOverlay) addUnsafeTestOverlay(session.rendered, deps.unsafeTestOverlay);
  for (const warning of session.rendered.warnings) ctx.err(`drydock: warning: ${warning}`);

  // A second signal cuts the log reading short; the removal still happens.
  const hurry = new AbortController();
  const guard = new SessionGuard(deps.signals ?? processSignals, (signal) => {
    ctx.err(`drydock: ${signal} received again; still tearing down session ${session.id}, please wait`);
    hurry.abort();
  });
  const output = ctx.json ? process.stderr : process.stdout;
  const tty = deps.tty ?? (!!process.stdin.isTTY && !!output.isTTY);
  let phase: Awaited<ReturnType<typeof startAndRun>>;
  let teardown: TeardownResult | undefined;
  try {
    phase = await startAndRun({ settings, docker, session, compose, guard, ctx, cmd, passEnv: agent.passEnv, tty, clock, started });
    const down = await tearDown(settings, docker, session, ctx, hurry.signal);
    teardown = down.teardown;
    // A signal that arrived during the teardown still decides the exit code.
    if (guard.interruptedBy && phase.outcome.kind !== 'interrupted') phase = { ...phase, outcome: { kind: 'interrupted', signal: guard.interruptedBy } };
    if (down.bug !== undefined && phase.outcome.kind !== 'failed' && phase.outcome.kind !== 'interrupted') {
      phase = { ...phase, outcome: { kind: 'failed', error: down.bug } };
    }
  } finally {
    guard.release();
  }
  const workspace = reportWorkspace(session, settings, ctx);
  return finish({ ctx, session, outcome: phase.outcome, timing: phase.timing, selfTest: phase.selfTest, teardown, clock, workspace });
}

/** After the teardown nothing can write the project any more: what did the session leave there? */
function reportWorkspace(session: Session, settings: Settings, ctx: CommandContext): WorkspaceReport | undefined {
  try {
    const report = finishWorkspaceGuard(session.workspace, { quarantineDir: quarantineDirOf(settings.dirs.state, session.id) });
    forgetGuardStart(session.dir);
    for (const line of workspaceReportLines(report)) ctx.err(line);
    return report;
  } catch (error) {
    ctx.err(`drydock: could not check the project for files the session planted: ${errorMessage(error)}`);
    return undefined;
  }
}

/** Phase 5: session.json gets the end, and the one outcome becomes the result or the error. */
function finish(f: { ctx: CommandContext; session: Session; outcome: RunOutcome; timing?: RunTiming; selfTest?: SelfTestReport; teardown?: TeardownResult; clock: Clock; workspace?: WorkspaceReport }): CommandResult {
  const { ctx, session, outcome, teardown } = f;
  const exitCode = outcomeExitCode(outcome);
  if (outcome.kind === 'interrupted') ctx.err(`drydock: session ${session.id} stopped by ${outcome.signal}`);
  try {
    writeSessionMetadata(session.dir, { ...session.metadata, endedAt: new Date(f.clock.now()).toISOString(), exitCode });
  } catch (error) {
    ctx.err(`drydock: could not update ${session.dir}/session.json: ${String(error)}`);
  }
  if (outcome.kind === 'failed') throw outcome.error;
  if (outcome.kind === 'start-failed') throw startFailure(session.rendered, outcome.output, teardown);
  if (outcome.kind === 'self-test-failed') {
    throw new ExternalError(`the jail self-test failed, so the command was not started and session ${session.id} was torn down — ${selfTestFailureLine(outcome.report)}`, {
      hint: 'the jail on this engine is not what drydock rendered: nothing of the session is left; check the engine with `drydock doctor`',
    });
  }
  return {
    exitCode,
    data: {
      sessionId: session.id, mode: session.rendered.mode, observe: session.rendered.observe, exitCode, sessionDir: session.dir,
      interruptedBy: outcome.kind === 'interrupted' ? outcome.signal : null,
      egressLog: teardown?.egressLog.path ?? null,
      egressDecisions: teardown?.egressLog.decisionsPath ?? null,
      refusals: teardown?.refusals ?? null,
      teardownFailures: teardown?.failures ?? [],
      timing: f.timing ?? null,
      selfTest: f.selfTest ?? null,
      workspace: f.workspace ?? null,
    },
  };
}

