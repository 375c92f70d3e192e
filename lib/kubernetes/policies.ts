/**
 * The session's NetworkPolicies (pure). Policies add up — a connection is allowed if any policy
 * allows it — so the namespace starts from a default deny and each allow names its peers exactly.
 */
import type { IIoK8sApimachineryPkgApisMetaV1LabelSelector as ILabelSelector } from '@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyPort } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort';
import { PROXY_PORT } from '../names.js';
import { AGENT_POLICY_ROLES, LABEL_ROLE, LABEL_SESSION, POLICY_NAMES, type Role } from './names.js';
import { objectMeta, type KubernetesSessionSpec } from './spec.js';

/**
 * Where the proxy may connect besides cluster DNS: public addresses only. RFC 1918, CGNAT,
 * link-local (cloud metadata), loopback, ULA and IPv4-mapped IPv6 are carved out, so an allowed
 * name that resolves into the cluster or to the metadata service is refused at the network.
 */
export const PUBLIC_IPV4 = { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16'] };
export const PUBLIC_IPV6 = { cidr: '::/0', except: ['::1/128', '::ffff:0:0/96', 'fc00::/7', 'fe80::/10'] };
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
