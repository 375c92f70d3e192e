/**
 * Every name a Kubernetes session gives to cluster objects, and drydock's own DNS-1123 checks.
 * The schemas (kubernetes-models) check types and shapes, not names: the API server would refuse a
 * namespace `drydock-My_App-3f9a` only after some objects were applied, so drydock refuses it first.
 * Everything of a session lives in its own namespace; `stop` and `gc` find it by label.
 */
import { UsageError } from '../errors.js';
import { LABELS } from '../names.js';

export const LABEL_SESSION = LABELS.session;
export const LABEL_PROJECT = LABELS.project;
export const LABEL_ROLE = LABELS.role;
export const LABEL_MODE = LABELS.mode;
export const LABEL_OBSERVE = LABELS.observe;
/** Only on kubernetes objects: which target made them (`gc` lists agent Pods by it). */
export const LABEL_TARGET = 'drydock.target';

export type Role = 'namespace' | 'policy' | 'config' | 'egress' | 'agent' | 'probe';

/** Pods under the agent's NetworkPolicy: the agent, and the throw-away probe that tests it. */
export const AGENT_POLICY_ROLES: readonly Role[] = ['agent', 'probe'];

export const PROXY_POD = 'drydock-egress';
export const PROXY_SERVICE = 'drydock-egress';
export const PROXY_CONTAINER = 'tinyproxy';
export const AGENT_POD = 'drydock-agent';
export const AGENT_CONTAINER = 'agent';
export const PROBE_POD = 'drydock-probe';
export const PROBE_CONTAINER = 'probe';
export const CONFIG_MAP = 'drydock-egress-config';
/** The host name the agent's proxy variables use; pinned in /etc/hosts (hostAliases), no DNS. */
export const PROXY_HOST = 'drydock-egress';

export const POLICY_NAMES = {
  defaultDeny: 'default-deny',
  agentEgress: 'agent-egress-to-proxy',
  proxyIngress: 'proxy-ingress-from-agent',
  proxyEgress: 'proxy-egress-public',
} as const;

/** Files written into a session directory (or `render --out`) for the kubernetes target. */
export const K8S_FILE_NAMES = {
  proxy: 'kubernetes-proxy.yaml',
  probe: 'kubernetes-probe.yaml',
  agent: 'kubernetes-agent.yaml',
} as const;

export function namespaceName(sessionId: string): string {
  return `drydock-${sessionId}`;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Why `name` is not a DNS-1123 label (namespaces, services, container names), or undefined. */
export function dns1123LabelProblem(name: string): string | undefined {
  if (name.length > 63) return `is ${name.length} characters long (at most 63)`;
  if (!DNS1123_LABEL.test(name)) return 'may contain only lowercase letters, digits and "-", and must start and end with a letter or digit';
  return undefined;
}

/** Why `name` is not a DNS-1123 subdomain (pods, config maps, network policies), or undefined. */
export function dns1123SubdomainProblem(name: string): string | undefined {
  if (name.length > 253) return `is ${name.length} characters long (at most 253)`;
  if (!DNS1123_SUBDOMAIN.test(name)) return 'may contain only lowercase letters, digits, "-" and ".", each part starting and ending with a letter or digit';
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return `is ${value.length} characters long (at most 63)`;
  if (!LABEL_VALUE.test(value)) return 'may contain only letters, digits, "-", "_" and ".", starting and ending with a letter or digit';
  return undefined;
}

/** A label key `[prefix/]name`: the prefix a DNS-1123 subdomain, the name at most 63 characters. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    const p = dns1123SubdomainProblem(prefix);
    if (p) return `prefix ${p}`;
  }
  if (name.length === 0 || name.length > 63) return 'name part must be 1 to 63 characters';
  return LABEL_NAME.test(name) ? undefined : 'name part may contain only letters, digits, "-", "_" and ".", starting and ending with a letter or digit';
}

/**
 * The session id must make a namespace name (a DNS-1123 label): compose allows `_` and ids up to
 * 60 characters, Kubernetes neither. Refused up front, with the fix, before anything is written.
 */
export function assertKubernetesSessionId(sessionId: string): void {
  const namespace = namespaceName(sessionId);
  const problem = dns1123LabelProblem(namespace);
  if (problem === undefined) return;
  throw new UsageError(`session ${sessionId} cannot run on Kubernetes: its namespace name "${namespace}" ${problem}`, {
    hint: `use --project with a name of lowercase letters, digits and "-" only, at most ${63 - 'drydock-'.length - '-0000'.length} characters`,
  });
}
