/**
 * Proxy cost against allowlist size: one real tinyproxy per scenario, with drydock's own rendered
 * config and compiled filter, timed on requests to the host its filter reaches last.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { findLastCompiledHost, filterRules, type RequestKind } from './last-host.js';
import { connectThrough, getThrough, runLoad, startUpstream, type ProxyTarget, type RequestOutcome } from './proxy-client.js';
import { median, nowMs, quantile } from './stats.js';
import type { GeneratedEntry } from './gen-allowlist.js';
import { freePort, startTinyproxy } from './tinyproxy-proc.js';

export interface ProxyScenario {
  label: string;
  entries: readonly GeneratedEntry[];
  filterText: string;
  /** Renders the tinyproxy config for this bench instance (drydock's renderer, bench paths). */
  renderConf: (paths: { filterPath: string; port: number; logFile: string; pidFile: string }) => string;
  /** Time plain HTTP too (off for the naive contrast, which only needs one figure). */
  http: boolean;
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
  entries: number;
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
  scratchDir: string;
  /** Loopback address of this scenario's upstream (each scenario its own: no TIME_WAIT pile-up). */
  upstreamAddress: string;
  warmup: number;
  /** Sequential: `rounds` × `perRound` requests; the median of the rounds' rps is quoted. */
  rounds: number;
  perRound: number;
  concurrency: number;
  concurrentMaxRequests: number;
  concurrentMaxMs: number;
  log: (line: string) => void;
}

const DENIED_HOST = 'denied.bench.test';

async function measure(request: () => Promise<RequestOutcome>, o: ProxyBenchOptions): Promise<LoadFigures> {
  await runLoad({ concurrency: 1, maxRequests: o.warmup, maxMs: 30_000, request });
  const latencies: number[] = [];
  const roundRps: number[] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  for (let round = 0; round < o.rounds; round += 1) {
    const result = await runLoad({ concurrency: 1, maxRequests: o.perRound, maxMs: 30_000, request });
    latencies.push(...result.latenciesMs);
    roundRps.push(result.rps);
    failed += result.failed;
    firstFailure ??= result.firstFailure;
  }
  const concurrent = await runLoad({
    concurrency: o.concurrency,
    maxRequests: o.concurrentMaxRequests,
    maxMs: o.concurrentMaxMs,
    request,
  });
  failed += concurrent.failed;
  firstFailure ??= concurrent.firstFailure;
  return {
    medianMs: median(latencies),
    p90Ms: quantile(latencies, 0.9),
    sequentialRps: median(roundRps),
    concurrentRps: concurrent.rps,
    failed,
    firstFailure,
  };
}

function lastHostOrThrow(scenario: ProxyScenario, kind: RequestKind) {
  const last = findLastCompiledHost(scenario.filterText, scenario.entries, kind);
  if (!last) throw new Error(`${scenario.label}: no generated ${kind} host matches the compiled filter`);
  return last;
}

export async function benchProxyScenario(scenario: ProxyScenario, o: ProxyBenchOptions): Promise<ProxyFigures> {
  const dir = join(o.scratchDir, scenario.label.replace(/[^a-z0-9]+/gi, '-'));
  mkdirSync(dir, { recursive: true });
  const filterPath = join(dir, 'egress-filter');
  writeFileSync(filterPath, scenario.filterText);
  const connectTarget = lastHostOrThrow(scenario, 'connect');
  const httpTarget = scenario.http ? lastHostOrThrow(scenario, 'http') : undefined;

  const port = await freePort();
  const logFile = join(dir, 'tinyproxy.log');
  const conf = scenario.renderConf({ filterPath, port, logFile, pidFile: join(dir, 'tinyproxy.pid') });
  const upstream = await startUpstream({ address: o.upstreamAddress, bannerPort: 443, httpPort: 80, name: scenario.label });
  const hosts: Record<string, string> = { [connectTarget.host]: o.upstreamAddress, [DENIED_HOST]: o.upstreamAddress };
  if (httpTarget) hosts[httpTarget.host] = o.upstreamAddress;

  let proxy;
  try {
    proxy = await startTinyproxy({ confText: conf, port, hosts, scratchDir: dir, logPath: logFile });
  } catch (error) {
    await upstream.close();
    throw error;
  }
  try {
    const base = { proxyHost: '127.0.0.1', proxyPort: port };
    const connectReq: ProxyTarget = { ...base, host: connectTarget.host, port: 443 };
    const deniedReq: ProxyTarget = { ...base, host: DENIED_HOST, port: 443 };
    const banner = `upstream ${scenario.label}`;

    // Sanity first: the timed host must really pass and a foreign one must really be refused
    // without reaching the upstream, or the figures would measure a broken jail.
    const allowed = await connectThrough(connectReq, banner);
    if (!allowed.ok) throw new Error(`${scenario.label}: CONNECT ${connectTarget.host}:443 was not let through (status ${allowed.status})\n${proxy.readLog().slice(-1500)}`);
    const seenBefore = upstream.accepted.banner;
    const denied = await connectThrough(deniedReq, banner);
    if (denied.status !== 403 || upstream.accepted.banner !== seenBefore) {
      throw new Error(`${scenario.label}: CONNECT ${DENIED_HOST}:443 was not refused (status ${denied.status})`);
    }

    o.log(`  ${scenario.label}: CONNECT ${connectTarget.host}:443 (rule ${connectTarget.ruleIndex}/${connectTarget.ruleCount})`);
    const connect = await measure(() => connectThrough(connectReq, banner), o);
    let http: LoadFigures | undefined;
    if (httpTarget) {
      const httpReq: ProxyTarget = { ...base, host: httpTarget.host, port: 80 };
      o.log(`  ${scenario.label}: GET http://${httpTarget.host}/ (rule ${httpTarget.ruleIndex}/${httpTarget.ruleCount})`);
      http = await measure(() => getThrough(httpReq, banner), o);
    }
    const deniedRuns = await runLoad({
      concurrency: 1,
      maxRequests: o.perRound,
      maxMs: 30_000,
      request: async () => {
        const outcome = await connectThrough(deniedReq, banner);
        return { ...outcome, ok: outcome.status === 403 };
      },
    });
    const memory = proxy.memory();
    return {
      label: scenario.label,
      entries: scenario.entries.length,
      filterRules: filterRules(scenario.filterText).length,
      target: {
        connect: `${connectTarget.host}:443`,
        connectRule: `${connectTarget.ruleIndex}/${connectTarget.ruleCount}`,
        http: httpTarget ? `http://${httpTarget.host}/` : undefined,
        httpRule: httpTarget ? `${httpTarget.ruleIndex}/${httpTarget.ruleCount}` : undefined,
      },
      startMs: proxy.startMs,
      connect,
      http,
      deniedMedianMs: median(deniedRuns.latenciesMs),
      rssKiB: memory.rssKiB,
      hwmKiB: memory.hwmKiB,
    };
  } finally {
    await proxy.stop();
    await upstream.close();
  }
}

/** The floor: the same banner round trip straight to the upstream, no proxy at all. */
export async function benchDirect(o: ProxyBenchOptions): Promise<{ medianMs: number }> {
  const upstream = await startUpstream({ address: o.upstreamAddress, bannerPort: 443, httpPort: 80, name: 'direct' });
  const request = (): Promise<RequestOutcome> =>
    new Promise((resolve, reject) => {
      const start = nowMs();
      const socket = connect({ host: o.upstreamAddress, port: 443 });
      let body = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (body += chunk));
      socket.on('end', () => resolve({ ok: body.startsWith('upstream direct'), status: 200, ms: nowMs() - start, body }));
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
