/**
 * The session's NetworkPolicies (pure). Policies add up — a connection is allowed if any policy
 * allows it — so the namespace starts from a default deny and each allow names its peers exactly.
 */
import type { IIoK8sApimachineryPkgApisMetaV1LabelSelector as ILabelSelector } from '@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort';
import { floorPrefixes } from '../egress/address-floor.js';
import { PROXY_PORT } from '../names.js';
import { AGENT_POLICY_ROLES, LABEL_ROLE, LABEL_SESSION, POLICY_NAMES, type Role } from './names.js';
import { objectMeta, type KubernetesSessionSpec } from './spec.js';

/**
 * Where the proxy may connect besides cluster DNS: public addresses only. Every prefix of the
 * compose sidecar's address floor is carved out (lib/egress/address-floor.ts: RFC 1918, CGNAT,
 * link-local and metadata, loopback, unspecified, multicast, reserved, ULA, IPv4 inside IPv6), so
 * an allowed name that resolves into the cluster or to the metadata service is refused at the
 * network. A NetworkPolicy cannot opt one name in, so `private:` entries open nothing here.
 */
export const PUBLIC_IPV4 = { cidr: '0.0.0.0/0', except: floorPrefixes(4, { withPrivate: true }) };
export const PUBLIC_IPV6 = { cidr: '::/0', except: floorPrefixes(6, { withPrivate: true }) };
/** Cluster DNS as nearly every distribution labels it (CoreDNS keeps the kube-dns label). */
export const CLUSTER_DNS_PEER = {
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
};

function podsOf(spec: KubernetesSessionSpec, role: Role): ILabelSelector {
  return { matchLabels: { [LABEL_SESSION]: spec.sessionId, [LABEL_ROLE]: role } };
}

function agentPolicyPods(spec: KubernetesSessionSpec): ILabelSelector {
  return {
    matchLabels: { [LABEL_SESSION]: spec.sessionId },
    matchExpressions: [{ key: LABEL_ROLE, operator: 'In', values: [...AGENT_POLICY_ROLES] }],
  };
}

const PROXY_PORT_RULE: INetworkPolicyPort = { protocol: 'TCP', port: PROXY_PORT };

export function networkPolicies(spec: KubernetesSessionSpec): INetworkPolicy[] {
  const policy = (name: string, body: INetworkPolicy['spec']): INetworkPolicy => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: objectMeta(spec, name, 'policy'),
    spec: body,
  });
  const publicPorts: INetworkPolicyPort[] = [...new Set(spec.proxyPorts)].sort((a, b) => a - b).map((port) => ({ protocol: 'TCP', port }));
  const publicRule = { to: [{ ipBlock: { ...PUBLIC_IPV4 } }, { ipBlock: { ...PUBLIC_IPV6 } }], ...(spec.observe ? {} : { ports: publicPorts }) };
  return [
    // Everything in the namespace is denied both ways unless a policy below allows it.
    policy(POLICY_NAMES.defaultDeny, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    policy(POLICY_NAMES.agentEgress, {
      podSelector: agentPolicyPods(spec),
      policyTypes: ['Egress'],
      egress: [{ to: [{ podSelector: podsOf(spec, 'egress') }], ports: [PROXY_PORT_RULE] }],
    }),
    policy(POLICY_NAMES.proxyIngress, {
      podSelector: podsOf(spec, 'egress'),
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: agentPolicyPods(spec) }], ports: [PROXY_PORT_RULE] }],
    }),
    policy(POLICY_NAMES.proxyEgress, {
      podSelector: podsOf(spec, 'egress'),
      policyTypes: ['Egress'],
      egress: [
        { to: [structuredClone(CLUSTER_DNS_PEER)], ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] },
        publicRule,
      ],
    }),
  ];
}
