/**
 * Each limit invariant is shown to bite: the rendered session has none of these violations, and
 * removing (or weakening) exactly one limit yields exactly that one violation, in both modes.
 */
import { describe, expect, it } from 'vitest';
import type { ComposeFile, ComposeService } from '../../lib/render/compose-types.js';
import { checkContainedInvariants, checkDoodInvariants } from '../../lib/render/invariants.js';
import { mergeCompose } from '../../lib/render/merge.js';
import { renderOverlay } from '../../lib/render/overlay.js';
import { sizeOf } from '../../lib/limits/invariants.js';
import { testSpec } from '../render/spec.js';

function merged(mode: 'contain' | 'dood'): ComposeFile {
  const { base, overlay } = renderOverlay(testSpec({ mode, dockerSocketGid: 999 }));
  return mergeCompose(base, overlay);
}

const codes = (violations: Array<{ code: string }>) => violations.map((v) => v.code);
const agentOf = (doc: ComposeFile): ComposeService => doc.services.drydock!;
const sidecarOf = (doc: ComposeFile): ComposeService => doc.services['drydock-egress']!;

type Mutation = [name: string, code: string, mutate: (doc: ComposeFile) => void];

const agentMutations: Mutation[] = [
  ['agent without mem_limit', 'memory-limit', (d) => void delete agentOf(d).mem_limit],
  ['agent with swap on top of its memory', 'memory-limit', (d) => void (agentOf(d).memswap_limit = '64g')],
  ['agent without memswap_limit', 'memory-limit', (d) => void delete agentOf(d).memswap_limit],
  ['agent without pids_limit', 'pids-limit', (d) => void delete agentOf(d).pids_limit],
  ['agent with pids_limit -1 (unlimited)', 'pids-limit', (d) => void (agentOf(d).pids_limit = -1)],
  ['agent without cpus', 'cpu-limit', (d) => void delete agentOf(d).cpus],
  ['agent without logging', 'log-cap', (d) => void delete agentOf(d).logging],
  ['agent log without max-size', 'log-cap', (d) => void delete (agentOf(d).logging!.options as Record<string, string>)['max-size']],
  ['agent log without max-file', 'log-cap', (d) => void delete (agentOf(d).logging!.options as Record<string, string>)['max-file']],
  ['agent log on another driver', 'log-cap', (d) => void ((agentOf(d).logging as { driver: string }).driver = 'local')],
];

const sidecarMutations: Mutation[] = [
  ['sidecar without mem_limit', 'memory-limit', (d) => void delete sidecarOf(d).mem_limit],
  ['sidecar without memswap_limit', 'memory-limit', (d) => void delete sidecarOf(d).memswap_limit],
  ['sidecar without pids_limit', 'pids-limit', (d) => void delete sidecarOf(d).pids_limit],
  ['sidecar without logging', 'log-cap', (d) => void delete sidecarOf(d).logging],
  ['sidecar log without max-size', 'log-cap', (d) => void delete (sidecarOf(d).logging!.options as Record<string, string>)['max-size']],
  ['sidecar /tmp without a size', 'sidecar-tmpfs-size', (d) => void (sidecarOf(d).tmpfs = sidecarOf(d).tmpfs!.map((t) => (t.startsWith('/tmp') ? '/tmp' : t)))],
  ['sidecar /run with a size of 0', 'sidecar-tmpfs-size', (d) => void (sidecarOf(d).tmpfs = sidecarOf(d).tmpfs!.map((t) => (t.startsWith('/run') ? '/run:size=0' : t)))],
];

describe('limit invariants', () => {
  it('hold for the rendered sessions', () => {
    expect(checkContainedInvariants(merged('contain'))).toEqual([]);
    expect(checkDoodInvariants(merged('dood'))).toEqual([]);
  });

  it.each([...agentMutations, ...sidecarMutations])('contained: %s → exactly %s', (_name, code, mutate) => {
    const doc = structuredClone(merged('contain'));
    mutate(doc);
    expect(codes(checkContainedInvariants(doc))).toEqual([code]);
  });

  it.each(agentMutations)('dood: %s → exactly %s', (_name, code, mutate) => {
    const doc = structuredClone(merged('dood'));
    mutate(doc);
    expect(codes(checkDoodInvariants(doc))).toEqual([code]);
  });

  it('reads sizes as compose may print them', () => {
    expect(sizeOf('512m')).toBe(512 * 1024 ** 2);
    expect(sizeOf('4g')).toBe(4 * 1024 ** 3);
    expect(sizeOf(1048576)).toBe(1048576);
    expect(sizeOf('0')).toBeUndefined();
    expect(sizeOf('lots')).toBeUndefined();
    expect(sizeOf(undefined)).toBeUndefined();
  });
});
