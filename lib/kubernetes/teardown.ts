/**
 * Tearing kubernetes sessions down: keep the proxy's log (the same tinyproxy log the compose
 * sidecar writes, so `egress log` and the denial summary read it unchanged), then delete the
 * sessions' namespaces by label. Every step is attempted even when an earlier one failed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatDenialSummary, parseTinyproxyLog, summarizeDenials, type AllowlistFiles } from '../egress/log.js';
import { DrydockError, errorMessage } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { EGRESS_LOG_FILE } from '../session/metadata.js';
import type { Kubectl } from './kubectl.js';
import { PROXY_CONTAINER, PROXY_POD, namespaceName } from './names.js';

export interface KubernetesTeardown {
  /** The proxy's log text, when its Pod still existed. */
  logText?: string;
  logPath?: string;
  failures: string[];
}

/** The human summary of what the proxy refused; '' when nothing was. */
export function denialReport(logText: string | undefined, files?: AllowlistFiles): string {
  if (!logText) return '';
  return formatDenialSummary(summarizeDenials(parseTinyproxyLog(logText)), files);
}

export async function saveProxyLog(kubectl: Kubectl, sessionId: string, dir: string | undefined): Promise<KubernetesTeardown> {
  const failures: string[] = [];
  let logText: string | undefined;
  try {
    logText = await kubectl.logs(namespaceName(sessionId), PROXY_POD, PROXY_CONTAINER);
  } catch (error) {
    if (!(error instanceof DrydockError)) throw error;
    failures.push(`could not read the proxy's log (${PROXY_POD} in ${namespaceName(sessionId)}): ${errorMessage(error).split('\n')[0]}`);
  }
  if (logText === undefined || !dir || !existsSync(dir)) return { logText, failures };
  const path = join(dir, EGRESS_LOG_FILE);
  try {
    writeFileAtomic(path, logText);
    return { logText, logPath: path, failures };
  } catch (error) {
    failures.push(`could not save the proxy's log to ${path}: ${errorMessage(error)}`);
    return { logText, failures };
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

export async function teardownKubernetesSession(kubectl: Kubectl, sessionId: string, dir: string | undefined): Promise<KubernetesTeardown> {
  const saved = await saveProxyLog(kubectl, sessionId, dir);
  const failures = [...saved.failures, ...(await deleteSessions(kubectl, [sessionId]))];
  return { ...saved, failures };
}
