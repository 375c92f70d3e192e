/**
 * Compile cost: the path `drydock allowlist compile --out` takes, in process — read + parse +
 * validate (loadAllowlistsOrThrow), compile (compileFilter), write (writeFileAtomic) — at several
 * sizes, to show the time per entry stays flat (linear growth).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { compileFilter, type CompiledFilter } from '../../lib/allowlist/compile.js';
import { loadAllowlistsOrThrow } from '../../lib/allowlist/sources.js';
import { resolveSettings } from '../../lib/settings.js';
import { writeFileAtomic } from '../../lib/fs-atomic.js';
import { generateAllowlist } from './gen-allowlist.js';
import { median, nowMs } from './stats.js';

export interface CompileFigures {
  entries: number;
  filterLines: number;
  filterBytes: number;
  /** Medians over the runs, in milliseconds. */
  loadMs: number;
  compileMs: number;
  writeMs: number;
  totalMs: number;
  usPerEntry: number;
}

export interface CompileRun {
  compiled: CompiledFilter;
  loadMs: number;
  compileMs: number;
  writeMs: number;
}

/** The environment that makes the generated list the only source (it replaces the baseline). */
export function benchAllowlistEnv(listPath: string, configDir: string): Record<string, string> {
  return { DRYDOCK_BASELINE: listPath, DRYDOCK_CONFIG_DIR: configDir };
}

export function compileOnce(listPath: string, configDir: string, outPath: string): CompileRun {
  const t0 = nowMs();
  const loaded = loadAllowlistsOrThrow({ files: resolveSettings({ env: benchAllowlistEnv(listPath, configDir), cwd: configDir, project: 'bench' }).allowlists });
  const t1 = nowMs();
  const compiled = compileFilter(loaded.entries);
  const t2 = nowMs();
  writeFileAtomic(outPath, compiled.filter);
  const t3 = nowMs();
  return { compiled, loadMs: t1 - t0, compileMs: t2 - t1, writeMs: t3 - t2 };
}

/**
 * A full collection before each timed run, so that no run pays for the garbage of the one before
 * (at 100,000 entries a run allocates hundreds of MB, and a leftover major GC is pure noise).
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

export function benchCompile(options: { scratchDir: string; sizes: number[]; runs: number; warmup: number; seed: number }): CompileFigures[] {
  const dir = join(options.scratchDir, 'compile');
  const configDir = join(dir, 'config'); // exists and is empty: no user lists
  mkdirSync(configDir, { recursive: true });
  return options.sizes.map((size) => {
    const listPath = join(dir, `allowlist-${size}`);
    writeFileSync(listPath, generateAllowlist({ size, seed: options.seed }).text);
    const outPath = join(dir, `egress-filter-${size}`);
    const runs: CompileRun[] = [];
    for (let i = 0; i < options.warmup + options.runs; i += 1) {
      collectGarbage();
      const run = compileOnce(listPath, configDir, outPath);
      if (i >= options.warmup) runs.push(run);
    }
    const compiled = (runs[0] as CompileRun).compiled;
    if (compiled.entryCount !== size) {
      throw new Error(`compile bench: ${size} generated entries compiled to ${compiled.entryCount} (the generator must not overlap)`);
    }
    const totals = runs.map((r) => r.loadMs + r.compileMs + r.writeMs);
    const totalMs = median(totals);
    return {
      entries: size,
      filterLines: compiled.lineCount,
      filterBytes: Buffer.byteLength(compiled.filter),
      loadMs: median(runs.map((r) => r.loadMs)),
      compileMs: median(runs.map((r) => r.compileMs)),
      writeMs: median(runs.map((r) => r.writeMs)),
      totalMs,
      usPerEntry: (totalMs * 1000) / size,
    };
  });
}

/** (t(big) / t(small)) ÷ (big / small): 1.0 is perfectly linear, 2.0 would hint at quadratic work creeping in. */
export function linearity(figures: readonly CompileFigures[], small: number, big: number): number {
  const a = figures.find((f) => f.entries === small);
  const b = figures.find((f) => f.entries === big);
  if (!a || !b || a.totalMs <= 0) return Number.NaN;
  return b.totalMs / a.totalMs / (big / small);
}
