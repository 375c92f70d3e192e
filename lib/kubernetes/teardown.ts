/**
 * Tearing kubernetes sessions down: keep the proxy's log (the same tinyproxy log the compose
 * sidecar writes, so `egress log` and the denial summary read it unchanged), then delete the
 * sessions' namespaces by label. Every step is attempted even when an earlier one failed.
 *
 * The log is read as the compose sidecar's is (lib/session/save-log.ts, the same code): streamed
 * from `kubectl logs --timestamps`, never held whole — an agent can flood its proxy's log — into a
 * capped egress.log (its first and last part) and egress-decisions.jsonl, the refusal summary
 * computed on the way, the reading time-boxed; the namespace is deleted whatever the reading did.
 * As in compose, the agent goes first, while the log is read: it loses its egress (and stops
 * adding to the log) when the session ends, not when a long log has been read.
 */
import type { DecisionContext } from '../egress/decision.js';
import { formatDenialSummary, type AllowlistFiles, type RefusalReport } from '../egress/refusals.js';
import { DrydockError, errorMessage } from '../errors.js';
import { saveEgressLog, type LogSource, type SavedLog } from '../session/save-log.js';
import type { Kubectl } from './kubectl.js';
import { AGENT_POD, PROXY_CONTAINER, PROXY_POD, namespaceName } from './names.js';

export interface KubernetesTeardown {
  /** What the proxy refused; undefined when its Pod was already gone. */
  refusals?: RefusalReport;
  /** The saved egress.log, when the session dir existed and the Pod had a log. */
  logPath?: string;
  /** Set when the cap left part of the log out of egress.log. */
  omitted?: SavedLog['omitted'];
  failures: string[];
}

export interface ProxyLogOptions {
  /** The session dir; without it only the summary is made. */
  dir?: string;
  /** For egress-decisions.jsonl (the allowlist entries, the project list). */
  decisions?: DecisionContext;
  /** Each saved file's cap, and how long the log is read (settings.egressLog). */
  maxBytes?: number;
  timeoutMs?: number;
  /** Ends the reading early (a second Ctrl-C): the deletion still follows. */
  signal?: AbortSignal;
}

/** The human summary of what the proxy refused; '' when nothing was. */
export function denialReport(refusals: RefusalReport | undefined, files?: AllowlistFiles): string {
  return refusals ? formatDenialSummary(refusals.destinations, files, refusals) : '';
}

/** The proxy Pod's log as a log source of the shared reader. */
export function proxyLogSource(kubectl: Kubectl, sessionId: string): LogSource {
  const namespace = namespaceName(sessionId);
  return { streamLogs: (_name, options) => kubectl.streamLogs(namespace, PROXY_POD, PROXY_CONTAINER, options) };
}

export async function saveProxyLog(kubectl: Kubectl, sessionId: string, options: ProxyLogOptions = {}): Promise<KubernetesTeardown> {
  const saved = await saveEgressLog({
    docker: proxyLogSource(kubectl, sessionId),
    container: `${PROXY_POD} in ${namespaceName(sessionId)}`,
    dir: options.dir,
    decisions: options.decisions,
    maxBytes: options.maxBytes,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });
  return { refusals: saved.refusals, logPath: saved.path, omitted: saved.omitted, failures: saved.error ? [saved.error] : [] };
}

/** The agent Pod, deleted without waiting (the namespace's deletion follows); a failure is reported. */
export async function deleteAgentPod(kubectl: Kubectl, sessionId: string): Promise<string[]> {
  try {
    await kubectl.deletePod(namespaceName(sessionId), AGENT_POD);
    return [];
  } catch (error) {
    if (!(error instanceof DrydockError)) throw error;
    return [`could not delete the agent Pod before reading the proxy's log: ${errorMessage(error).split('\n')[0]}`];
  }
}

/** Deletes by label; a failure is reported with the command that finishes the job by hand. */
export async function deleteSessions(kubectl: Kubectl, sessionIds: readonly string[]): Promise<string[]> {
  try {
    await kubectl.deleteSessions(sessionIds);
    return [];
  } catch (error) {
    if (!(error instanceof DrydockError)) throw error;
    const context = kubectl.contextName ? ` --context ${kubectl.contextName}` : '';
    return [`${errorMessage(error).split('\n')[0]} — finish it with: kubectl${context} delete namespace -l 'drydock.session in (${sessionIds.join(',')})'`];
  }
}

/**
 * Delete the agent while the log is saved, then delete the namespace — also when the reader failed
 * (its bug surfaces after).
 */
export async function teardownKubernetesSession(kubectl: Kubectl, sessionId: string, options: ProxyLogOptions = {}): Promise<KubernetesTeardown> {
  let readerBug: unknown;
  const [agentFailures, saved] = await Promise.all([
    deleteAgentPod(kubectl, sessionId).catch((error: unknown) => [`could not delete the agent Pod: ${errorMessage(error).split('\n')[0]}`]),
    saveProxyLog(kubectl, sessionId, options).catch((error: unknown): KubernetesTeardown => {
      readerBug = error;
      return { failures: [`reading the proxy's log failed: ${errorMessage(error).split('\n')[0]}`] };
    }),
  ]);
  const failures = [...agentFailures, ...saved.failures, ...(await deleteSessions(kubectl, [sessionId]))];
  if (readerBug !== undefined) throw readerBug;
  return { ...saved, failures };
}
