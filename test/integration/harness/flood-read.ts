/**
 * Run in a child process with a small heap (`node --max-old-space-size=N`): drydock's own teardown
 * log reader (saveEgressLog → Docker.streamLogs → the real process runner) on a flood-docker that
 * writes FLOOD_MB of refusals. A reader that held the log, or anything growing with it, dies of
 * heap exhaustion here. Prints one JSON line: what was saved, what was counted, peak memory.
 */
import { withPeakMemory } from './peak-memory.js';
import { parseAllowlist } from '../../../lib/allowlist/parse.js';
import { Docker } from '../../../lib/docker/client.js';
import { processRunner } from '../../../lib/docker/runner.js';
import { saveEgressLog } from '../../../lib/session/save-log.js';

const dir = process.argv[2]!;
const { result: saved, peakHeap, peakRss } = await withPeakMemory(() =>
  saveEgressLog({
    docker: new Docker(processRunner(process.env)),
    container: 'drydock-flood-egress',
    dir,
    decisions: { session: 'flood-0001', entries: parseAllowlist('github.com\n', 'list').entries, projectList: '/cfg/egress-allowlist-flood', observe: false },
    maxBytes: Number(process.env.CAP_BYTES),
    timeoutMs: 30 * 60_000,
  }),
);
process.stdout.write(`${JSON.stringify({ saved, peakHeap, peakRss })}\n`);
