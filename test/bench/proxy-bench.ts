/**
 * Proxy cost against allowlist size: one real tinyproxy per scenario, with drydock's own rendered
 * config and compiled filter, timed on requests to the host its filter reaches last, and squid
 * (squid-proc.ts) beside it with the same rules as `dstdomain` lists, timed on the same hosts.
 * tinyproxy runs in the integration tier's harness: a private mount namespace whose /etc holds the
 * bench's hosts file, a files-only nsswitch (no DNS at all) and the filter at the rendered config's
 * own path. Its log goes to a pipe, as in the sidecar (unless a scenario asks for a LogFile).
 *
 * All scenarios run side by side and are measured in interleaved rounds, the sequential requests
 * taking turns one by one (10, squid 10, 1k, …, 10, squid 10, …): on a shared 2-core machine the
 * load changes from second to second, and interleaving makes every scenario see the same mix, so
 * the ratios within one run stay honest.
 */
import { connect } from 'node:net';
import type { RuleGroup } from '../../lib/allowlist/effective.js';
import { startTinyproxy } from '../integration/harness/tinyproxy.js';
import type { GeneratedEntry } from './gen-allowlist.js';
import { filterRules, findLastCompiledHost, type LastHost, type RequestKind } from './last-host.js';
import { connectThrough, getThrough, runLoad, startUpstream, type ProxyTarget, type RequestOutcome, type Upstream } from './proxy-client.js';
import { startSquid, type ProxyHandle } from './squid-proc.js';
import { median, nowMs, quantile } from './stats.js';
import { proxyMemory } from './tinyproxy-proc.js';

/** What runs: drydock's tinyproxy files, or squid with the same effective rules. */
export type ProxyUnderTest =
  | {
      kind: 'tinyproxy';
      /** The session's tinyproxy.conf as drydock rendered it (the harness changes only Listen/Port/LogFile/PidFile). */
      confText: string;
      filterText: string;
      /** `stdout` (a pipe, as in the sidecar) unless a contrast asks for the old LogFile. */
      logTo: 'stdout' | 'file';
    }
  | { kind: 'squid'; groups: readonly RuleGroup[] };

export interface ProxyScenario {
  label: string;
  proxy: ProxyUnderTest;
  entries: readonly GeneratedEntry[];
  /** The hosts to time (the ones drydock's filter reaches last); no `http` for a CONNECT-only contrast. */
  targets: { connect: LastHost; http?: LastHost };
  /** Sequential requests per round, when this scenario is too slow for the default. */
  perRound?: number;
  /** The scenario this one's ratios are taken against (the squid run of the same size). */
  peer?: string;
}

export interface LoadFigures {
  medianMs: number;
  p90Ms: number;
  sequentialRps: number;
  concurrentRps: number;
  failed: number;
  firstFailure?: string;
}

export interface ProxyFigures {
  label: string;
  proxy: ProxyUnderTest['kind'];
  peer?: string;
  entries: number;
  /** tinyproxy: regex lines of the filter; squid: `dstdomain` entries. */
  filterRules: number;
  target: { connect: string; connectRule: string; http?: string; httpRule?: string };
  startMs: number;
  connect: LoadFigures;
  http?: LoadFigures;
  deniedMedianMs: number;
  rssKiB: number;
  hwmKiB: number;
}

export interface ProxyBenchOptions {
  warmup: number;
  /** Sequential: `rounds` × `perRound` requests per scenario; the median of the rounds' rps is quoted. */
  rounds: number;
  perRound: number;
  concurrency: number;
  /** Per round and scenario: the concurrent burst stops at this many requests or this many ms. */
  concurrentMaxRequests: number;
  concurrentMaxMs: number;
  log: (line: string) => void;
}

const DENIED_HOST = 'denied.bench.test';

interface Samples {
  latencies: number[];
  roundRps: number[];
  concurrentRps: number[];
  failed: number;
  firstFailure?: string;
}

interface Running {
  scenario: ProxyScenario;
  proxy: ProxyHandle;
  startMs: number;
  upstream: Upstream;
  targets: { connect: LastHost; http?: LastHost };
  requests: { connect: () => Promise<RequestOutcome>; http?: () => Promise<RequestOutcome>; denied: () => Promise<RequestOutcome> };
  samples: { connect: Samples; http: Samples; denied: Samples };
}

/** Every proxy the bench has started and not yet stopped, for a clean stop on a signal. */
const live = new Set<Running>();

export async function stopAllProxies(): Promise<void> {
  await Promise.allSettled([...live].map((r) => stop(r)));
}

const emptySamples = (): Samples => ({ latencies: [], roundRps: [], concurrentRps: [], failed: 0 });

/** The generated host of this kind that drydock's filter reaches last (the one to time). */
export function lastHostOrThrow(label: string, filterText: string, entries: readonly GeneratedEntry[], kind: RequestKind): LastHost {
  const last = findLastCompiledHost(filterText, entries, kind);
  if (!last) throw new Error(`${label}: no generated ${kind} host matches the compiled filter`);
  return last;
}

function launch(p: ProxyUnderTest, hosts: Record<string, string>): Promise<ProxyHandle> {
  if (p.kind === 'squid') return startSquid({ groups: p.groups, hosts, startTimeoutMs: 120_000 });
  return startTinyproxy({ confText: p.confText, filterText: p.filterText, hosts, logTo: p.logTo, startTimeoutMs: 120_000 });
}

async function start(scenario: ProxyScenario, upstreamAddress: string): Promise<Running> {
  const targets = scenario.targets;
  const hosts: Record<string, string> = { [targets.connect.host]: upstreamAddress, [DENIED_HOST]: upstreamAddress };
  if (targets.http) hosts[targets.http.host] = upstreamAddress;
  const upstream = await startUpstream({ address: upstreamAddress, bannerPort: 443, httpPort: 80, name: scenario.label });
  let proxy: ProxyHandle;
  const begin = nowMs();
  try {
    proxy = await launch(scenario.proxy, hosts);
  } catch (error) {
    await upstream.close();
    throw error;
  }
  const startMs = nowMs() - begin;
  const port = proxy.port;
  const base = { proxyHost: '127.0.0.1', proxyPort: port };
  const banner = `upstream ${scenario.label}`;
  const connectReq: ProxyTarget = { ...base, host: targets.connect.host, port: 443 };
  const deniedReq: ProxyTarget = { ...base, host: DENIED_HOST, port: 443 };
  const httpReq: ProxyTarget | undefined = targets.http ? { ...base, host: targets.http.host, port: 80 } : undefined;
  const running: Running = {
    scenario,
    proxy,
    startMs,
    upstream,
    targets,
    requests: {
      connect: () => connectThrough(connectReq, banner),
      http: httpReq && (() => getThrough(httpReq, banner)),
      denied: async () => {
        const outcome = await connectThrough(deniedReq, banner);
        return { ...outcome, ok: outcome.status === 403 };
      },
    },
    samples: { connect: emptySamples(), http: emptySamples(), denied: emptySamples() },
  };
  live.add(running);
  try {
    await sanityCheck(running);
  } catch (error) {
    await stop(running);
    throw error;
  }
  return running;
}

/**
 * The timed host must really pass and a foreign one must really be refused without reaching the
 * upstream, or the figures would describe a broken jail.
 */
async function sanityCheck(r: Running): Promise<void> {
  const allowed = await r.requests.connect();
  if (!allowed.ok) {
    throw new Error(`${r.scenario.label}: CONNECT ${r.targets.connect.host}:443 was not let through (status ${allowed.status})\n${r.proxy.readLog().slice(-1500)}`);
  }
  if (r.requests.http && !(await r.requests.http()).ok) throw new Error(`${r.scenario.label}: GET http://${r.targets.http?.host}/ was not let through`);
  const seenBefore = r.upstream.accepted.banner;
  const denied = await r.requests.denied();
  if (!denied.ok || r.upstream.accepted.banner !== seenBefore) {
    throw new Error(`${r.scenario.label}: CONNECT ${DENIED_HOST}:443 was not refused (status ${denied.status})`);
  }
}

async function stop(r: Running): Promise<void> {
  live.delete(r);
  await r.proxy.stop();
  await r.upstream.close();
}

function record(samples: Samples, result: Awaited<ReturnType<typeof runLoad>>, kind: 'sequential' | 'concurrent'): void {
  if (kind === 'sequential') {
    samples.latencies.push(...result.latenciesMs);
    samples.roundRps.push(result.rps);
  } else samples.concurrentRps.push(result.rps);
  samples.failed += result.failed;
  samples.firstFailure ??= result.firstFailure;
}

function figures(s: Samples): LoadFigures {
  return {
    medianMs: median(s.latencies),
    p90Ms: quantile(s.latencies, 0.9),
    sequentialRps: median(s.roundRps),
    concurrentRps: median(s.concurrentRps),
    failed: s.failed,
    firstFailure: s.firstFailure,
  };
}

const KINDS = ['connect', 'http', 'denied'] as const;

/**
 * One round. The sequential requests take turns across the scenarios, one request each (10, squid
 * 10, 1k, …, then again): on a shared machine the load changes within a second, and a scenario
 * timed in a block of its own could catch a busy or a quiet moment the others never see. Its
 * req/s is 1000 / mean latency. Then each scenario's concurrent burst, one after the other.
 */
async function measureRound(running: readonly Running[], o: ProxyBenchOptions): Promise<void> {
  for (const kind of KINDS) {
    const active = running.filter((r) => r.requests[kind] !== undefined);
    const results = new Map(active.map((r) => [r, { latenciesMs: [] as number[], failed: 0, firstFailure: undefined as string | undefined }]));
    const most = Math.max(...active.map((r) => r.scenario.perRound ?? o.perRound));
    for (let i = 0; i < most; i += 1) {
      for (const r of active) {
        if (i >= (r.scenario.perRound ?? o.perRound)) continue;
        const result = results.get(r)!;
        try {
          const outcome = await r.requests[kind]!();
          if (outcome.ok) result.latenciesMs.push(outcome.ms);
          else {
            result.failed += 1;
            result.firstFailure ??= `status ${outcome.status}: ${outcome.body.slice(0, 80)}`;
          }
        } catch (error) {
          result.failed += 1;
          result.firstFailure ??= String(error);
        }
      }
    }
    for (const [r, result] of results) {
      const totalMs = result.latenciesMs.reduce((a, b) => a + b, 0);
      const completed = result.latenciesMs.length;
      record(r.samples[kind], { ...result, completed, elapsedMs: totalMs, rps: totalMs > 0 ? (completed / totalMs) * 1000 : 0 }, 'sequential');
    }
    if (kind === 'denied') continue;
    for (const r of active) {
      const burst = await runLoad({ concurrency: o.concurrency, maxRequests: o.concurrentMaxRequests, maxMs: o.concurrentMaxMs, request: r.requests[kind]! });
      record(r.samples[kind], burst, 'concurrent');
    }
  }
}

export async function benchProxyScenarios(
  scenarios: ReadonlyArray<{ scenario: ProxyScenario; upstreamAddress: string }>,
  o: ProxyBenchOptions,
): Promise<ProxyFigures[]> {
  const running: Running[] = [];
  try {
    for (const { scenario, upstreamAddress } of scenarios) {
      const r = await start(scenario, upstreamAddress);
      running.push(r);
      const t = r.targets;
      o.log(`  ${scenario.label}: started in ${r.startMs.toFixed(0)} ms; CONNECT ${t.connect.host}:443 (rule ${t.connect.ruleIndex}/${t.connect.ruleCount})` +
        (t.http ? `, GET http://${t.http.host}/ (rule ${t.http.ruleIndex}/${t.http.ruleCount})` : ''));
    }
    for (const r of running) {
      const request = r.requests.connect;
      await runLoad({ concurrency: 1, maxRequests: Math.min(o.warmup, r.scenario.perRound ?? o.warmup), maxMs: 30_000, request });
      if (r.requests.http) await runLoad({ concurrency: 1, maxRequests: Math.min(o.warmup, r.scenario.perRound ?? o.warmup), maxMs: 30_000, request: r.requests.http });
    }
    for (let round = 0; round < o.rounds; round += 1) {
      o.log(`  round ${round + 1}/${o.rounds}`);
      await measureRound(running, o);
    }
    return running.map((r) => {
      const p = r.scenario.proxy;
      const memory = proxyMemory(r.proxy.pid, p.kind);
      return {
        label: r.scenario.label,
        proxy: p.kind,
        peer: r.scenario.peer,
        entries: r.scenario.entries.length,
        filterRules: p.kind === 'tinyproxy' ? filterRules(p.filterText).length : p.groups.reduce((n, g) => n + g.hosts.length, 0),
        target: {
          connect: `${r.targets.connect.host}:443`,
          connectRule: `${r.targets.connect.ruleIndex}/${r.targets.connect.ruleCount}`,
          http: r.targets.http ? `http://${r.targets.http.host}/` : undefined,
          httpRule: r.targets.http ? `${r.targets.http.ruleIndex}/${r.targets.http.ruleCount}` : undefined,
        },
        startMs: r.startMs,
        connect: figures(r.samples.connect),
        http: r.requests.http ? figures(r.samples.http) : undefined,
        deniedMedianMs: median(r.samples.denied.latencies),
        rssKiB: memory.rssKiB,
        hwmKiB: memory.hwmKiB,
      };
    });
  } finally {
    for (const r of running) await stop(r);
  }
}

/** The floor: the same banner round trip straight to the upstream, no proxy at all. */
export async function benchDirect(o: ProxyBenchOptions & { upstreamAddress: string }): Promise<{ medianMs: number }> {
  const upstream = await startUpstream({ address: o.upstreamAddress, bannerPort: 443, httpPort: 80, name: 'direct' });
  const request = (): Promise<RequestOutcome> =>
    new Promise((resolve, reject) => {
      const begin = nowMs();
      const socket = connect({ host: o.upstreamAddress, port: 443 });
      let body = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (body += chunk));
      socket.on('end', () => resolve({ ok: body.startsWith('upstream direct'), status: 200, ms: nowMs() - begin, body }));
      socket.on('error', reject);
    });
  try {
    await runLoad({ concurrency: 1, maxRequests: o.warmup, maxMs: 10_000, request });
    const result = await runLoad({ concurrency: 1, maxRequests: o.rounds * o.perRound, maxMs: 30_000, request });
    return { medianMs: median(result.latenciesMs) };
  } finally {
    await upstream.close();
  }
}
