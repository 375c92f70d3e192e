/**
 * The bench's verdicts and its table. Pure: figures in, text and target verdicts out.
 */
import type { CompileFigures } from './compile-bench.js';
import type { GcFigures } from './gc-bench.js';
import { formatMachine, type MachineInfo } from './machine.js';
import type { ProxyFigures } from './proxy-bench.js';
import { proxyTable } from './proxy-report.js';
import type { SelfTestFigures } from './selftest-bench.js';

export { proxyTargets } from './proxy-report.js';
import type { StartupResult } from './startup.js';
import { startTable, type StartFigures } from './start-bench.js';
import { fmt, fmtRatio, textTable } from './stats.js';

export interface BenchReport {
  date: string;
  machine: MachineInfo;
  proxy?: { scenarios: ProxyFigures[]; directMs: number; loadAverage?: number[] };
  compile?: { figures: CompileFigures[]; linearity: number };
  startup?: { runs: number; results: StartupResult[] };
  gc?: GcFigures[];
  start?: StartFigures;
  selftest?: SelfTestFigures;
  targets: Target[];
  /** Sections that could not run here (e.g. the proxy section without root), with why. */
  failures: Array<{ section: string; message: string }>;
}

export interface Target {
  name: string;
  value: string;
  target: string;
  met: boolean;
}

const n = (value: number) => value.toLocaleString('en-US');

/** The jail self-test's share of `drydock run` → the agent's command, medians of the same runs. */
export function selfTestTarget(f: SelfTestFigures): Target {
  return {
    name: `jail self-test: share of drydock run → agent command (${f.runs} runs)`,
    // What it adds to the start; its namespace half's own time (beside compose) is said too.
    value: `${fmt(100 * f.share, 1)}% (${fmt(f.medianSelfTestMs, 0)} of ${fmt(f.medianStartMs, 0)} ms)${f.medianEarlyMs === undefined ? '' : `; + ${fmt(f.medianEarlyMs, 0)} ms beside compose in ${f.earlyRuns}/${f.runs}`}`,
    target: '< 10%',
    met: f.share < 0.1,
  };
}

export function compileTargets(figures: readonly CompileFigures[], linearity: number): Target[] {
  const big = figures.find((f) => f.entries === 100_000);
  const targets: Target[] = [];
  if (big) targets.push({ name: 'compile 100,000 entries', value: `${fmt(big.totalMs, 0)} ms`, target: '< 1000 ms', met: big.totalMs < 1000 });
  if (Number.isFinite(linearity)) {
    targets.push({ name: 'compile grows linearly (t100k/t10k ÷ 10)', value: fmt(linearity, 2), target: '≈ 1 (≤ 1.3)', met: linearity <= 1.3 });
  }
  return targets;
}

export function startupTargets(results: readonly StartupResult[]): Target[] {
  return results
    .filter((r) => r.target !== undefined)
    .map((r) => ({
      name: `\`drydock ${r.name}\` vs \`node -e 0\``,
      value: r.failure ? `failed: ${r.failure}` : fmtRatio(r.ratio),
      target: `≤ ${r.target}×`,
      met: r.met === true,
    }));
}

export function gcTargets(figures: readonly GcFigures[]): Target[] {
  if (figures.length < 2) return [];
  const calls = new Set(figures.map((f) => f.dockerCalls));
  const summary = figures.map((f) => `${f.dockerCalls} for ${f.sessions}`).join(', ');
  return [{ name: 'gc: docker calls independent of the number of sessions', value: summary, target: 'constant', met: calls.size === 1 }];
}

function compileTable(c: NonNullable<BenchReport['compile']>): string {
  const rows = [['entries', 'filter lines', 'filter KB', 'read+parse ms', 'compile ms', 'write ms', 'total ms', 'µs/entry']];
  for (const f of c.figures) {
    rows.push([n(f.entries), n(f.filterLines), fmt(f.filterBytes / 1024, 0), fmt(f.loadMs, 1), fmt(f.compileMs, 1), fmt(f.writeMs, 1), fmt(f.totalMs, 1), fmt(f.usPerEntry, 1)]);
  }
  return `${textTable(rows)}\nLinearity (t100k / t10k ÷ 10): ${fmt(c.linearity, 2)} (1.00 = linear)`;
}

function startupTable(s: NonNullable<BenchReport['startup']>): string {
  const rows = [['command', 'median ms', '× node -e 0', 'target', 'exit']];
  for (const r of s.results) rows.push([r.name, fmt(r.medianMs, 1), fmtRatio(r.ratio), r.target ? `≤ ${r.target}×` : '', String(r.exitCode ?? 'signal')]);
  const failures = s.results.filter((r) => r.failure).map((r) => `  WARNING ${r.name}: ${r.failure}`);
  return [textTable(rows), ...failures].join('\n');
}

function gcTable(figures: readonly GcFigures[]): string {
  const rows = [['orphaned sessions', 'docker calls', 'plan ms', 'gc ms', 'removed c/n/dirs']];
  for (const f of figures) {
    rows.push([n(f.sessions), String(f.dockerCalls), fmt(f.planMs, 2), fmt(f.gcMs, 0), `${f.removedContainers}/${f.removedNetworks}/${f.removedDirs}`]);
  }
  const calls = figures[figures.length - 1]?.calls ?? [];
  return `${textTable(rows)}\nCalls: ${calls.join('; ')}`;
}

export function formatReport(report: BenchReport): string {
  const parts = [`drydock bench, ${report.date}`, formatMachine(report.machine), ''];
  if (report.proxy) parts.push('1. Proxy cost vs allowlist size (real tinyproxy, drydock-rendered config, beside squid; medians)', proxyTable(report.proxy), '');
  if (report.compile) parts.push('2. Compile cost: read + parse + validate + compile + write (medians)', compileTable(report.compile), '');
  if (report.startup) parts.push(`3. CLI start-up (${report.startup.runs} runs each, interleaved; medians)`, startupTable(report.startup), '');
  if (report.gc) parts.push('4. gc with orphaned sessions (counting docker fake)', gcTable(report.gc), '');
  if (report.start) parts.push(`5. Session start on a real engine (${report.start.runs} interleaved rounds; medians)`, startTable(report.start), '');
  const rows = [['target', 'measured', 'wanted', 'met']];
  for (const t of report.targets) rows.push([t.name, t.value, t.target, t.met ? 'yes' : 'NO']);
  parts.push('Targets', textTable(rows));
  for (const f of report.failures) parts.push(`NOT MEASURED: ${f.section}: ${f.message}`);
  return `${parts.join('\n')}\n`;
}
