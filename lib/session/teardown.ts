/**
 * Tearing a session down: remove the agent, keep the sidecar's log (streamed, capped, time-boxed),
 * then remove everything else carrying the session's label. Every step is attempted even when an
 * earlier one failed — removal happens whatever reading the log did; each failure is reported with
 * the command that finishes the job by hand.
 */
import type { Docker } from '../docker/client.js';
import type { ContainerRecord, NetworkRecord } from '../docker/listing.js';
import type { DecisionContext } from '../egress/decision.js';
import type { AllowlistFiles, RefusalReport } from '../egress/refusals.js';
import { DrydockError } from '../errors.js';
import { agentContainerName, egressContainerName, internalNetworkName, netnsContainerName } from '../names.js';
import { containersOf, groupSessions } from './model.js';
import { removeObjects, type RemovalOutcome } from './removal.js';
import { saveEgressLog, type SavedLog } from './save-log.js';

export { saveEgressLog, type SavedLog } from './save-log.js';

const message = (error: unknown): string => (error instanceof Error ? error.message.split('\n')[0]! : String(error));

export interface TeardownResult extends RemovalOutcome {
  egressLog: SavedLog;
  /** What the sidecar refused, typed: the caller renders it (formatDenialSummary) or returns it as data. */
  refusals?: RefusalReport;
  allowlistFiles?: AllowlistFiles;
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
  /** For the saved decisions file (allowlist entries, the project list). */
  decisions?: DecisionContext;
  /** Ends the log reading early (removal still follows). */
  hurry?: AbortSignal;
  logCap?: number;
  logReadMs?: number;
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
    containers = [agentContainerName(sessionId), ...(options.contained ? [netnsContainerName(sessionId), egressContainerName(sessionId)] : [])].map(byName);
    networks = options.contained ? [byName(internalNetworkName(sessionId))] : [];
  }

  let egressLog: SavedLog = { lastLines: [] };
  let removal: RemovalOutcome;
  if (egressName) {
    // The agent goes first, while the log is read: it loses its egress the moment the session
    // ends, however long a flooded log takes to read (and that reading is time-boxed). The sidecar
    // goes as soon as its log is saved, without waiting for the agent's removal; the session
    // network once both are gone.
    const sidecar = containers.filter((c) => c.name === egressName);
    const agents = containers.filter((c) => c.name !== egressName);
    let readerBug: unknown;
    const [early, late] = await Promise.all([
      removeObjects({ docker, containers: agents, networks: [] }),
      saveEgressLog({ docker, container: egressName, dir: options.sessionDir, decisions: options.decisions, signal: options.hurry, maxBytes: options.logCap, timeoutMs: options.logReadMs })
        .catch((error: unknown): SavedLog => {
          readerBug = error; // a bug in the reader: removal first, then it surfaces
          return { lastLines: [], error: `reading the sidecar's log failed: ${message(error)}` };
        })
        .then((saved) => {
          egressLog = saved;
          return removeObjects({ docker, containers: sidecar, networks: [] });
        }),
    ]);
    const rest = await removeObjects({ docker, containers: [], networks });
    if (readerBug !== undefined) throw readerBug;
    removal = {
      removedContainers: [...early.removedContainers, ...late.removedContainers],
      removedNetworks: rest.removedNetworks,
      failures: [...early.failures, ...late.failures, ...rest.failures],
    };
  } else {
    removal = await removeObjects({ docker, containers, networks });
  }
  if (egressLog.error) failures.push(egressLog.error);
  return { ...removal, failures: [...failures, ...removal.failures], egressLog, refusals: egressLog.refusals, allowlistFiles: options.allowlistFiles };
}
