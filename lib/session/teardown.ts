/**
 * Tearing a session down: keep the sidecar's log, then remove everything carrying the session's
 * label. Every step is attempted even when an earlier one failed; each failure is reported with
 * the command that finishes the job by hand.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Docker } from '../docker/client.js';
import type { ContainerRecord, NetworkRecord } from '../docker/listing.js';
import { formatDenialSummary, parseTinyproxyLog, summarizeDenials, type AllowlistFiles } from '../egress/log.js';
import { DrydockError } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { agentContainerName, egressContainerName, internalNetworkName } from '../names.js';
import { EGRESS_LOG_FILE } from './metadata.js';
import { containersOf, groupSessions } from './model.js';
import { removeObjects, type RemovalOutcome } from './removal.js';

const message = (error: unknown): string => (error instanceof Error ? error.message.split('\n')[0]! : String(error));

export interface SavedLog {
  /** The sidecar's log text, when the sidecar still existed. */
  text?: string;
  path?: string;
  error?: string;
}

/** `docker logs` of the sidecar into `<dir>/egress.log` (only when the session dir exists). */
export async function saveEgressLog(options: { docker: Docker; container: string; dir?: string }): Promise<SavedLog> {
  let text: string | undefined;
  try {
    text = await options.docker.logs(options.container);
  } catch (error) {
    if (!(error instanceof DrydockError)) throw error;
    return { error: `could not read the sidecar's log (${options.container}): ${message(error)}` };
  }
  if (text === undefined) return {};
  if (!options.dir || !existsSync(options.dir)) return { text };
  const path = join(options.dir, EGRESS_LOG_FILE);
  try {
    writeFileAtomic(path, text);
    return { text, path };
  } catch (error) {
    return { text, error: `could not save the sidecar's log to ${path}: ${message(error)}` };
  }
}

/** The human summary of what the sidecar refused; '' when nothing was. */
export function denialReport(logText: string | undefined, files?: AllowlistFiles): string {
  if (!logText) return '';
  return formatDenialSummary(summarizeDenials(parseTinyproxyLog(logText)), files);
}

export interface TeardownResult extends RemovalOutcome {
  egressLog: SavedLog;
  denials: string;
}

/**
 * Everything labelled with the session goes. If the engine cannot even list the session, the
 * names drydock gave are removed instead, so a listing failure never leaves a sidecar running.
 */
export async function teardownSession(options: {
  docker: Docker;
  sessionId: string;
  sessionDir?: string;
  contained: boolean;
  /** Named in the denial summary's "add a line to …" hint. */
  allowlistFiles?: AllowlistFiles;
}): Promise<TeardownResult> {
  const { docker, sessionId } = options;
  const failures: string[] = [];
  let containers: Array<Pick<ContainerRecord, 'id' | 'name'>>;
  let networks: Array<Pick<NetworkRecord, 'id' | 'name'>>;
  let egressName: string | undefined = options.contained ? egressContainerName(sessionId) : undefined;
  try {
    const [view] = groupSessions(await docker.listSessionState({ session: sessionId }));
    containers = view ? containersOf(view) : [];
    networks = view?.networks ?? [];
    egressName = view?.egress?.name ?? (view ? undefined : egressName);
  } catch (error) {
    if (!(error instanceof DrydockError)) throw error;
    failures.push(`could not list the session's containers by label (${message(error)}); removing them by name`);
    const byName = (name: string) => ({ id: name, name });
    containers = [agentContainerName(sessionId), ...(options.contained ? [egressContainerName(sessionId)] : [])].map(byName);
    networks = options.contained ? [byName(internalNetworkName(sessionId))] : [];
  }

  const egressLog = egressName ? await saveEgressLog({ docker, container: egressName, dir: options.sessionDir }) : {};
  if (egressLog.error) failures.push(egressLog.error);
  const removal = await removeObjects({ docker, containers, networks });
  return { ...removal, failures: [...failures, ...removal.failures], egressLog, denials: denialReport(egressLog.text, options.allowlistFiles) };
}
