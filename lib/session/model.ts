/**
 * Sessions as drydock's labels describe them: the containers and networks of one listing grouped by
 * `drydock.session`. Pure, so stop/gc/doctor decide from one snapshot of the engine.
 */
import type { SessionState } from '../docker/client.js';
import type { ContainerRecord, NetworkRecord } from '../docker/listing.js';
import { LABELS, agentContainerName, egressContainerName } from '../names.js';


export interface SessionView {
  id: string;
  project?: string;
  mode?: string;
  observe: boolean;
  agent?: ContainerRecord;
  egress?: ContainerRecord;
  /** Anything else carrying the session's label (drydock never makes more, but a user might). */
  others: ContainerRecord[];
  networks: NetworkRecord[];
  /** The agent container is up: the session is in use and nothing of it may be touched. */
  live: boolean;
}

/** States in which a container is (or is about to be) doing work; anything else is finished. */
const ACTIVE_STATES = new Set(['running', 'paused', 'restarting']);

export function isActive(container: ContainerRecord | undefined): boolean {
  return container !== undefined && ACTIVE_STATES.has(container.state);
}

function roleOf(container: ContainerRecord, session: string): 'agent' | 'egress' | 'other' {
  const role = container.labels[LABELS.role];
  if (role === 'agent' || role === 'egress') return role;
  // Labels are the truth; names are only a fallback for a container whose role label was lost.
  if (role === undefined && container.name === agentContainerName(session)) return 'agent';
  if (role === undefined && container.name === egressContainerName(session)) return 'egress';
  return 'other';
}

export function groupSessions(state: SessionState): SessionView[] {
  const sessions = new Map<string, SessionView>();
  const viewOf = (id: string): SessionView => {
    let view = sessions.get(id);
    if (!view) {
      view = { id, observe: false, others: [], networks: [], live: false };
      sessions.set(id, view);
    }
    return view;
  };
  for (const container of state.containers) {
    const id = container.labels[LABELS.session];
    if (!id) continue;
    const view = viewOf(id);
    view.project ??= container.labels[LABELS.project];
    view.mode ??= container.labels[LABELS.mode];
    if (container.labels[LABELS.observe] === 'true') view.observe = true;
    const role = roleOf(container, id);
    if (role === 'agent' && !view.agent) view.agent = container;
    else if (role === 'egress' && !view.egress) view.egress = container;
    else view.others.push(container);
  }
  for (const network of state.networks) {
    const id = network.labels[LABELS.session];
    if (!id) continue;
    const view = viewOf(id);
    view.project ??= network.labels[LABELS.project];
    view.mode ??= network.labels[LABELS.mode];
    view.networks.push(network);
  }
  for (const view of sessions.values()) view.live = isActive(view.agent);
  return [...sessions.values()].sort((a, b) => a.id.localeCompare(b.id));
}

export function containersOf(view: SessionView): ContainerRecord[] {
  return [view.agent, view.egress, ...view.others].filter((c): c is ContainerRecord => c !== undefined);
}

/** One line per session for listings: `myapp-3f9a  contain  running (agent up)`. */
export function describeSession(view: SessionView): string {
  const agent = view.agent ? `agent ${view.agent.state}` : 'no agent';
  const egress = view.egress ? `, sidecar ${view.egress.state}` : '';
  const observe = view.observe ? ', OBSERVE (not a jail)' : '';
  return `${view.id}  ${view.mode ?? '?'}  ${agent}${egress}${observe}`;
}
