/**
 * What the merged compose document must carry for a session to be bounded: memory (with no swap on
 * top), CPU and pids limits on the agent, memory and pids on the sidecar, size caps on both logs,
 * sized tmpfs. Read loosely (compose's `config` may print sizes as numbers), like invariants.ts.
 * Called from checkContainedInvariants / checkDoodInvariants.
 */
import type { Violation } from '../render/invariants.js';
import { SIDECAR_TMPFS_PATHS } from './compose.js';
import { block, type Block } from '../render/compose-read.js';


/** A size as compose writes it (`512m`, `4g`, `1024`), in bytes; undefined if absent or unreadable. */
export function sizeOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value > 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)([bkmg]?)b?$/i.exec(value.trim());
  if (!m) return undefined;
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase()]!;
  const bytes = Number(m[1]) * unit;
  return bytes > 0 ? bytes : undefined;
}

function positive(value: unknown): boolean {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0;
}

function memoryViolations(name: string, service: Block): Violation[] {
  const memory = sizeOf(service.mem_limit);
  const swap = sizeOf(service.memswap_limit);
  const out: Violation[] = [];
  if (memory === undefined) out.push({ code: 'memory-limit', message: `${name}: needs a mem_limit` });
  else if (swap !== memory) out.push({ code: 'memory-limit', message: `${name}: memswap_limit must equal mem_limit (no swap on top of the limit)` });
  if (!positive(service.pids_limit)) out.push({ code: 'pids-limit', message: `${name}: needs a positive pids_limit` });
  return out;
}

function loggingViolations(name: string, service: Block): Violation[] {
  const logging = block(service.logging) ?? {};
  const options = block(logging.options) ?? {};
  const capped = logging.driver === 'json-file' && sizeOf(options['max-size']) !== undefined && positive(options['max-file']);
  return capped ? [] : [{ code: 'log-cap', message: `${name}: logging must be json-file with max-size and max-file` }];
}

export function agentLimitViolations(name: string, agent: Block): Violation[] {
  const out = [...memoryViolations(name, agent), ...loggingViolations(name, agent)];
  if (!positive(agent.cpus)) out.push({ code: 'cpu-limit', message: `${name}: needs a cpus limit` });
  return out;
}

export function sidecarLimitViolations(name: string, sidecar: Block): Violation[] {
  const out = [...memoryViolations(name, sidecar), ...loggingViolations(name, sidecar)];
  const tmpfs = (Array.isArray(sidecar.tmpfs) ? sidecar.tmpfs : typeof sidecar.tmpfs === 'string' ? [sidecar.tmpfs] : []).map(String);
  for (const path of SIDECAR_TMPFS_PATHS) {
    const entry = tmpfs.find((t) => t.split(':')[0] === path);
    if (entry === undefined) continue; // a missing mount is the sidecar-tmpfs invariant's to report
    const size = entry.includes(':') ? /(?:^|,)size=([^,]+)/.exec(entry.slice(entry.indexOf(':') + 1))?.[1] : undefined;
    if (sizeOf(size) === undefined) {
      out.push({ code: 'sidecar-tmpfs-size', message: `${name}: tmpfs ${path} needs a size (${path}:size=…)` });
    }
  }
  return out;
}
