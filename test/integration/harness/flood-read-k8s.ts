/**
 * flood-read.ts for the kubernetes target: drydock's own teardown (teardownKubernetesSession →
 * saveEgressLog → Kubectl.streamLogs → the real process runner) on a flood-kubectl that writes
 * FLOOD_MB of refusals, in a child with a small heap. Prints one JSON line: the teardown, peak memory.
 */
import { withPeakMemory } from './peak-memory.js';
import { parseAllowlist } from '../../../lib/allowlist/parse.js';
import { processRunner } from '../../../lib/docker/runner.js';
import { Kubectl } from '../../../lib/kubernetes/kubectl.js';
import { teardownKubernetesSession } from '../../../lib/kubernetes/teardown.js';

const dir = process.argv[2]!;
const { result: teardown, peakHeap, peakRss } = await withPeakMemory(() =>
  teardownKubernetesSession(new Kubectl(processRunner(process.env), 'flood-context'), 'flood-0001', {
    dir,
    decisions: { session: 'flood-0001', entries: parseAllowlist('github.com\n', 'list').entries, projectList: '/cfg/egress-allowlist-flood', observe: false },
    maxBytes: Number(process.env.CAP_BYTES),
    timeoutMs: 30 * 60_000,
  }),
);
process.stdout.write(`${JSON.stringify({ teardown, peakHeap, peakRss })}\n`);
