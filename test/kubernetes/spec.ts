/** A fixed kubernetes session spec for the pure manifest tests. */
import type { KubernetesSessionSpec } from '../../lib/kubernetes/manifests.js';
import { defaultLimits } from '../../lib/limits/settings.js';
import { TEST_HOST } from '../render/spec.js';

export function k8sSpec(overrides: Partial<KubernetesSessionSpec> = {}): KubernetesSessionSpec {
  return {
    sessionId: 'demo-1a2b',
    project: 'demo',
    observe: false,
    agentImage: 'drydock-agent:latest',
    egressImage: 'drydock-egress:latest',
    egressFiles: { 'egress-filter': '\\`(api\\.anthropic\\.com)\\.?:443$\n', 'tinyproxy.conf': 'Port 8888\n', 'refused-403.html': '<p>refused</p>\n' },
    proxyPorts: [443],
    limits: defaultLimits(TEST_HOST),
    userEnv: {},
    ...overrides,
  };
}
