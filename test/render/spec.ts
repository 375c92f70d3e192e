/** A fixed session spec for the pure renderer's tests: no absolute host paths, no randomness. */
import type { SessionSpec } from '../../lib/render/overlay.js';

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
    agent: { user: '1000:1000', root: false, homeSource: '/state/agent-state/demo/home', extraCa: false, gitconfig: false, telemetryDefaults: true },
    ...overrides,
  };
}
