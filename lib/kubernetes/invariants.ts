/**
 * What must hold of a Kubernetes session's objects for the jail to be a jail. Read loosely (plain
 * objects, as parsed back from YAML), each check looks inside one object, so a property present
 * elsewhere cannot satisfy it. `render` and `run` check these before anything is written or
 * applied: a violation is a drydock bug, not bad input.
 *
 * NetworkPolicies are additive (a connection is allowed if any policy allows it), so besides what
 * each drydock policy says, no other policy may exist in the set.
 */
import { TELEMETRY_DEFAULTS } from '../render/overlay.js';
import { FILE_NAMES, LABELS, NO_PROXY_VARIABLES, PROXY_PORT, PROXY_VARIABLES, WORKSPACE } from '../names.js';
import {
  AGENT_NAMESERVER,
  AGENT_UID,
  K8S_NO_PROXY,
  K8S_PROXY_URL,
  PROXY_UID,
} from './manifests.js';
import { CLUSTER_DNS_PEER, PUBLIC_IPV4, PUBLIC_IPV6 } from './policies.js';
import { AGENT_POD, AGENT_POLICY_ROLES, CONFIG_MAP, LABEL_ROLE, LABEL_SESSION, POLICY_NAMES, PROBE_POD, PROXY_HOST, PROXY_POD, PROXY_SERVICE, namespaceName } from './names.js';
import type { Violation } from '../render/invariants.js';
import { agentResourceViolations, probeResourceViolations, proxyResourceViolations } from './resource-invariants.js';

type Block = Record<string, unknown>;

const block = (value: unknown): Block => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Block) : {});
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const strings = (value: unknown): string[] => list(value).map(String);
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
const sameSet = (a: string[], b: readonly string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));

class Collector {
  readonly violations: Violation[] = [];
  add(violations: Violation[]): void {
    this.violations.push(...violations);
  }
  require(ok: boolean, code: string, message: string): void {
    if (!ok) this.violations.push({ code, message });
  }
}

function find(objects: unknown[], kind: string, name: string): Block | undefined {
  return objects.map(block).find((o) => o.kind === kind && block(o.metadata).name === name);
}

/** A selector for exactly this session's pods of `roles` (matchLabels role or `In` expression). */
function selectsRoles(selector: unknown, session: string, roles: readonly string[]): boolean {
  const s = block(selector);
  const labels = block(s.matchLabels);
  if (labels[LABEL_SESSION] !== session) return false;
  const expressions = list(s.matchExpressions).map(block);
  if (roles.length === 1 && expressions.length === 0) return labels[LABEL_ROLE] === roles[0] && Object.keys(labels).length === 2;
  return (
    Object.keys(labels).length === 1 &&
    expressions.length === 1 &&
    expressions[0]!.key === LABEL_ROLE &&
    expressions[0]!.operator === 'In' &&
    sameSet(strings(expressions[0]!.values), roles)
  );
}

const onlyProxyPort = (ports: unknown): boolean => same(ports, [{ protocol: 'TCP', port: PROXY_PORT }]);

function checkPolicies(c: Collector, objects: unknown[], session: string, ports: number[] | 'any'): void {
  const policies = objects.map(block).filter((o) => o.kind === 'NetworkPolicy');
  const known = Object.values(POLICY_NAMES) as string[];
  const extra = policies.map((p) => String(block(p.metadata).name)).filter((n) => !known.includes(n));
  c.require(extra.length === 0, 'unexpected-policy', `NetworkPolicy ${extra.join(', ')}: not one of drydock's (policies add up: any extra one could widen the jail)`);

  const deny = block(find(objects, 'NetworkPolicy', POLICY_NAMES.defaultDeny)?.spec);
  c.require(
    same(deny.podSelector, {}) && sameSet(strings(deny.policyTypes), ['Ingress', 'Egress']) && deny.ingress === undefined && deny.egress === undefined,
    'default-deny',
    `NetworkPolicy ${POLICY_NAMES.defaultDeny}: must select every pod and deny all ingress and egress`,
  );

  const agent = block(find(objects, 'NetworkPolicy', POLICY_NAMES.agentEgress)?.spec);
  const agentRules = list(agent.egress).map(block);
  c.require(
    selectsRoles(agent.podSelector, session, AGENT_POLICY_ROLES) &&
      same(agent.policyTypes, ['Egress']) &&
      agentRules.length === 1 &&
      list(agentRules[0]!.to).length === 1 &&
      selectsRoles(block(list(agentRules[0]!.to)[0]).podSelector, session, ['egress']) &&
      Object.keys(block(list(agentRules[0]!.to)[0])).length === 1 &&
      onlyProxyPort(agentRules[0]!.ports),
    'agent-egress-policy',
    `NetworkPolicy ${POLICY_NAMES.agentEgress}: the agent (and probe) may reach only its proxy pod, on TCP ${PROXY_PORT}`,
  );

  const ingress = block(find(objects, 'NetworkPolicy', POLICY_NAMES.proxyIngress)?.spec);
  const ingressRules = list(ingress.ingress).map(block);
  c.require(
    selectsRoles(ingress.podSelector, session, ['egress']) &&
      same(ingress.policyTypes, ['Ingress']) &&
      ingressRules.length === 1 &&
      list(ingressRules[0]!.from).length === 1 &&
      selectsRoles(block(list(ingressRules[0]!.from)[0]).podSelector, session, AGENT_POLICY_ROLES) &&
      Object.keys(block(list(ingressRules[0]!.from)[0])).length === 1 &&
      onlyProxyPort(ingressRules[0]!.ports),
    'proxy-ingress-policy',
    `NetworkPolicy ${POLICY_NAMES.proxyIngress}: the proxy may be reached only by its agent (and probe), on TCP ${PROXY_PORT}`,
  );

  const egress = block(find(objects, 'NetworkPolicy', POLICY_NAMES.proxyEgress)?.spec);
  const [dns, world, ...more] = list(egress.egress).map(block);
  const expectedPorts = ports === 'any' ? undefined : ports.map((port) => ({ protocol: 'TCP', port }));
  c.require(
    selectsRoles(egress.podSelector, session, ['egress']) && same(egress.policyTypes, ['Egress']) && more.length === 0,
    'proxy-egress-policy',
    `NetworkPolicy ${POLICY_NAMES.proxyEgress}: must select the proxy pod only, for egress, with a DNS rule and a public rule`,
  );
  c.require(
    same(dns?.to, [CLUSTER_DNS_PEER]) && same(dns?.ports, [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }]),
    'proxy-egress-dns',
    `NetworkPolicy ${POLICY_NAMES.proxyEgress}: DNS only to cluster DNS (kube-system, k8s-app=kube-dns) on port 53`,
  );
  c.require(
    same(world?.to, [{ ipBlock: PUBLIC_IPV4 }, { ipBlock: PUBLIC_IPV6 }]),
    'proxy-egress-public-only',
    `NetworkPolicy ${POLICY_NAMES.proxyEgress}: the proxy may reach only public addresses (every prefix of the address floor excepted)`,
  );
  c.require(
    same(world?.ports, expectedPorts) && (expectedPorts === undefined || expectedPorts.length > 0),
    'proxy-egress-ports',
    `NetworkPolicy ${POLICY_NAMES.proxyEgress}: public ports must be exactly the allowlist's (${ports === 'any' ? 'any, in observe mode' : ports.join(', ')})`,
  );
}

/** Restricted Pod Security plus drydock's own: every container, every Pod. */
function checkPodHardening(c: Collector, what: string, pod: Block, uid: number, readOnlyRoot: boolean): void {
  const spec = block(pod.spec);
  const security = block(spec.securityContext);
  c.require(
    security.runAsNonRoot === true && security.runAsUser === uid && security.runAsGroup === uid,
    'pod-non-root',
    `${what}: must run as non-root uid/gid ${uid}`,
  );
  c.require(same(security.seccompProfile, { type: 'RuntimeDefault' }), 'pod-seccomp', `${what}: seccompProfile must be RuntimeDefault`);
  c.require(spec.automountServiceAccountToken === false, 'pod-no-token', `${what}: automountServiceAccountToken must be false`);
  c.require(
    spec.hostNetwork !== true && spec.hostPID !== true && spec.hostIPC !== true,
    'pod-host-namespaces',
    `${what}: must not share the node's network, PID or IPC namespace`,
  );
  const volumes = list(spec.volumes).map(block);
  const kinds = volumes.map((v) => Object.keys(v).filter((k) => k !== 'name').join(','));
  c.require(kinds.every((k) => k === 'emptyDir' || k === 'configMap'), 'pod-volumes', `${what}: only emptyDir and configMap volumes (no hostPath, no service-account projection)`);
  const containers = [...list(spec.containers), ...list(spec.initContainers), ...list(spec.ephemeralContainers)].map(block);
  c.require(containers.length === 1, 'pod-one-container', `${what}: exactly one container (containers of one Pod share its network)`);
  for (const container of containers) {
    const sc = block(container.securityContext);
    c.require(sc.allowPrivilegeEscalation === false && sc.privileged !== true, 'container-no-escalation', `${what}: allowPrivilegeEscalation must be false, not privileged`);
    const caps = block(sc.capabilities);
    c.require(same(caps.drop, ['ALL']) && strings(caps.add).length === 0, 'container-capabilities', `${what}: must drop ALL capabilities and add none`);
    c.require(!readOnlyRoot || sc.readOnlyRootFilesystem === true, 'container-read-only-root', `${what}: readOnlyRootFilesystem must be true`);
    c.require(list(container.ports).every((p) => block(p).hostPort === undefined), 'container-host-port', `${what}: must not use a hostPort`);
  }
}

/** An agent-policy Pod's network side: no cluster DNS, the proxy pinned in /etc/hosts. */
function checkNoDns(c: Collector, what: string, pod: Block, session: string, role: string, proxyAddress: string | undefined): void {
  const spec = block(pod.spec);
  const labels = block(block(pod.metadata).labels);
  c.require(labels[LABEL_ROLE] === role && labels[LABEL_SESSION] === session, 'pod-policy-labels', `${what}: must be labelled ${LABEL_ROLE}=${role} of session ${session} (its NetworkPolicy selects it by label)`);
  c.require(
    spec.dnsPolicy === 'None' && same(block(spec.dnsConfig).nameservers, [AGENT_NAMESERVER]),
    'pod-no-dns',
    `${what}: dnsPolicy must be None with nameserver ${AGENT_NAMESERVER} only (cluster DNS would reopen DNS tunnelling)`,
  );
  const aliases = list(spec.hostAliases).map(block);
  c.require(
    aliases.length === 1 && same(aliases[0]!.hostnames, [PROXY_HOST]) && (proxyAddress === undefined || aliases[0]!.ip === proxyAddress),
    'pod-proxy-alias',
    `${what}: hostAliases must pin only ${PROXY_HOST}${proxyAddress ? ` to ${proxyAddress}` : ''}`,
  );
  c.require(spec.enableServiceLinks === false, 'pod-service-links', `${what}: enableServiceLinks must be false`);
}

function checkAgent(c: Collector, agent: Block, session: string, proxyAddress: string | undefined): void {
  checkNoDns(c, `Pod ${AGENT_POD}`, agent, session, 'agent', proxyAddress);
  checkPodHardening(c, `Pod ${AGENT_POD}`, agent, AGENT_UID, false);
  const container = block(list(block(agent.spec).containers)[0]);
  const env = Object.fromEntries(list(container.env).map(block).map((e) => [String(e.name), e.value === undefined ? undefined : String(e.value)]));
  const wrongProxy = PROXY_VARIABLES.filter((name) => env[name] !== K8S_PROXY_URL);
  c.require(wrongProxy.length === 0, 'agent-proxy-env', `Pod ${AGENT_POD}: ${wrongProxy.join(', ')} must be ${K8S_PROXY_URL}`);
  const wrongNoProxy = NO_PROXY_VARIABLES.filter((name) => !(env[name] ?? '').split(',').every((h) => K8S_NO_PROXY.includes(h)));
  c.require(wrongNoProxy.length === 0, 'agent-no-proxy', `Pod ${AGENT_POD}: ${wrongNoProxy.join(', ')} may list only ${K8S_NO_PROXY.join(',')}`);
  const noTelemetry = Object.keys(TELEMETRY_DEFAULTS).filter((name) => !(name in env));
  c.require(noTelemetry.length === 0, 'agent-telemetry-defaults', `Pod ${AGENT_POD}: ${noTelemetry.join(', ')} not set`);
  c.require(list(container.volumeMounts).some((m) => block(m).mountPath === WORKSPACE), 'agent-workspace', `Pod ${AGENT_POD}: needs a volume at ${WORKSPACE}`);
  c.add(agentResourceViolations(`Pod ${AGENT_POD}`, agent));
}

export interface KubernetesInvariantInput {
  objects: unknown[];
  sessionId: string;
  /** The allowlist's TCP ports, or 'any' in observe mode. */
  ports: number[] | 'any';
  /** The proxy Service's address the agent-side Pods pin; checked when given. */
  proxyAddress?: string;
}

export function checkKubernetesInvariants(input: KubernetesInvariantInput): Violation[] {
  const c = new Collector();
  const { objects, sessionId: session } = input;
  const namespace = namespaceName(session);

  const namespaces = objects.map(block).filter((o) => o.kind === 'Namespace');
  const nsLabels = block(block(namespaces[0]?.metadata).labels);
  c.require(namespaces.length === 1 && block(namespaces[0]!.metadata).name === namespace, 'namespace', `exactly one Namespace, ${namespace}`);
  c.require(nsLabels['pod-security.kubernetes.io/enforce'] === 'restricted', 'namespace-pod-security', `Namespace ${namespace}: must enforce Pod Security "restricted"`);
  for (const object of objects.map(block)) {
    const meta = block(object.metadata);
    const labels = block(meta.labels);
    const subject = `${String(object.kind)} ${String(meta.name)}`;
    c.require([LABELS.session, LABELS.project, LABELS.role].every((k) => typeof labels[k] === 'string' && labels[k] !== ''), 'labels', `${subject}: needs the labels drydock.session, drydock.project and drydock.role`);
    c.require(labels[LABEL_SESSION] === undefined || labels[LABEL_SESSION] === session, 'labels', `${subject}: drydock.session is not ${session}`);
    c.require(object.kind === 'Namespace' || meta.namespace === namespace, 'object-namespace', `${subject}: must be in namespace ${namespace}`);
  }
  checkPolicies(c, objects, session, input.ports);

  const config = block(find(objects, 'ConfigMap', CONFIG_MAP)?.data);
  c.require(typeof config[FILE_NAMES.filter] === 'string' && typeof config[FILE_NAMES.tinyproxyConf] === 'string', 'config-map', `ConfigMap ${CONFIG_MAP}: must carry ${FILE_NAMES.filter} and ${FILE_NAMES.tinyproxyConf}`);

  const proxy = find(objects, 'Pod', PROXY_POD);
  c.require(proxy !== undefined, 'proxy-pod', `Pod ${PROXY_POD} is missing`);
  if (proxy) {
    checkPodHardening(c, `Pod ${PROXY_POD}`, proxy, PROXY_UID, true);
    const container = block(list(block(proxy.spec).containers)[0]);
    const probe = block(block(container.readinessProbe).exec);
    c.require(strings(probe.command).join(' ').includes(`/dev/tcp/127.0.0.1/${PROXY_PORT}`), 'proxy-readiness', `Pod ${PROXY_POD}: needs a readiness probe that connects to the proxy port`);
    const mount = list(container.volumeMounts).map(block).find((m) => m.name === 'config');
    c.require(mount?.readOnly === true, 'proxy-config-read-only', `Pod ${PROXY_POD}: its config must be mounted read-only`);
    c.add(proxyResourceViolations(`Pod ${PROXY_POD}`, proxy));
  }
  const service = block(find(objects, 'Service', PROXY_SERVICE)?.spec);
  c.require(
    same(service.selector, { [LABEL_SESSION]: session, [LABEL_ROLE]: 'egress' }) && service.type === 'ClusterIP' && list(service.ports).length === 1 && block(list(service.ports)[0]).port === PROXY_PORT,
    'proxy-service',
    `Service ${PROXY_SERVICE}: ClusterIP, selecting the proxy pod only, port ${PROXY_PORT} only`,
  );

  const agent = find(objects, 'Pod', AGENT_POD);
  if (agent) checkAgent(c, agent, session, input.proxyAddress);
  const probe = find(objects, 'Pod', PROBE_POD);
  if (probe) {
    checkNoDns(c, `Pod ${PROBE_POD}`, probe, session, 'probe', input.proxyAddress);
    checkPodHardening(c, `Pod ${PROBE_POD}`, probe, PROXY_UID, true);
    c.add(probeResourceViolations(`Pod ${PROBE_POD}`, probe));
  }
  const pods = objects.map(block).filter((o) => o.kind === 'Pod').map((o) => String(block(o.metadata).name));
  const strayPods = pods.filter((name) => ![PROXY_POD, AGENT_POD, PROBE_POD].includes(name));
  c.require(strayPods.length === 0, 'unexpected-pod', `unexpected Pod(s) ${strayPods.join(', ')}`);
  const kinds = objects.map(block).map((o) => String(o.kind)).filter((k) => !['Namespace', 'NetworkPolicy', 'ConfigMap', 'Pod', 'Service'].includes(k));
  c.require(kinds.length === 0, 'unexpected-kind', `unexpected object kind(s) ${kinds.join(', ')}`);
  return c.violations;
}
