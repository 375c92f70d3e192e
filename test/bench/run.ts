/**
 * `npm run bench`: every figure against a baseline taken in the same run, medians after a warm-up,
 * a table on stdout (or one JSON document with --json). Progress goes to stderr.
 *
 *   --json            one JSON document on stdout instead of the table
 *   --quick           fewer requests and runs (a smoke run of the bench itself, not for quoting)
 *   --only=a,b        any of proxy, compile, startup, gc, selftest, start (default: all; start needs root and
 *                     starts a Docker engine in its own network namespace: test/e2e/engine.sh)
 *   --seed=N          the allowlist generator's seed (default 7)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertHarnessPrerequisites } from '../integration/harness/tinyproxy.js';
import { benchCompile, linearity } from './compile-bench.js';
import { machineInfo } from './machine.js';
import { benchDirect, benchProxyScenarios, stopAllProxies, type ProxyBenchOptions } from './proxy-bench.js';
import { proxyScenarios } from './proxy-scenarios.js';
import { compileTargets, formatReport, gcTargets, proxyTargets, selfTestTarget, startupTargets, type BenchReport } from './report.js';
import { benchStartup } from './startup.js';
import { ensureSquidInstalled } from './squid-proc.js';
import { ensureTinyproxyInstalled } from './tinyproxy-proc.js';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SECTIONS = ['proxy', 'compile', 'startup', 'gc', 'selftest', 'start'] as const;
type Section = (typeof SECTIONS)[number];

interface Args {
  json: boolean;
  quick: boolean;
  only: Set<Section>;
  seed: number;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { json: false, quick: false, only: new Set(SECTIONS), seed: 7 };
  for (const arg of argv) {
    if (arg === '--json') args.json = true;
    else if (arg === '--quick') args.quick = true;
    else if (arg.startsWith('--only=')) {
      const wanted = arg.slice(7).split(',');
      const unknown = wanted.filter((w) => !(SECTIONS as readonly string[]).includes(w));
      if (unknown.length) throw new Error(`--only: unknown section ${unknown.join(', ')} (choose from ${SECTIONS.join(', ')})`);
      args.only = new Set(wanted as Section[]);
    } else if (arg.startsWith('--seed=')) args.seed = Number(arg.slice(7));
    else throw new Error(`unknown argument ${arg} (see the header of test/bench/run.ts)`);
  }
  return args;
}

const log = (line: string) => void process.stderr.write(`${line}\n`);

async function proxySection(args: Args): Promise<NonNullable<BenchReport['proxy']>> {
  ensureTinyproxyInstalled(log);
  ensureSquidInstalled(log);
  // Root (mount namespaces, ports 80/443 on loopback), tinyproxy, unshare, setpriv: say so up front.
  assertHarnessPrerequisites();
  const options: ProxyBenchOptions = args.quick
    ? { warmup: 10, rounds: 2, perRound: 25, concurrency: 8, concurrentMaxRequests: 100, concurrentMaxMs: 500, log }
    : { warmup: 30, rounds: 10, perRound: 30, concurrency: 8, concurrentMaxRequests: 200, concurrentMaxMs: 600, log };
  log('proxy: direct round trip (no proxy)');
  const direct = await benchDirect({ ...options, upstreamAddress: '127.77.200.1' });
  const scenarios = proxyScenarios({ seed: args.seed, quick: args.quick, log });
  log(`proxy: ${scenarios.length} proxies side by side, ${options.rounds} interleaved rounds`);
  return { scenarios: await benchProxyScenarios(scenarios, options), directMs: direct.medianMs, loadAverage: loadavg().map((l) => Math.round(l * 100) / 100) };
}

const scratch = mkdtempSync(join(tmpdir(), 'drydock-bench-'));

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
  const report: BenchReport = { date: new Date().toISOString(), machine: machineInfo(), targets: [], failures: [] };
  // Each section on its own: one that cannot run here (the proxy section needs root) is reported
  // as such and the others still produce their figures; the exit code says something failed.
  const section = async (name: Section, body: () => Promise<void> | void): Promise<void> => {
    if (!args.only.has(name)) return;
    try {
      await body();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`${name}: FAILED: ${message}`);
      report.failures.push({ section: name, message: message.split('\n')[0] ?? message });
    }
  };
  try {
    await section('startup', () => {
      const runs = args.quick ? 5 : 31;
      log(`startup: ${runs} runs of each command, interleaved`);
      const results = benchStartup({ packageRoot, runs, warmup: 3 });
      report.startup = { runs, results };
      report.targets.push(...startupTargets(results));
    });
    await section('compile', () => {
      log('compile: 1,000 / 10,000 / 100,000 entries');
      const figures = benchCompile({ scratchDir: scratch, sizes: [1000, 10_000, 100_000], runs: args.quick ? 2 : 5, warmup: 1, seed: args.seed });
      const lin = linearity(figures, 10_000, 100_000);
      report.compile = { figures, linearity: lin };
      report.targets.push(...compileTargets(figures, lin));
    });
    await section('gc', async () => {
      log('gc: 1 and 500 orphaned sessions');
      // Lazily: it pulls in the whole gc command, which the other sections do not need.
      const { benchGc } = await import('./gc-bench.js');
      report.gc = await benchGc({ scratchDir: scratch, sizes: [1, 500], runs: args.quick ? 1 : 3 });
      report.targets.push(...gcTargets(report.gc));
    });
    await section('start', async () => {
      // Lazily: only this section drives a real engine.
      const { benchStart, startTargets } = await import('./start-bench.js');
      report.start = benchStart({ packageRoot, runs: args.quick ? 3 : 11, warmup: 2, log });
      report.targets.push(...startTargets(report.start));
    });
    await section('proxy', async () => {
      report.proxy = await proxySection(args);
      report.targets.push(...proxyTargets(report.proxy.scenarios));
    });
    await section('selftest', async () => {
      // Lazily, and last: it needs a real engine (the e2e tier's), which the others do not.
      const { benchSelfTest } = await import('./selftest-bench.js');
      report.selftest = await benchSelfTest({ packageRoot, runs: args.quick ? 2 : 5, log });
      report.targets.push(selfTestTarget(report.selftest));
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.failures.length > 0 ? 1 : 0;
}

// On a signal: stop every proxy (the harness removes its namespaces' scratch dirs), drop the
// bench's scratch dir, then exit; the harness's exit hook kills anything that did not stop.
let stopping = false;
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void stopAllProxies().finally(() => {
      rmSync(scratch, { recursive: true, force: true });
      process.exit(code);
    });
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
