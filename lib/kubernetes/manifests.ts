/**
 * The pure heart of the kubernetes target: a session spec in, typed Kubernetes objects out
 * (kubernetes-models' interfaces, so a misspelt field is a type error). No I/O, no randomness.
 *
 * The jail, as the cluster sees it:
 *   - one namespace per session, Pod Security `restricted`, with a default-deny NetworkPolicy;
 *   - the proxy Pod (tinyproxy, the compose sidecar's image and its exact egress files — filter,
 *     config, refusal pages — from a ConfigMap) and its Service;
 *   - the agent Pod, a separate Pod (containers of one Pod share a network namespace, so a proxy
 *     container beside the agent would give the agent the proxy's network), without DNS;
 *   - policies: agent egress only to its proxy on 8888; proxy ingress only from its agent; proxy
 *     egress only to cluster DNS and to public addresses on the ports the allowlist names.
 *
 * The compose sidecar's entrypoint binds tinyproxy to its internal interface and allows only that
 * subnet, because there the sidecar has two interfaces. A Pod has one, so the proxy Pod runs
 * tinyproxy directly on the mounted config (listening on the Pod's address, no Allow line), and
 * the NetworkPolicies do the isolation. `run` starts nothing of the agent before a probe showed
 * the cluster enforces them (lib/kubernetes/probe.ts).
 */
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PROBE_RESOURCES, agentResources, proxyEmptyDirSize, proxyResources } from '../limits/kubernetes.js';
import { TELEMETRY_DEFAULTS } from '../render/overlay.js';
import { NO_PROXY_FIXED, NO_PROXY_VARIABLES, PROXY_PORT, PROXY_VARIABLES, SIDECAR_CONF_PATH, WORKSPACE } from '../names.js';
import {
  AGENT_CONTAINER,
  AGENT_POD,
  CONFIG_MAP,
  LABEL_ROLE,
  LABEL_SESSION,
  PROBE_CONTAINER,
  PROBE_POD,
  PROXY_CONTAINER,
  PROXY_HOST,
  PROXY_POD,
  PROXY_SERVICE,
  namespaceName,
} from './names.js';
import { PROBE_SCRIPT } from './probe-script.js';
import { networkPolicies } from './policies.js';
import { objectMeta, sessionLabels, type KubernetesSessionSpec } from './spec.js';

export type { KubernetesSessionSpec } from './spec.js';

export type KubernetesObject = INamespace | INetworkPolicy | IConfigMap | IPod | IService;

/** The uids the Pods run as: the sidecar image's user, and the default agent image's. */
export const PROXY_UID = 10001;
export const AGENT_UID = 1000;
/** The agent has no DNS; a resolver is still required with `dnsPolicy: None`, so it is loopback. */
export const AGENT_NAMESERVER = '127.0.0.1';
export const POD_SECURITY_LABELS = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/audit': 'restricted',
};
/** What the agent's /etc/hosts pins (hostAliases) and its proxy variables name. */
export const K8S_PROXY_URL = `http://${PROXY_HOST}:${PROXY_PORT}`;
export const K8S_NO_PROXY: readonly string[] = [PROXY_HOST, ...NO_PROXY_FIXED];
/** The proxy Pod mounts its ConfigMap here: SIDECAR_CONF_PATH's directory, as in compose. */
export const PROXY_CONFIG_DIR = SIDECAR_CONF_PATH.slice(0, SIDECAR_CONF_PATH.lastIndexOf('/'));

/** Kubernetes expands `$(VAR)` in env values; `$$` is a literal `$`. */
export function escapeEnvValue(value: string): string {
  return value.replace(/\$/g, '$$$$');
}

/** Restricted Pod Security, per container: nothing to escalate to, no capability at all. */
function lockedDown(readOnlyRoot: boolean): ISecurityContext {
  return { allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: readOnlyRoot, capabilities: { drop: ['ALL'] } };
}

function podSecurity(uid: number): IPodSecurityContext {
  return { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: 'RuntimeDefault' } };
}

function proxyPod(spec: KubernetesSessionSpec): IPod {
  const container: IContainer = {
    name: PROXY_CONTAINER,
    image: spec.egressImage,
    imagePullPolicy: 'IfNotPresent',
    // Not the compose entrypoint: it binds to the internal one of two interfaces; a Pod has one.
    command: ['tinyproxy', '-d', '-c', SIDECAR_CONF_PATH],
    ports: [{ name: 'proxy', containerPort: PROXY_PORT, protocol: 'TCP' }],
    securityContext: lockedDown(true),
    resources: proxyResources(spec.limits.egress, spec.limits.logs),
    volumeMounts: [
      { name: 'config', mountPath: PROXY_CONFIG_DIR, readOnly: true },
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'run', mountPath: '/run' },
    ],
    // Ready only once the proxy accepts a connection: the agent is applied after that.
    readinessProbe: {
      exec: { command: ['/bin/bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${PROXY_PORT}`] },
      periodSeconds: 1,
      timeoutSeconds: 2,
      failureThreshold: 3,
    },
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: objectMeta(spec, PROXY_POD, 'egress'),
    spec: {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      dnsPolicy: 'ClusterFirst',
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 5,
      securityContext: podSecurity(PROXY_UID),
      containers: [container],
      volumes: [
        {
          name: 'config',
          configMap: {
            name: CONFIG_MAP,
            defaultMode: 0o444,
            items: Object.keys(spec.egressFiles).sort().map((key) => ({ key, path: key })),
          },
        },
        // Like the compose sidecar's tmpfs: in memory (counted in its memory limit), each of that size.
        { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: proxyEmptyDirSize(spec.limits.egress) } },
        { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: proxyEmptyDirSize(spec.limits.egress) } },
      ],
    },
  };
}

/** The proxy side: everything `run` applies and waits for before any agent-side Pod exists. */
export function proxySideObjects(spec: KubernetesSessionSpec): KubernetesObject[] {
  const namespace: INamespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespaceName(spec.sessionId), labels: { ...sessionLabels(spec, 'namespace'), ...POD_SECURITY_LABELS } },
  };
  const config: IConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMeta(spec, CONFIG_MAP, 'config'),
    immutable: true,
    data: Object.fromEntries(Object.keys(spec.egressFiles).sort().map((key) => [key, spec.egressFiles[key]!])),
  };
  const service: IService = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMeta(spec, PROXY_SERVICE, 'egress'),
    spec: {
      type: 'ClusterIP',
      selector: { [LABEL_SESSION]: spec.sessionId, [LABEL_ROLE]: 'egress' },
      ports: [{ name: 'proxy', port: PROXY_PORT, targetPort: PROXY_PORT, protocol: 'TCP' }],
    },
  };
  // Policies before Pods, so no Pod of the session ever runs without them.
  return [namespace, ...networkPolicies(spec), config, proxyPod(spec), service];
}

/** The network side of an agent-policy Pod: no DNS, the proxy pinned in /etc/hosts. */
function noDnsPodSpec(proxyAddress: string): Pick<IPodSpec, 'automountServiceAccountToken' | 'enableServiceLinks' | 'dnsPolicy' | 'dnsConfig' | 'hostAliases'> {
  return {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    dnsPolicy: 'None',
    dnsConfig: { nameservers: [AGENT_NAMESERVER], searches: [], options: [{ name: 'ndots', value: '0' }] },
    hostAliases: [{ ip: proxyAddress, hostnames: [PROXY_HOST] }],
  };
}

function agentEnv(spec: KubernetesSessionSpec): Array<{ name: string; value: string }> {
  const env: Array<{ name: string; value: string }> = [];
  for (const name of PROXY_VARIABLES) env.push({ name, value: K8S_PROXY_URL });
  for (const name of NO_PROXY_VARIABLES) env.push({ name, value: K8S_NO_PROXY.join(',') });
  for (const [name, value] of Object.entries(TELEMETRY_DEFAULTS)) {
    const own = spec.userEnv[name];
    env.push({ name, value: escapeEnvValue(own === undefined ? value : own) });
  }
  return env;
}

/** The agent Pod: a keepalive (`run` execs the command into it), hardened as in compose and more. */
export function agentPod(spec: KubernetesSessionSpec, proxyAddress: string): IPod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: objectMeta(spec, AGENT_POD, 'agent'),
    spec: {
      ...noDnsPodSpec(proxyAddress),
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 5,
      securityContext: podSecurity(AGENT_UID),
      containers: [
        {
          name: AGENT_CONTAINER,
          image: spec.agentImage,
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', 'infinity'],
          workingDir: WORKSPACE,
          env: agentEnv(spec),
          securityContext: lockedDown(false),
          resources: agentResources(spec.limits.agent),
          volumeMounts: [{ name: 'workspace', mountPath: WORKSPACE }],
        },
      ],
      // The cluster cannot see the host's project directory: the workspace starts empty.
      volumes: [{ name: 'workspace', emptyDir: {} }],
    },
  };
}

/**
 * The throw-away probe: under the agent's NetworkPolicy (same selector, same no-DNS network side),
 * in the sidecar image (bash's /dev/tcp is all it needs). It must reach its proxy (else it proves
 * nothing) and must fail to reach the API server directly.
 */
export function probePod(spec: KubernetesSessionSpec, proxyAddress: string): IPod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: objectMeta(spec, PROBE_POD, 'probe'),
    spec: {
      ...noDnsPodSpec(proxyAddress),
      restartPolicy: 'Never',
      activeDeadlineSeconds: 60,
      terminationGracePeriodSeconds: 0,
      securityContext: podSecurity(PROXY_UID),
      containers: [
        {
          name: PROBE_CONTAINER,
          image: spec.egressImage,
          imagePullPolicy: 'IfNotPresent',
          command: ['/bin/bash', '-c', PROBE_SCRIPT, 'drydock-probe', PROXY_HOST, String(PROXY_PORT)],
          securityContext: lockedDown(true),
          resources: structuredClone(PROBE_RESOURCES),
        },
      ],
    },
  };
}
