import { describe, expect, it } from 'vitest';
import { Docker } from '../../lib/docker/client.js';
import type { CommandRunner } from '../../lib/docker/runner.js';
import { teardownSession } from '../../lib/session/teardown.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { DENIAL_LOG } from './run-fixture.js';
import { netFor, psFor, sessionLines } from './fixtures.js';

const ID = 'myapp-0001';

describe('teardown order: the agent first, the sidecar once its log is saved (not after the agent), the network last', () => {
  it('removes the sidecar while the agent\'s removal is still under way, and never before its log was read', async () => {
    const lines = sessionLines({ id: ID, mode: 'contain' });
    const fake = new FakeRunner()
      .expect({ argv: psFor(ID), result: { stdout: lines.containers.join('\n') } })
      .expect({ argv: netFor(ID), result: { stdout: lines.networks.join('\n') } })
      .expect({ argv: ['docker', 'logs', '--timestamps', `drydock-${ID}-egress`], result: { stderr: DENIAL_LOG } })
      .expect({ argv: ['docker', 'rm', '-f', `a-${ID}`], result: { stdout: `a-${ID}\n` } })
      .expect({ argv: ['docker', 'rm', '-f', `e-${ID}`], result: { stdout: `e-${ID}\n` } })
      .expect({ argv: ['docker', 'network', 'rm', `n-${ID}`], result: { stdout: `n-${ID}\n` } });
    const events: string[] = [];
    let releaseAgent!: () => void;
    const agentGate = new Promise<void>((done) => (releaseAgent = done));
    // The agent's removal hangs until the sidecar's has begun: the old order (sidecar after the agent) would deadlock here.
    const runner: CommandRunner = {
      async run(argv, options) {
        const what = argv.slice(1, 3).join(' ') + (argv[3] ? ` ${argv[3]}` : '');
        events.push(`start ${what}`);
        if (argv[1] === 'rm' && argv[3] === `a-${ID}`) await agentGate;
        if (argv[1] === 'rm' && argv[3] === `e-${ID}`) releaseAgent();
        const result = await fake.run(argv, options);
        events.push(`end ${what}`);
        return result;
      },
    };
    const result = await teardownSession({ docker: new Docker(runner), sessionId: ID, contained: true });
    expect(result.failures).toEqual([]);
    expect(result.removedContainers.sort()).toEqual([`drydock-${ID}`, `drydock-${ID}-egress`].sort());
    const at = (e: string) => events.indexOf(e);
    expect(at('start rm -f a-myapp-0001')).toBeLessThan(at('start logs --timestamps drydock-myapp-0001-egress'));
    expect(at('end logs --timestamps drydock-myapp-0001-egress')).toBeLessThan(at('start rm -f e-myapp-0001'));
    expect(at('start rm -f e-myapp-0001')).toBeLessThan(at('end rm -f a-myapp-0001'));
    expect(at('start network rm n-myapp-0001')).toBeGreaterThan(Math.max(at('end rm -f a-myapp-0001'), at('end rm -f e-myapp-0001')));
  });
});
