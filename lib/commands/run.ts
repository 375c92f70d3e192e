/**
 * `drydock run [-- CMD…]`: start a session (the agent, plus the egress sidecar in contained mode),
 * run the command in the agent with the terminal handed over, and tear the session down on every
 * way out: the command's exit, SIGINT, SIGTERM, SIGHUP, or a failed start.
 */
import { mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { CommandContext, CommandResult, Env } from '../context.js';
import { Docker } from '../docker/client.js';
import { describeCompose } from '../docker/compose.js';
import { COMPOSE_HINT } from '../docker/failure.js';
import { processRunner, type CommandRunner } from '../docker/runner.js';
import { DrydockError, ExitCode, ExternalError } from '../errors.js';
import { allowlistFilesOf, resolveProjectName, sessionDir, templatesDir } from '../paths.js';
import { DEFAULT_EGRESS_IMAGE, assertEgressImageAllowed, egressImage } from '../render/images.js';
import { resolveMode } from '../render/mode.js';
import { EGRESS_NETWORK } from '../render/names.js';
import { renderSessionFiles, type RenderedSession } from '../render/session.js';
import { composeErrorLines, lastLines, sessionBanner, sidecarNeverHealthy, timingLines, type RunTiming } from '../session/banner.js';
import { Interrupted, SessionGuard } from '../session/guard.js';
import { writeSessionMetadata, type SessionMetadata } from '../session/metadata.js';
import { pickSessionId } from '../session/pick-id.js';
import { SIGNAL_EXIT_CODE, processSignals, systemClock, type Clock, type SignalSource } from '../session/signals.js';
import { teardownSession, type TeardownResult } from '../session/teardown.js';

export interface RunOptions {
  project?: string;
  mode?: string;
  observe?: boolean;
  json?: boolean;
  cmd: string[];
  /** compose (the default) or kubernetes. */
  target?: string;
}

export interface RunDeps {
  runner?: CommandRunner;
  signals?: SignalSource;
  clock?: Clock;
  /** Whether to give the command a terminal (`docker exec -it`); default: stdin and stdout are TTYs. */
  tty?: boolean;
  random?: () => string;
  hostname?: string;
  pid?: number;
}

/** The command to run in the agent: `-- CMD…`, else `$DRYDOCK_AGENT_COMMAND` split on spaces, else `claude`. */
export function agentCommand(cmd: readonly string[], env: Env): string[] {
  if (cmd.length > 0) return [...cmd];
  const fromEnv = (env.DRYDOCK_AGENT_COMMAND ?? '').split(' ').filter((part) => part !== '');
  return fromEnv.length > 0 ? fromEnv : ['claude'];
}

/** The sidecar image must exist before compose up; drydock builds only its own default image. */
async function ensureEgressImage(docker: Docker, ctx: CommandContext): Promise<void> {
  const { image } = egressImage(ctx.env);
  if (await docker.imageExists(image)) return;
  if (image !== DEFAULT_EGRESS_IMAGE) {
    throw new ExternalError(`the egress sidecar image "${image}" (DRYDOCK_EGRESS_IMAGE) is not on the engine`, {
      hint: `pull or load it first (docker pull ${image}), or unset DRYDOCK_EGRESS_IMAGE to let drydock build ${DEFAULT_EGRESS_IMAGE}`,
    });
  }
  const base = ctx.env.DRYDOCK_EGRESS_BASE_IMAGE;
  const contextDir = join(templatesDir(), 'egress');
  ctx.err(`drydock: building the egress sidecar image ${image} from ${contextDir}${base ? ` (BASE=${base})` : ''}…`);
  await docker.buildImage({ tag: image, contextDir, buildArgs: base ? { BASE: base } : {} });
}

function startFailure(rendered: RenderedSession, output: string, teardown: TeardownResult | undefined): ExternalError {
  const logTail = lastLines(teardown?.egressLog.text).map((l) => `  ${l}`);
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

export async function run(opts: RunOptions, ctx: CommandContext, deps: RunDeps = {}): Promise<CommandResult> {
  if (opts.target === 'kubernetes') return (await import('../kubernetes/run.js')).runKubernetes(opts, ctx, deps);
  const clock = deps.clock ?? systemClock;
  const started = clock.now();
  const mode = resolveMode(opts.mode, ctx.env);
  const contained = mode === 'contain';
  const observe = !!opts.observe;
  const project = resolveProjectName(opts.project, ctx.cwd);
  if (contained) assertEgressImageAllowed(ctx.env);
  const cmd = agentCommand(opts.cmd, ctx.env);
  const docker = new Docker(deps.runner ?? processRunner(ctx.env));
  const compose = await docker.compose();
  if (compose.kind === 'none') throw new ExternalError(`no Compose found: ${compose.reason}`, { hint: COMPOSE_HINT });
  if (contained) {
    // Shared prerequisites first: a missing image or an engine that cannot make the bridge fails
    // here, before any session directory or session object exists.
    await ensureEgressImage(docker, ctx);
    await docker.ensureNetwork(EGRESS_NETWORK, { 'drydock.shared': 'egress' });
  }

  const sessionId = await pickSessionId({
    project,
    existingContainers: (names) => docker.existingContainers(names),
    reserveSessionDir: (id) => reserveDir(sessionDir(ctx.env, id)),
    releaseSessionDir: (id) => rmdirSync(sessionDir(ctx.env, id)),
    random: deps.random,
  });
  const dir = sessionDir(ctx.env, sessionId);
  let rendered: ReturnType<typeof renderSessionFiles>;
  try {
    rendered = renderSessionFiles({ env: ctx.env, cwd: ctx.cwd, project, mode, observe, sessionId, outDir: dir });
  } catch (error) {
    // Nothing was written (the render is all-or-nothing): give back the reserved, empty directory.
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  for (const warning of rendered.warnings) ctx.err(`drydock: warning: ${warning}`);
  const metadata: SessionMetadata = {
    id: sessionId, project, mode, observe,
    createdAt: new Date(clock.now()).toISOString(),
    pid: deps.pid ?? process.pid,
    hostname: deps.hostname ?? hostname(),
  };
  writeSessionMetadata(dir, metadata);

  const guard = new SessionGuard(deps.signals ?? processSignals, (signal) =>
    ctx.err(`drydock: ${signal} received again; still tearing down session ${sessionId}, please wait`),
  );
  const checkpoint = () => {
    if (guard.interruptedBy) throw new Interrupted(guard.interruptedBy);
  };
  let upOutput: string | undefined;
  let exitCode: number = ExitCode.External;
  let timing: RunTiming | undefined;
  let teardown: TeardownResult | undefined;
  let failure: unknown;
  try {
    ctx.err(`drydock: starting session ${sessionId} (${mode}${observe ? ', observe' : ''})…`);
    const up = await docker.composeUp({ project: rendered.composeProject, files: rendered.composeFiles, cwd: dir, signal: guard.signal });
    checkpoint();
    if (up.code !== 0) {
      upOutput = `${up.stderr}\n${up.stdout}`;
    } else {
      for (const line of sessionBanner(rendered, { compose: describeCompose(compose) })) ctx.err(line);
      const toAgentMs = clock.now() - started;
      if (ctx.env.DRYDOCK_RUN_TIMING === '1') {
        timing = { toAgentMs };
        if (rendered.egressContainer) {
          const health = await docker.healthTimeline(rendered.egressContainer).catch(onlyDrydockErrors);
          timing = { toAgentMs, createToHealthyMs: health?.createToHealthyMs, createToStartMs: health?.createToStartMs, approximate: health?.approximate };
        }
        for (const line of timingLines(timing)) ctx.err(line);
      }
      const tty = deps.tty ?? (!!process.stdin.isTTY && !!process.stdout.isTTY);
      exitCode = await docker.exec(rendered.agentContainer, cmd, { tty, signal: guard.signal });
      checkpoint();
    }
  } catch (error) {
    if (!(error instanceof Interrupted)) failure = error;
  } finally {
    try {
      teardown = await teardownSession({ docker, sessionId, sessionDir: dir, contained, allowlistFiles: allowlistFilesOf(ctx.env, project) });
      if (teardown.denials && !ctx.json) ctx.err(teardown.denials);
      if (observe && teardown.egressLog.path) {
        ctx.err(`drydock: observe log saved to ${teardown.egressLog.path}; turn it into an allowlist with: drydock egress suggest ${sessionId}`);
      }
      for (const f of teardown.failures) ctx.err(`drydock: teardown: ${f}`);
    } catch (error) {
      ctx.err(`drydock: teardown of ${sessionId} failed: ${String(error)} — finish it with: drydock stop ${sessionId}`);
      if (!(error instanceof DrydockError)) failure ??= error;
    }
    guard.release();
  }

  if (guard.interruptedBy) {
    exitCode = SIGNAL_EXIT_CODE[guard.interruptedBy];
    ctx.err(`drydock: session ${sessionId} stopped by ${guard.interruptedBy}`);
  } else if (failure !== undefined || upOutput !== undefined) {
    exitCode = ExitCode.External;
  }
  try {
    writeSessionMetadata(dir, { ...metadata, endedAt: new Date(clock.now()).toISOString(), exitCode });
  } catch (error) {
    ctx.err(`drydock: could not update ${dir}/session.json: ${String(error)}`);
  }
  if (!guard.interruptedBy && failure !== undefined) throw failure;
  if (!guard.interruptedBy && upOutput !== undefined) throw startFailure(rendered, upOutput, teardown);
  return {
    exitCode,
    data: {
      sessionId, mode, observe, exitCode, sessionDir: dir,
      interruptedBy: guard.interruptedBy ?? null,
      egressLog: teardown?.egressLog.path ?? null,
      teardownFailures: teardown?.failures ?? [],
      timing: timing ?? null,
    },
  };
}

/** An exclusive mkdir: true if this call created the directory, false if it already existed. */
function reserveDir(dir: string): boolean {
  mkdirSync(dirname(dir), { recursive: true });
  try {
    mkdirSync(dir, { mode: 0o755 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}
