/**
 * `drydock run --target kubernetes [-- CMD…]`: a session on kubectl's current context.
 *   1. render and check every manifest of the proxy side into the session directory;
 *   2. apply the proxy side (namespace, policies, ConfigMap, proxy Pod, Service), wait until the
 *      proxy Pod is Ready;
 *   3. render the agent side with the Service's address; run the NetworkPolicy probe: a cluster
 *      that does not enforce policies gets no agent;
 *   4. apply the agent Pod, wait until Ready, `kubectl exec` the command with the terminal;
 *   5. on every way out (the command's exit, a signal, a failure or a timeout at any step):
 *      save the proxy's log and delete the session's namespace by label.
 * A step that fails or times out ends the session with exit 3, and nothing of it stays behind.
 */
import { rmdirSync, rmSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { systemClock } from '../clock.js';
import type { CommandContext, CommandResult, Env } from '../context.js';
import { agentCommand, type RunDeps, type RunOptions } from '../commands/run.js';
import { processRunner } from '../docker/runner.js';
import { DrydockError, ExitCode, ExternalError, UsageError } from '../errors.js';
import { NOT_A_JAIL } from '../session/banner.js';
import { Interrupted, SessionGuard } from '../session/guard.js';
import { writeSessionMetadata, type SessionMetadata } from '../session/metadata.js';
import { decisionContext } from '../session/save-log.js';
import { reserveSessionDir } from '../session/dirs.js';
import { pickSessionId } from '../session/pick-id.js';
import { SIGNAL_EXIT_CODE, processSignals } from '../session/signals.js';
import { allowlistHintFiles, requireSettings, resolveSettings, sessionDirOf } from '../settings.js';
import { Kubectl } from './kubectl.js';
import { AGENT_CONTAINER, AGENT_POD, PROXY_POD, PROXY_SERVICE, assertKubernetesSessionId, namespaceName } from './names.js';
import { probeNetworkPolicy } from './probe.js';
import { assertContainedMode, checkedDocuments, kubernetesSession, manifestYaml, writeManifests, type KubernetesSession } from './render.js';
import { denialReport, teardownKubernetesSession, type KubernetesTeardown } from './teardown.js';

export interface KubernetesRunDeps extends RunDeps {
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_TIMEOUT_S = 120;

/** `DRYDOCK_KUBERNETES_TIMEOUT_SECONDS`: how long each wait (proxy Ready, probe, agent Ready) may take. */
export function kubernetesTimeoutSeconds(env: Env): number {
  const raw = env.DRYDOCK_KUBERNETES_TIMEOUT_SECONDS;
  if (raw === undefined || raw === '') return DEFAULT_TIMEOUT_S;
  if (!/^[0-9]{1,5}$/.test(raw) || Number(raw) === 0) {
    throw new UsageError(`DRYDOCK_KUBERNETES_TIMEOUT_SECONDS: "${raw}" is not a positive whole number of seconds`, { hint: `set it to e.g. ${DEFAULT_TIMEOUT_S}, or unset it` });
  }
  return Number(raw);
}

function banner(session: KubernetesSession, context: string): string[] {
  const lines = [`drydock: session ${session.spec.sessionId} · target kubernetes · context ${context} · namespace ${session.namespace}`];
  for (const source of session.allowlist.sources) {
    lines.push(`drydock: allowlist ${source.kind}: ${source.path} — ${source.exists ? `${source.entries} entries` : 'not present'}`);
  }
  lines.push(`drydock: effective entries: ${session.allowlist.effectiveEntries}`);
  lines.push(`drydock: proxy image ${session.spec.egressImage} (pinned: ${session.egressImagePinned ? 'yes' : 'no'}) · agent image ${session.spec.agentImage}`);
  lines.push('drydock: the workspace is an empty volume in the Pod: the cluster cannot see this machine\'s project directory');
  if (session.spec.observe) lines.push(`drydock: ${NOT_A_JAIL}`);
  return lines;
}


const notStarted = (what: string, hint: string) => new ExternalError(`${what}; the agent was not started`, { hint });

export async function runKubernetes(opts: RunOptions, ctx: CommandContext, deps: KubernetesRunDeps = {}): Promise<CommandResult> {
  const clock = deps.clock ?? systemClock;
  const sleep = deps.sleep ?? ((ms: number) => delay(ms));
  const settings = resolveSettings({ env: ctx.env, cwd: ctx.cwd, mode: opts.mode, project: opts.project });
  assertContainedMode(settings);
  requireSettings(settings, 'egressLog');
  const observe = !!opts.observe;
  const { project } = settings;
  assertKubernetesSessionId(`${project}-0000`);
  // The kubernetes target's own setting, read here in its command layer like the others in settings.ts.
  const timeoutS = kubernetesTimeoutSeconds(settings.env);
  const cmd = agentCommand(opts.cmd, settings.agentCommand);
  const kubectl = new Kubectl(deps.runner ?? processRunner(settings.env));
  const context = await kubectl.pinCurrentContext();

  const sessionId = await pickSessionId({
    project,
    // pickSessionId asks about drydock-<id> (and drydock-<id>-egress): the first is the namespace name.
    existingContainers: (names) => kubectl.existingNamespaces(names),
    reserveSessionDir: (id) => reserveSessionDir(sessionDirOf(settings, id)),
    releaseSessionDir: (id) => rmdirSync(sessionDirOf(settings, id)),
    random: deps.random,
  });
  const dir = sessionDirOf(settings, sessionId);
  const namespace = namespaceName(sessionId);
  let session: KubernetesSession;
  let proxyYaml: string;
  try {
    session = kubernetesSession({ settings, observe, sessionId });
    const docs = checkedDocuments(session.spec);
    writeManifests(session.spec, docs, dir);
    proxyYaml = manifestYaml(docs.proxy, `drydock session ${sessionId}: the proxy side`);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  for (const warning of session.warnings) ctx.err(`drydock: warning: ${warning}`);
  const metadata: SessionMetadata = {
    id: sessionId, project, mode: 'contain', observe,
    createdAt: new Date(clock.now()).toISOString(),
    pid: deps.pid ?? process.pid,
    hostname: deps.hostname ?? hostname(),
  };
  writeSessionMetadata(dir, metadata);

  // A second signal cuts the log reading short; the namespace is still deleted.
  const hurry = new AbortController();
  const guard = new SessionGuard(deps.signals ?? processSignals, (signal) => {
    ctx.err(`drydock: ${signal} received again; still tearing down session ${sessionId}, please wait`);
    hurry.abort();
  });
  const checkpoint = () => {
    if (guard.interruptedBy) throw new Interrupted(guard.interruptedBy);
  };
  let exitCode: number = ExitCode.External;
  let failure: unknown;
  let teardown: KubernetesTeardown | undefined;
  try {
    ctx.err(`drydock: starting session ${sessionId} (kubernetes, context ${context}${observe ? ', observe' : ''})…`);
    await kubectl.apply(proxyYaml, guard.signal);
    checkpoint();
    const proxy = await kubectl.waitReady(namespace, PROXY_POD, timeoutS, guard.signal);
    checkpoint();
    if (!proxy.ready) {
      throw notStarted(`the proxy Pod ${PROXY_POD} did not become Ready within ${timeoutS} s${proxy.output ? ` (${proxy.output})` : ''}`,
        `the cluster must be able to pull ${session.spec.egressImage}; \`kubectl -n ${namespace} describe pod ${PROXY_POD}\` says why (run again and look while it waits)`);
    }
    const address = await kubectl.serviceAddress(namespace, PROXY_SERVICE);
    if (isIP(address) === 0) throw notStarted(`the proxy Service has no cluster address ("${address}")`, 'a Service of type ClusterIP must get an address from the cluster');
    const agentSide = checkedDocuments(session.spec, address);
    writeManifests(session.spec, agentSide, dir);

    const probe = await probeNetworkPolicy({ kubectl, namespace, objects: agentSide.probe!, timeoutMs: timeoutS * 1000, now: () => clock.now(), sleep, signal: guard.signal });
    checkpoint();
    if (!probe.enforced) {
      throw notStarted(probe.reason, 'run sessions on a cluster whose network plugin enforces NetworkPolicy (e.g. Calico, Cilium), or use --target compose');
    }
    ctx.err(`drydock: ${probe.line}`);

    await kubectl.apply(manifestYaml(agentSide.agent!, `drydock session ${sessionId}: the agent`), guard.signal);
    checkpoint();
    const agent = await kubectl.waitReady(namespace, AGENT_POD, timeoutS, guard.signal);
    checkpoint();
    if (!agent.ready) {
      throw notStarted(`the agent Pod ${AGENT_POD} did not become Ready within ${timeoutS} s${agent.output ? ` (${agent.output})` : ''}`,
        `the cluster must be able to pull ${session.spec.agentImage} (DRYDOCK_AGENT_IMAGE)`);
    }
    for (const line of banner(session, context)) ctx.err(line);
    const tty = deps.tty ?? (!!process.stdin.isTTY && !!process.stdout.isTTY);
    exitCode = await kubectl.exec(namespace, AGENT_POD, AGENT_CONTAINER, cmd, { tty, signal: guard.signal });
    checkpoint();
  } catch (error) {
    if (!(error instanceof Interrupted)) failure = error;
  } finally {
    try {
      teardown = await teardownKubernetesSession(kubectl, sessionId, {
        dir, decisions: decisionContext(settings, { id: sessionId, project, observe }),
        maxBytes: settings.egressLog.maxBytes, timeoutMs: settings.egressLog.readMs, signal: hurry.signal,
      });
      const denials = denialReport(teardown.refusals, allowlistHintFiles(settings, project));
      if (denials && !ctx.json) ctx.err(denials);
      if (observe && teardown.logPath) {
        ctx.err(`drydock: observe log saved to ${teardown.logPath}; turn it into an allowlist with: drydock egress suggest ${sessionId}`);
      }
      for (const f of teardown.failures) ctx.err(`drydock: teardown: ${f}`);
    } catch (error) {
      ctx.err(`drydock: teardown of ${sessionId} failed: ${String(error)} — finish it with: drydock stop --target kubernetes ${sessionId}`);
      if (!(error instanceof DrydockError)) failure ??= error;
    }
    guard.release();
  }

  if (guard.interruptedBy) {
    exitCode = SIGNAL_EXIT_CODE[guard.interruptedBy];
    ctx.err(`drydock: session ${sessionId} stopped by ${guard.interruptedBy}`);
  } else if (failure !== undefined) {
    exitCode = ExitCode.External;
  }
  try {
    writeSessionMetadata(dir, { ...metadata, endedAt: new Date(clock.now()).toISOString(), exitCode });
  } catch (error) {
    ctx.err(`drydock: could not update ${dir}/session.json: ${String(error)}`);
  }
  if (!guard.interruptedBy && failure !== undefined) throw failure;
  return {
    exitCode,
    data: {
      sessionId, target: 'kubernetes', context, namespace, mode: 'contain', observe, exitCode, sessionDir: dir,
      interruptedBy: guard.interruptedBy ?? null,
      egressLog: teardown?.logPath ?? null,
      refusals: teardown?.refusals ?? null,
      teardownFailures: teardown?.failures ?? [],
    },
  };
}
