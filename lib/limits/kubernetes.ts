/**
 * Resource limits as Kubernetes container resources (pure), from the same ResourceLimits the
 * compose services get (lib/limits/compose.ts), so one setting bounds a session on either target.
 *
 * What maps, and how:
 *   - memory: the limit, and the request equal to it (the scheduler reserves what the limit
 *     allows, so no node is overcommitted by a session, and a node under memory pressure does
 *     not evict these Pods first). The agent's default is half the memory of the machine running
 *     drydock, which may not fit a node: DRYDOCK_AGENT_MEMORY sets it. The sidecar's
 *     memory-backed emptyDirs (/run, /tmp, like its compose tmpfs) count towards it, as a compose
 *     tmpfs counts towards mem_limit; each has the compose tmpfs size as its sizeLimit;
 *   - ephemeral-storage (the node's disk: a container's logs and writable layer): the proxy's
 *     root filesystem is read-only, so what it can write to disk is its log; the limit is the
 *     compose log budget (max-size × max-files). The kubelet rotates container logs by its own
 *     settings (containerLogMaxSize, default 10Mi × 5); a proxy whose log outgrows the limit is
 *     evicted, and with it the agent's only way out (fails closed);
 *   - CPU: the agent's cpus as its limit (as compose's `cpus`); the proxy has no CPU limit, as in
 *     compose (CPU is not exhausted, only shared), but a small request so it is scheduled as a
 *     Pod that uses some;
 *   - pids, the json-file log caps and `init` have no Pod field: pids are bounded by the node's
 *     podPidsLimit, logs by the kubelet's rotation (docs/kubernetes.md).
 * The agent gets no ephemeral-storage limit: its workspace emptyDir counts towards the Pod's, and
 * a limit would evict the session for a large checkout; its disk is unbounded, as in compose.
 */
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import type { AgentLimits, EgressLimits, LogLimits } from './settings.js';

const KI = 1024;

/** Bytes as a Kubernetes quantity, exact: whole Gi/Mi/Ki, else plain bytes. */
export function quantity(bytes: number): string {
  for (const [unit, size] of [['Gi', KI ** 3], ['Mi', KI ** 2], ['Ki', KI]] as const) {
    if (bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** CPUs as a quantity: whole ones as they are, else millicores (1.5 → 1500m). */
export function cpuQuantity(cpus: number): string {
  return Number.isInteger(cpus) ? String(cpus) : `${Math.round(cpus * 1000)}m`;
}

/** What the proxy is scheduled with: it relays bytes, and idles most of the time. */
export const PROXY_CPU_REQUEST = '50m';
/** The agent's CPU request (at most its limit): a share to be scheduled with; the limit is DRYDOCK_AGENT_CPUS. */
export const AGENT_CPU_REQUEST = 0.25;

/** The size of each of the proxy's memory-backed emptyDirs: the compose tmpfs size. */
export function proxyEmptyDirSize(egress: EgressLimits): string {
  return quantity(egress.tmpfsBytes);
}

export function proxyResources(egress: EgressLimits, logs: LogLimits): IResourceRequirements {
  const memory = quantity(egress.memoryBytes);
  const disk = quantity(logs.maxSizeBytes * logs.maxFiles);
  return {
    requests: { cpu: PROXY_CPU_REQUEST, memory, 'ephemeral-storage': disk },
    limits: { memory, 'ephemeral-storage': disk },
  };
}

/** The NetworkPolicy probe: a bash script for a few seconds, a few lines of log. */
export const PROBE_RESOURCES: IResourceRequirements = {
  requests: { cpu: '10m', memory: '32Mi', 'ephemeral-storage': '1Mi' },
  limits: { memory: '32Mi', 'ephemeral-storage': '1Mi' },
};

export function agentResources(agent: AgentLimits): IResourceRequirements {
  const memory = quantity(agent.memoryBytes);
  return {
    requests: { cpu: cpuQuantity(Math.min(AGENT_CPU_REQUEST, agent.cpus)), memory },
    limits: { cpu: cpuQuantity(agent.cpus), memory },
  };
}
