/**
 * Before the agent exists: does this cluster enforce NetworkPolicy? A CNI that ignores policies
 * (kubenet, flannel alone, many local clusters) would leave the agent with the Pod network's open
 * egress, so such a cluster must not run a session. The probe Pod (lib/kubernetes/manifests.ts,
 * script in probe-script.ts) is under the agent's policy; only its `enforced` verdict passes.
 */
import { ExternalError } from '../errors.js';
import type { Kubectl } from './kubectl.js';
import { manifestYaml } from './render.js';
import type { KubernetesObject } from './manifests.js';
import { PROBE_CONTAINER, PROBE_POD } from './names.js';
import { PROBE_VERDICTS } from './probe-script.js';

export interface ProbeDeps {
  kubectl: Kubectl;
  namespace: string;
  objects: KubernetesObject[];
  timeoutMs: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  signal?: AbortSignal;
}

export type ProbeOutcome = { enforced: true; line: string } | { enforced: false; reason: string };

/** The decision from the Pod's end state and log: anything but Succeeded + `enforced` is a no. */
export function probeVerdict(phase: string, log: string | undefined): ProbeOutcome {
  const line = (log ?? '').split('\n').map((l) => l.trim()).find((l) => l.startsWith('drydock-probe: '));
  if (phase === 'Succeeded' && line?.startsWith(`${PROBE_VERDICTS.enforced} `)) return { enforced: true, line };
  if (line?.startsWith(PROBE_VERDICTS.notEnforced)) {
    return { enforced: false, reason: `the cluster does not enforce NetworkPolicy: a pod under the agent's policy ${line.slice(PROBE_VERDICTS.notEnforced.length + 1)}` };
  }
  if (line?.startsWith(PROBE_VERDICTS.inconclusive)) {
    return { enforced: false, reason: `the NetworkPolicy probe was inconclusive: it ${line.slice(PROBE_VERDICTS.inconclusive.length + 1)}` };
  }
  return { enforced: false, reason: `the NetworkPolicy probe ended ${phase || 'in no known phase'} without a verdict` };
}

export async function probeNetworkPolicy(deps: ProbeDeps): Promise<ProbeOutcome> {
  const { kubectl, namespace } = deps;
  await kubectl.apply(manifestYaml(deps.objects, 'drydock NetworkPolicy probe'), deps.signal);
  const deadline = deps.now() + deps.timeoutMs;
  let phase = '';
  for (;;) {
    phase = await kubectl.podPhase(namespace, PROBE_POD, deps.signal);
    if (phase === 'Succeeded' || phase === 'Failed') break;
    if (deps.now() >= deadline) {
      return { enforced: false, reason: `the NetworkPolicy probe did not finish within ${Math.round(deps.timeoutMs / 1000)} s (last phase: ${phase || 'unknown'})` };
    }
    if (deps.signal?.aborted) throw new ExternalError('interrupted while probing NetworkPolicy enforcement');
    await deps.sleep(1000);
  }
  const log = await kubectl.logs(namespace, PROBE_POD, PROBE_CONTAINER);
  const outcome = probeVerdict(phase, log);
  // The probe may reach the proxy: it must be gone before the agent is.
  await kubectl.deletePod(namespace, PROBE_POD);
  return outcome;
}
