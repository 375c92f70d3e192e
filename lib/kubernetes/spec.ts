/** What a kubernetes session's objects are made of, and the labels and metadata every one carries. */
import type { ResourceLimits } from '../limits/settings.js';
import { LABEL_MODE, LABEL_OBSERVE, LABEL_PROJECT, LABEL_ROLE, LABEL_SESSION, LABEL_TARGET, namespaceName, type Role } from './names.js';

export interface KubernetesSessionSpec {
  sessionId: string;
  project: string;
  observe: boolean;
  agentImage: string;
  egressImage: string;
  /**
   * The sidecar's egress files (egress-filter, tinyproxy.conf, refusal pages), byte for byte what
   * the compose render writes into its egress directory (both come from renderSessionEgress).
   */
  egressFiles: Record<string, string>;
  /** TCP ports the allowlist names (CONNECT and plain HTTP); ignored in observe mode. */
  proxyPorts: number[];
  /** The session's limits (settings.limits): the Pods' resources, as the compose services' (lib/limits/kubernetes.ts). */
  limits: ResourceLimits;
  /** Only the telemetry switches are read from it (a user's value beats drydock's default). */
  userEnv: Record<string, string | undefined>;
}

export function sessionLabels(spec: KubernetesSessionSpec, role: Role): Record<string, string> {
  return {
    [LABEL_SESSION]: spec.sessionId,
    [LABEL_PROJECT]: spec.project,
    [LABEL_ROLE]: role,
    [LABEL_MODE]: 'contain',
    [LABEL_OBSERVE]: String(spec.observe),
    [LABEL_TARGET]: 'kubernetes',
  };
}

export function objectMeta(spec: KubernetesSessionSpec, name: string, role: Role) {
  return { name, namespace: namespaceName(spec.sessionId), labels: sessionLabels(spec, role) };
}
