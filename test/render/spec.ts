/** A fixed session spec for the pure renderer's tests: no absolute host paths, no randomness. */
import { defaultLimits } from '../../lib/limits/settings.js';
import type { SessionSpec } from '../../lib/render/overlay.js';

/** A fixed machine for the default limits: 4 cores, 16 GiB. */
export const TEST_HOST = { cpus: 4, memoryBytes: 16 * 1024 ** 3 };

export function testSpec(overrides: Partial<SessionSpec> = {}): SessionSpec {
  return {
    sessionId: 'demo-1a2b',
    project: 'demo',
    projectDir: '/work/demo',
    mode: 'contain',
    observe: false,
    agentImage: 'drydock-agent:latest',
    egressImage: 'drydock-egress:latest',
    userEnv: {},
    limits: defaultLimits(TEST_HOST),
    agent: { user: '1000:1000', root: false, homeSource: '/state/agent-state/demo/home', extraCa: false, gitconfig: false, telemetryDefaults: true },
    ...overrides,
  };
}
