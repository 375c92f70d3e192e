/**
 * Each kubernetes invariant is shown to bite: the rendered session has no violations, and removing
 * (or, for the negatives, adding) exactly one property yields exactly that one violation.
 */
import { describe, expect, it } from 'vitest';
import { checkKubernetesInvariants } from '../../lib/kubernetes/invariants.js';
import { agentPod, probePod, proxySideObjects } from '../../lib/kubernetes/manifests.js';
import { k8sSpec } from './spec.js';

const ADDRESS = '10.96.0.42';
const PORTS = [443, 8080];

type Doc = Record<string, any>;

function objects(observe = false): Doc[] {
  const spec = k8sSpec({ observe, proxyPorts: PORTS });
  return structuredClone([...proxySideObjects(spec), probePod(spec, ADDRESS), agentPod(spec, ADDRESS)]) as Doc[];
}

const check = (docs: Doc[], observe = false) =>
  checkKubernetesInvariants({ objects: docs, sessionId: 'demo-1a2b', ports: observe ? 'any' : PORTS, proxyAddress: ADDRESS }).map((v) => v.code);

const named = (docs: Doc[], kind: string, name: string): Doc => docs.find((o) => o.kind === kind && o.metadata.name === name)!;
const ns = (d: Doc[]) => named(d, 'Namespace', 'drydock-demo-1a2b');
const policy = (d: Doc[], name: string) => named(d, 'NetworkPolicy', name).spec;
const proxy = (d: Doc[]) => named(d, 'Pod', 'drydock-egress').spec;
const agent = (d: Doc[]) => named(d, 'Pod', 'drydock-agent').spec;
const probe = (d: Doc[]) => named(d, 'Pod', 'drydock-probe').spec;
const agentEnv = (d: Doc[], name: string) => agent(d).containers[0].env.find((e: Doc) => e.name === name);

type Mutation = [name: string, code: string, mutate: (docs: Doc[]) => void];

const mutations: Mutation[] = [
  ['namespace without Pod Security restricted', 'namespace-pod-security', (d) => void delete ns(d).metadata.labels['pod-security.kubernetes.io/enforce']],
  ['namespace enforces baseline only', 'namespace-pod-security', (d) => void (ns(d).metadata.labels['pod-security.kubernetes.io/enforce'] = 'baseline')],
  ['a second namespace', 'namespace', (d) => void d.push({ ...structuredClone(ns(d)), metadata: { ...structuredClone(ns(d).metadata), name: 'drydock-demo-1a2b' } })],
  ['an object without drydock.role', 'labels', (d) => void delete named(d, 'Service', 'drydock-egress').metadata.labels['drydock.role']],
  ['an object of another session', 'labels', (d) => void (named(d, 'ConfigMap', 'drydock-egress-config').metadata.labels['drydock.session'] = 'other-0000')],
  ['an object in another namespace', 'object-namespace', (d) => void (named(d, 'ConfigMap', 'drydock-egress-config').metadata.namespace = 'default')],
  ['default-deny allows all egress', 'default-deny', (d) => void (policy(d, 'default-deny').egress = [{}])],
  ['default-deny covers ingress only', 'default-deny', (d) => void (policy(d, 'default-deny').policyTypes = ['Ingress'])],
  ['default-deny selects the agent only', 'default-deny', (d) => void (policy(d, 'default-deny').podSelector = { matchLabels: { 'drydock.role': 'agent' } })],
  ['an extra, permissive policy', 'unexpected-policy', (d) => void d.push({ ...structuredClone(named(d, 'NetworkPolicy', 'default-deny')), metadata: { ...structuredClone(named(d, 'NetworkPolicy', 'default-deny').metadata), name: 'allow-all' } })],
  ['agent egress to any pod', 'agent-egress-policy', (d) => void (policy(d, 'agent-egress-to-proxy').egress[0].to = [{ podSelector: {} }])],
  ['agent egress on every port', 'agent-egress-policy', (d) => void delete policy(d, 'agent-egress-to-proxy').egress[0].ports],
  ['agent egress also to an address block', 'agent-egress-policy', (d) => void policy(d, 'agent-egress-to-proxy').egress.push({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] })],
  ['agent egress proxy peer widened by namespace', 'agent-egress-policy', (d) => void (policy(d, 'agent-egress-to-proxy').egress[0].to[0].namespaceSelector = {})],
  ['agent egress policy not selecting the probe', 'agent-egress-policy', (d) => void (policy(d, 'agent-egress-to-proxy').podSelector.matchExpressions[0].values = ['agent'])],
  ['proxy ingress from every pod of the cluster', 'proxy-ingress-policy', (d) => void (policy(d, 'proxy-ingress-from-agent').ingress[0].from = [{ namespaceSelector: {} }])],
  ['proxy ingress on every port', 'proxy-ingress-policy', (d) => void delete policy(d, 'proxy-ingress-from-agent').ingress[0].ports],
  ['proxy egress policy selects every pod', 'proxy-egress-policy', (d) => void (policy(d, 'proxy-egress-public').podSelector = {})],
  ['proxy egress gets a third rule', 'proxy-egress-policy', (d) => void policy(d, 'proxy-egress-public').egress.push({})],
  ['proxy DNS to any pod', 'proxy-egress-dns', (d) => void (policy(d, 'proxy-egress-public').egress[0].to = [{ podSelector: {} }])],
  ['proxy DNS on every port', 'proxy-egress-dns', (d) => void delete policy(d, 'proxy-egress-public').egress[0].ports],
  ['proxy may reach RFC 1918 addresses', 'proxy-egress-public-only', (d) => void policy(d, 'proxy-egress-public').egress[1].to[0].ipBlock.except.splice(0, 1)],
  ['proxy may reach the metadata service', 'proxy-egress-public-only', (d) => void (policy(d, 'proxy-egress-public').egress[1].to[0].ipBlock.except = policy(d, 'proxy-egress-public').egress[1].to[0].ipBlock.except.filter((c: string) => c !== '169.254.0.0/16'))],
  ['proxy may reach IPv6 ULA', 'proxy-egress-public-only', (d) => void policy(d, 'proxy-egress-public').egress[1].to[1].ipBlock.except.splice(2, 1)],
  ['proxy public egress on every port', 'proxy-egress-ports', (d) => void delete policy(d, 'proxy-egress-public').egress[1].ports],
  ['proxy public egress with an empty port list (which means every port)', 'proxy-egress-ports', (d) => void (policy(d, 'proxy-egress-public').egress[1].ports = [])],
  ['proxy public egress on a port no entry names', 'proxy-egress-ports', (d) => void policy(d, 'proxy-egress-public').egress[1].ports.push({ protocol: 'TCP', port: 25 })],
  ['ConfigMap without the filter', 'config-map', (d) => void delete named(d, 'ConfigMap', 'drydock-egress-config').data['egress-filter']],
  ['proxy runs as root', 'pod-non-root', (d) => void (proxy(d).securityContext.runAsUser = 0)],
  ['proxy may run as root', 'pod-non-root', (d) => void delete proxy(d).securityContext.runAsNonRoot],
  ['proxy without seccomp', 'pod-seccomp', (d) => void delete proxy(d).securityContext.seccompProfile],
  ['proxy with a service-account token', 'pod-no-token', (d) => void delete proxy(d).automountServiceAccountToken],
  ['proxy on the node network', 'pod-host-namespaces', (d) => void (proxy(d).hostNetwork = true)],
  ['proxy mounts a host path', 'pod-volumes', (d) => void proxy(d).volumes.push({ name: 'host', hostPath: { path: '/' } })],
  ['a second container in the proxy pod', 'pod-one-container', (d) => void proxy(d).containers.push({ ...structuredClone(proxy(d).containers[0]), name: 'second' })],
  ['proxy may escalate', 'container-no-escalation', (d) => void (proxy(d).containers[0].securityContext.allowPrivilegeEscalation = true)],
  ['proxy privileged', 'container-no-escalation', (d) => void (proxy(d).containers[0].securityContext.privileged = true)],
  ['proxy keeps capabilities', 'container-capabilities', (d) => void delete proxy(d).containers[0].securityContext.capabilities],
  ['proxy adds NET_ADMIN', 'container-capabilities', (d) => void (proxy(d).containers[0].securityContext.capabilities.add = ['NET_ADMIN'])],
  ['proxy root filesystem writable', 'container-read-only-root', (d) => void delete proxy(d).containers[0].securityContext.readOnlyRootFilesystem],
  ['proxy on a host port', 'container-host-port', (d) => void (proxy(d).containers[0].ports[0].hostPort = 8888)],
  ['proxy without a readiness probe', 'proxy-readiness', (d) => void delete proxy(d).containers[0].readinessProbe],
  ['proxy config writable', 'proxy-config-read-only', (d) => void delete proxy(d).containers[0].volumeMounts[0].readOnly],
  ['Service selects every pod', 'proxy-service', (d) => void (named(d, 'Service', 'drydock-egress').spec.selector = { 'drydock.session': 'demo-1a2b' })],
  ['Service exposed on the nodes', 'proxy-service', (d) => void (named(d, 'Service', 'drydock-egress').spec.type = 'NodePort')],
  ['agent with cluster DNS', 'pod-no-dns', (d) => void (agent(d).dnsPolicy = 'ClusterFirst')],
  ['agent with an outside resolver', 'pod-no-dns', (d) => void (agent(d).dnsConfig.nameservers = ['8.8.8.8'])],
  ['agent without the proxy alias', 'pod-proxy-alias', (d) => void delete agent(d).hostAliases],
  ['agent aliasing the proxy name elsewhere', 'pod-proxy-alias', (d) => void (agent(d).hostAliases[0].ip = '10.0.0.9')],
  ['agent with service links', 'pod-service-links', (d) => void delete agent(d).enableServiceLinks],
  ['agent labelled out of its policy', 'pod-policy-labels', (d) => void (named(d, 'Pod', 'drydock-agent').metadata.labels['drydock.role'] = 'egress')],
  ['agent with a service-account token', 'pod-no-token', (d) => void (agent(d).automountServiceAccountToken = true)],
  ['agent runs as root', 'pod-non-root', (d) => void (agent(d).securityContext.runAsUser = 0)],
  ['agent may escalate', 'container-no-escalation', (d) => void delete agent(d).containers[0].securityContext.allowPrivilegeEscalation],
  ['agent adds SYS_ADMIN', 'container-capabilities', (d) => void (agent(d).containers[0].securityContext.capabilities.add = ['SYS_ADMIN'])],
  ['proxy beside the agent', 'pod-one-container', (d) => void agent(d).containers.push(structuredClone(proxy(d).containers[0]))],
  ['agent mounts the node', 'pod-volumes', (d) => void (agent(d).volumes[0] = { name: 'workspace', hostPath: { path: '/home' } })],
  ['agent without HTTPS_PROXY', 'agent-proxy-env', (d) => void (agent(d).containers[0].env = agent(d).containers[0].env.filter((e: Doc) => e.name !== 'HTTPS_PROXY'))],
  ['agent http_proxy elsewhere', 'agent-proxy-env', (d) => void (agentEnv(d, 'http_proxy').value = 'http://10.0.0.9:8888')],
  ['agent bypasses the proxy', 'agent-no-proxy', (d) => void (agentEnv(d, 'NO_PROXY').value = '*')],
  ['agent without a telemetry default', 'agent-telemetry-defaults', (d) => void (agent(d).containers[0].env = agent(d).containers[0].env.filter((e: Doc) => e.name !== 'DISABLE_TELEMETRY'))],
  ['agent without a workspace', 'agent-workspace', (d) => void (agent(d).containers[0].volumeMounts = [])],
  ['probe with cluster DNS', 'pod-no-dns', (d) => void delete probe(d).dnsPolicy],
  ['probe outside the agent policy', 'pod-policy-labels', (d) => void (named(d, 'Pod', 'drydock-probe').metadata.labels['drydock.role'] = 'debug')],
  ['probe root filesystem writable', 'container-read-only-root', (d) => void (probe(d).containers[0].securityContext.readOnlyRootFilesystem = false)],
  ['proxy without a memory limit', 'proxy-memory-limit', (d) => void delete proxy(d).containers[0].resources.limits.memory],
  ['proxy requesting less memory than its limit (the node overcommitted)', 'proxy-memory-limit', (d) => void (proxy(d).containers[0].resources.requests.memory = '64Mi')],
  ['proxy with a memory limit of zero', 'proxy-memory-limit', (d) => void (proxy(d).containers[0].resources.limits.memory = proxy(d).containers[0].resources.requests.memory = '0')],
  ['proxy without an ephemeral-storage limit (its log fills the node)', 'proxy-ephemeral-storage', (d) => void delete proxy(d).containers[0].resources.limits['ephemeral-storage']],
  ['proxy /tmp without a size', 'proxy-emptydir-size', (d) => void delete proxy(d).volumes.find((v: Doc) => v.name === 'tmp').emptyDir.sizeLimit],
  ['proxy /run sized in nonsense', 'proxy-emptydir-size', (d) => void (proxy(d).volumes.find((v: Doc) => v.name === 'run').emptyDir.sizeLimit = 'lots')],
  ['proxy with another, unsized emptyDir', 'proxy-emptydir-size', (d) => void proxy(d).volumes.push({ name: 'cache', emptyDir: {} })],
  ['agent without a memory limit', 'agent-memory-limit', (d) => void delete agent(d).containers[0].resources.limits.memory],
  ['agent requesting less memory than its limit', 'agent-memory-limit', (d) => void delete agent(d).containers[0].resources.requests.memory],
  ['agent without a cpu limit', 'agent-cpu-limit', (d) => void delete agent(d).containers[0].resources.limits.cpu],
  ['probe without resources', 'probe-memory-limit', (d) => void delete probe(d).containers[0].resources],
  ['an extra pod', 'unexpected-pod', (d) => void d.push({ ...structuredClone(named(d, 'Pod', 'drydock-probe')), metadata: { ...structuredClone(named(d, 'Pod', 'drydock-probe').metadata), name: 'debug' } })],
  ['an extra kind', 'unexpected-kind', (d) => void d.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { ...structuredClone(ns(d).metadata), name: 'x', namespace: 'drydock-demo-1a2b' } })],
];

describe('kubernetes invariants', () => {
  it('hold for the rendered session, with and without --observe', () => {
    expect(check(objects())).toEqual([]);
    expect(check(objects(true), true)).toEqual([]);
  });

  it('hold for the proxy side alone, as `run` checks it before the cluster gives the address', () => {
    const spec = k8sSpec({ proxyPorts: PORTS });
    expect(checkKubernetesInvariants({ objects: proxySideObjects(spec), sessionId: 'demo-1a2b', ports: PORTS })).toEqual([]);
  });

  it.each(mutations)('%s → exactly %s', (_name, code, mutate) => {
    const docs = objects();
    mutate(docs);
    expect(check(docs)).toEqual([code]);
  });

  it('refuse an empty port list even when the caller expects no ports', () => {
    const spec = k8sSpec({ proxyPorts: [] });
    expect(checkKubernetesInvariants({ objects: proxySideObjects(spec), sessionId: 'demo-1a2b', ports: [] }).map((v) => v.code)).toEqual(['proxy-egress-ports']);
  });

  it('miss nothing that is missing: no proxy pod is a violation', () => {
    expect(check(objects().filter((o) => !(o.kind === 'Pod' && o.metadata.name === 'drydock-egress')))).toContain('proxy-pod');
  });
});
