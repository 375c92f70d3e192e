/**
 * What a kubernetes session's Pods must carry to be bounded, as the compose services must
 * (lib/limits/invariants.ts): memory limits with requests equal to them (no node overcommitted),
 * an ephemeral-storage limit on the proxy (its log is what it can write to the node's disk), a
 * size on each of its emptyDirs, a CPU limit on the agent, and limits on the probe. Read loosely,
 * like invariants.ts; called from checkKubernetesInvariants.
 */
import type { Violation } from '../render/invariants.js';

type Block = Record<string, unknown>;

const block = (value: unknown): Block => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Block) : {});
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** A Kubernetes quantity (`256Mi`, `1.5`, `250m`, `1G`) that is a positive amount; false for anything else. */
export function positiveQuantity(value: unknown): boolean {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') return false;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$/.exec(text);
  return m !== null && Number(m[1]) > 0;
}

function resources(pod: Block): { requests: Block; limits: Block } {
  const container = block(list(block(pod.spec).containers)[0]);
  const r = block(container.resources);
  return { requests: block(r.requests), limits: block(r.limits) };
}

/** Memory limited, and requested at that limit. */
function memory(what: string, pod: Block, code: string): Violation[] {
  const { requests, limits } = resources(pod);
  const ok = positiveQuantity(limits.memory) && String(requests.memory) === String(limits.memory);
  return ok ? [] : [{ code, message: `${what}: needs a memory limit, and a memory request equal to it` }];
}

export function proxyResourceViolations(what: string, proxy: Block): Violation[] {
  const out = memory(what, proxy, 'proxy-memory-limit');
  const { limits } = resources(proxy);
  if (!positiveQuantity(limits['ephemeral-storage'])) {
    out.push({ code: 'proxy-ephemeral-storage', message: `${what}: needs an ephemeral-storage limit (its log is written to the node's disk)` });
  }
  const unsized = list(block(proxy.spec).volumes).map(block).filter((v) => v.emptyDir !== undefined && !positiveQuantity(block(v.emptyDir).sizeLimit));
  if (unsized.length > 0) {
    out.push({ code: 'proxy-emptydir-size', message: `${what}: emptyDir ${unsized.map((v) => String(v.name)).join(', ')} needs a sizeLimit` });
  }
  return out;
}

export function agentResourceViolations(what: string, agent: Block): Violation[] {
  const out = memory(what, agent, 'agent-memory-limit');
  if (!positiveQuantity(resources(agent).limits.cpu)) out.push({ code: 'agent-cpu-limit', message: `${what}: needs a cpu limit` });
  return out;
}

export function probeResourceViolations(what: string, probe: Block): Violation[] {
  return memory(what, probe, 'probe-memory-limit');
}
