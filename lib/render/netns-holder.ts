/**
 * The session's network-namespace holder (pure): a container from drydock's own sidecar image
 * that runs nothing but a sleep and owns the network namespace the agent joins
 * (`network_mode: service:drydock-netns`), the way a Kubernetes Pod's pause container does.
 *
 * Why it exists: the start-up self-test must look at the agent's namespace with tools drydock
 * trusts. The agent image is the user's (and may lie: a fake `cat`), so the probe used to run in a
 * throw-away `docker run --network container:<agent>` from the sidecar image, which cost 250–450 ms
 * of every start on a 2-core machine. With the namespace held by a container of drydock's own
 * image, the probe is a `docker exec` into it (60–90 ms), and the holder itself starts beside the
 * sidecar, while the sidecar becomes healthy, so it adds nothing to the start's critical path.
 *
 * What the agent sees is unchanged: the holder is on the internal session network only, and the
 * agent, sharing its namespace, has exactly that one interface, route table and resolver. The
 * holder has no mounts, no capabilities, no writable filesystem and listens on nothing.
 */
import type { ComposeService, Labels } from './compose-types.js';
import { loggingFields } from '../limits/compose.js';
import type { LogLimits } from '../limits/settings.js';
import { INTERNAL_NETWORK_KEY, NETNS_SERVICE, SIDECAR_USER } from '../names.js';

/** What the agent's service says to live in the holder's namespace. */
export const AGENT_NETWORK_MODE = `service:${NETNS_SERVICE}`;

/** The holder's only process (under Docker's init, so a stop is immediate). */
export const NETNS_HOLDER_COMMAND = ['sleep', 'infinity'];

/**
 * Fixed, small limits: the holder runs a sleep, and the self-test's probe (a bash script with a
 * connect per target, about 25 processes) runs in its cgroup for a fraction of a second.
 */
export const NETNS_HOLDER_LIMITS = { memory: '64m', pids: 64 } as const;

export function renderNetnsHolder(opts: { image: string; containerName: string; labels: Labels; logs: LogLimits; noNewPrivileges: string }): ComposeService {
  return {
    image: opts.image,
    container_name: opts.containerName,
    labels: opts.labels,
    // The image's entrypoint starts the proxy; the holder must run nothing of it.
    entrypoint: [...NETNS_HOLDER_COMMAND],
    init: true,
    user: SIDECAR_USER,
    cap_drop: ['ALL'],
    security_opt: [opts.noNewPrivileges],
    read_only: true,
    mem_limit: NETNS_HOLDER_LIMITS.memory,
    memswap_limit: NETNS_HOLDER_LIMITS.memory,
    pids_limit: NETNS_HOLDER_LIMITS.pids,
    logging: loggingFields(opts.logs),
    networks: [INTERNAL_NETWORK_KEY],
  };
}
