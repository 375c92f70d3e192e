/**
 * Resource limits as Compose service fields (pure). Only keys that Compose v1 (1.29) and v2 both
 * pass to the engine outside swarm: `mem_limit`/`memswap_limit`/`cpus`/`pids_limit`/`init`, the
 * `logging` block, and `tmpfs` as `PATH:size=…` (`deploy.resources` is swarm's, and v1 reads it
 * only with --compatibility). `docker inspect` confirms each on a real engine (test/e2e/limits.test.ts).
 */
import type { ComposeService, Logging } from '../render/compose-types.js';
import { formatSize, type AgentLimits, type EgressLimits, type LogLimits } from './settings.js';

/** The sidecar's writable places; everything else of its filesystem is read-only. */
export const SIDECAR_TMPFS_PATHS = ['/run', '/tmp'] as const;

export function loggingFields(logs: LogLimits): Logging {
  return { driver: 'json-file', options: { 'max-size': formatSize(logs.maxSizeBytes), 'max-file': String(logs.maxFiles) } };
}

/** memswap_limit equal to mem_limit: no swap on top, so the agent cannot page the host to death. */
export function agentLimitFields(agent: AgentLimits, logs: LogLimits): Partial<ComposeService> {
  const memory = formatSize(agent.memoryBytes);
  return { init: agent.init, mem_limit: memory, memswap_limit: memory, cpus: agent.cpus, pids_limit: agent.pids, logging: loggingFields(logs) };
}

export function sidecarLimitFields(egress: EgressLimits, logs: LogLimits): Partial<ComposeService> {
  const memory = formatSize(egress.memoryBytes);
  return {
    mem_limit: memory,
    memswap_limit: memory,
    pids_limit: egress.pids,
    logging: loggingFields(logs),
    tmpfs: SIDECAR_TMPFS_PATHS.map((path) => `${path}:size=${formatSize(egress.tmpfsBytes)}`),
  };
}
