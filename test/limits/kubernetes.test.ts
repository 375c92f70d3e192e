import { describe, expect, it } from 'vitest';
import { agentResources, cpuQuantity, proxyResources, quantity } from '../../lib/limits/kubernetes.js';
import { defaultLimits } from '../../lib/limits/settings.js';
import { positiveQuantity } from '../../lib/kubernetes/resource-invariants.js';

describe('limits as Kubernetes resources', () => {
  it('writes sizes as exact quantities and CPUs as whole or millicores', () => {
    expect([quantity(256 * 1024 ** 2), quantity(4 * 1024 ** 3), quantity(1536 * 1024), quantity(1000)]).toEqual(['256Mi', '4Gi', '1536Ki', '1000']);
    expect([cpuQuantity(3), cpuQuantity(1.5), cpuQuantity(0.01)]).toEqual(['3', '1500m', '10m']);
  });

  it('takes the defaults from the compose limits: proxy memory, log budget as disk; agent memory and cpus', () => {
    const limits = defaultLimits({ cpus: 4, memoryBytes: 16 * 1024 ** 3 });
    expect(proxyResources(limits.egress, limits.logs)).toEqual({
      requests: { cpu: '50m', memory: '256Mi', 'ephemeral-storage': '30Mi' },
      limits: { memory: '256Mi', 'ephemeral-storage': '30Mi' },
    });
    expect(agentResources(limits.agent)).toEqual({ requests: { cpu: '250m', memory: '8Gi' }, limits: { cpu: '3', memory: '8Gi' } });
  });

  it('never requests more CPU than the agent may use', () => {
    const limits = defaultLimits({ cpus: 4, memoryBytes: 16 * 1024 ** 3 });
    expect(agentResources({ ...limits.agent, cpus: 0.1 }).requests).toEqual({ cpu: '100m', memory: '8Gi' });
  });

  it('reads quantities loosely but refuses zero and nonsense', () => {
    expect(['256Mi', '1', '1.5', '250m', '1G', 2].map(positiveQuantity)).toEqual([true, true, true, true, true, true]);
    expect(['0', '0Mi', '', 'lots', '-1Mi', undefined, null].map(positiveQuantity)).toEqual([false, false, false, false, false, false, false]);
  });
});
