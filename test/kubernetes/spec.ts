/** A fixed kubernetes session spec for the pure manifest tests. */
import type { KubernetesSessionSpec } from '../../lib/kubernetes/manifests.js';

export function k8sSpec(overrides: Partial<KubernetesSessionSpec> = {}): KubernetesSessionSpec {
  return {
    sessionId: 'demo-1a2b',
    project: 'demo',
    observe: false,
    agentImage: 'drydock-agent:latest',
    egressImage: 'drydock-egress:latest',
    filter: '\\`(api\\.anthropic\\.com)\\.?:443$\n',
    tinyproxyConf: 'Port 8888\n',
    proxyPorts: [443],
    userEnv: {},
    ...overrides,
  };
}
