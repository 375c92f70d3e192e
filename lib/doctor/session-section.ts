/**
 * `drydock doctor --session ID`: the start-up self-test again, for a session that is running now
 * (lib/selftest/). One section, one check per self-test check; a failed check fails doctor.
 */
import type { Docker } from '../docker/client.js';
import { DrydockError, errorMessage } from '../errors.js';
import { EGRESS_NETWORK, LABELS, agentContainerName, egressContainerName, internalNetworkName, netnsContainerName } from '../names.js';
import { runSelfTest } from '../selftest/session.js';
import { groupSessions } from '../session/model.js';
import { fail, pass, warn, type Check, type Section } from './checks.js';

export async function sessionSelfTestSection(docker: Docker, sessionId: string): Promise<Section> {
  const name = `SELF-TEST ${sessionId}`;
  const checks: Check[] = [];
  try {
    const [view] = groupSessions(await docker.listSessionState({ session: sessionId }));
    if (!view?.live) {
      checks.push(fail('session', view ? `${sessionId} is not running (its agent is ${view.agent?.state ?? 'gone'})` : `no session ${sessionId}`, 'name a running session: drydock doctor lists them under NETWORK POOL'));
    } else if (view.mode === 'dood') {
      checks.push(warn('session', `${sessionId} is a dood session: it has no jail to test`, 'run contained sessions (the default mode)'));
    } else if (!view.egress || !view.egress.image) {
      checks.push(fail('session', `${sessionId} has no egress sidecar: its agent has no way out, and no jail to prove`, `drydock stop ${sessionId}`));
    } else {
      const report = await runSelfTest(docker, {
        sessionId,
        agentContainer: view.agent?.name ?? agentContainerName(sessionId),
        netnsContainer: view.others.find((c) => c.labels[LABELS.role] === 'netns')?.name ?? netnsContainerName(sessionId),
        egressContainer: view.egress.name ?? egressContainerName(sessionId),
        internalNetwork: internalNetworkName(sessionId),
        egressNetwork: EGRESS_NETWORK,
        egressImage: view.egress.image,
        observe: view.observe,
      });
      for (const c of report.checks) {
        checks.push(c.ok ? pass(c.name, c.detail) : fail(c.name, c.detail, `the jail of ${sessionId} is broken: drydock stop ${sessionId}, then drydock doctor`));
      }
    }
  } catch (error) {
    if (!(error instanceof DrydockError)) throw error;
    checks.push(fail('self-test', errorMessage(error).split('\n')[0]!, 'see the ENGINE section'));
  }
  return { name, checks };
}
