/**
 * gc with many orphaned sessions: how many docker invocations go through the adapter (it must not
 * grow with the number of sessions) and how long planning and the whole command take. The docker
 * CLI is a counting fake that answers the two listings with N sessions' worth of JSON, echoes
 * removals, and throws on anything else (like the strict fake of the unit tests).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gc } from '../../lib/commands/gc.js';
import type { CommandContext } from '../../lib/context.js';
import type { CommandRunner, RunResult } from '../../lib/docker/runner.js';
import { parseContainerListing, parseNetworkListing } from '../../lib/docker/listing.js';
import { sessionsDir } from '../../lib/paths.js';
import { scanSessionDirs } from '../../lib/session/dirs.js';
import { planGc } from '../../lib/session/gc-plan.js';
import { median, nowMs } from './stats.js';

export interface GcFigures {
  sessions: number;
  dockerCalls: number;
  calls: string[];
  planMs: number;
  gcMs: number;
  removedContainers: number;
  removedNetworks: number;
  removedDirs: number;
}

export class CountingDockerRunner implements CommandRunner {
  readonly calls: string[][] = [];
  constructor(private readonly listings: { ps: string; networks: string }) {}

  async run(argv: readonly string[]): Promise<RunResult> {
    this.calls.push([...argv]);
    const [program, a, b, c] = argv;
    if (program === 'docker' && a === 'ps') return { code: 0, stdout: this.listings.ps, stderr: '' };
    if (program === 'docker' && a === 'network' && b === 'ls') return { code: 0, stdout: this.listings.networks, stderr: '' };
    if (program === 'docker' && a === 'rm' && b === '-f') return echo(argv.slice(3));
    if (program === 'docker' && a === 'network' && b === 'rm') return echo(argv.slice(3));
    throw new Error(`gc bench: unexpected docker call ${JSON.stringify(argv)} (${c ?? ''})`);
  }
}

const echo = (ids: readonly string[]): RunResult => ({ code: 0, stdout: ids.map((id) => `${id}\n`).join(''), stderr: '' });

export function sessionIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `bench-${i.toString(16).padStart(4, '0')}`);
}

/** Go's `docker ps` time format, an hour ago: well past gc's grace period. */
function createdAt(nowMs: number): string {
  return `${new Date(nowMs - 3_600_000).toISOString().replace('T', ' ').slice(0, 19)} +0000 UTC`;
}

/** Each session crashed: agent exited, sidecar still running, session network still there. */
export function orphanListings(ids: readonly string[], nowMs: number): { ps: string; networks: string } {
  const ps: string[] = [];
  const networks: string[] = [];
  ids.forEach((id, i) => {
    const labels = (role: string) => `drydock.session=${id},drydock.project=bench,drydock.role=${role},drydock.mode=contain,drydock.observe=false`;
    const hex = i.toString(16).padStart(8, '0');
    ps.push(JSON.stringify({ ID: `a${hex}`.padEnd(64, '0'), Names: `drydock-${id}`, Image: 'drydock-agent:latest', State: 'exited', Status: 'Exited (137) 1 hour ago', CreatedAt: createdAt(nowMs), Labels: labels('agent') }));
    ps.push(JSON.stringify({ ID: `e${hex}`.padEnd(64, '0'), Names: `drydock-${id}-egress`, Image: 'drydock-egress:latest', State: 'running', Status: 'Up 1 hour (healthy)', CreatedAt: createdAt(nowMs), Labels: labels('egress') }));
    networks.push(JSON.stringify({ ID: `n${hex}`.padEnd(64, '0'), Name: `drydock_internal_${id}`, Driver: 'bridge', Internal: 'true', Labels: labels('network').replace(/,drydock\.observe=false$/, '') }));
  });
  return { ps: `${ps.join('\n')}\n`, networks: `${networks.join('\n')}\n` };
}

/** N session dirs whose `drydock run` has ended, each with a small egress log. */
export function writeSessionDirs(env: Record<string, string>, ids: readonly string[], nowMs: number): void {
  const root = sessionsDir(env);
  rmSync(root, { recursive: true, force: true });
  const log = 'NOTICE    Nov 22 18:52:38.817 [3356]: Proxying refused on filtered url "denied.test:443"\n'.repeat(20);
  for (const id of ids) {
    const dir = join(root, id);
    mkdirSync(dir, { recursive: true });
    const createdAtIso = new Date(nowMs - 3_600_000).toISOString();
    const metadata = { id, project: 'bench', mode: 'contain', observe: false, createdAt: createdAtIso, pid: 1, hostname: 'bench', endedAt: createdAtIso };
    writeFileSync(join(dir, 'session.json'), JSON.stringify(metadata));
    writeFileSync(join(dir, 'egress.log'), log);
  }
}

function quietContext(env: Record<string, string>, cwd: string): CommandContext {
  return { env, cwd, out: () => {}, err: () => {}, json: true };
}

export async function benchGc(options: { scratchDir: string; sizes: number[]; runs: number }): Promise<GcFigures[]> {
  const figures: GcFigures[] = [];
  for (const size of options.sizes) {
    const env = { DRYDOCK_STATE_DIR: join(options.scratchDir, `gc-${size}`), DRYDOCK_CONFIG_DIR: join(options.scratchDir, 'gc-config') };
    const now = Date.now();
    const ids = sessionIds(size);
    const listings = orphanListings(ids, now);

    // Planning alone: the pure function over the parsed listings and the scanned dirs.
    writeSessionDirs(env, ids, now);
    const state = { containers: parseContainerListing(listings.ps), networks: parseNetworkListing(listings.networks), dirs: scanSessionDirs(join(env.DRYDOCK_STATE_DIR, 'sessions')), now };
    const planTimes: number[] = [];
    for (let i = 0; i < options.runs * 5; i += 1) {
      const start = nowMs();
      planGc(state);
      planTimes.push(nowMs() - start);
    }

    // The whole command: listings, plan, removals, log archive, directory removal.
    const gcTimes: number[] = [];
    let last: { runner: CountingDockerRunner; data: unknown } | undefined;
    for (let i = 0; i < options.runs; i += 1) {
      writeSessionDirs(env, ids, now);
      rmSync(join(env.DRYDOCK_STATE_DIR, 'gc-archive'), { recursive: true, force: true });
      const runner = new CountingDockerRunner(listings);
      const start = nowMs();
      const result = await gc({ json: true }, quietContext(env, options.scratchDir), { runner });
      gcTimes.push(nowMs() - start);
      if (result.exitCode !== 0) throw new Error(`gc bench: gc exited ${result.exitCode}: ${JSON.stringify(result.data).slice(0, 300)}`);
      last = { runner, data: result.data };
    }
    const calls = last?.runner.calls ?? [];
    const removed = ((last?.data ?? {}) as { removed?: { containers?: unknown[]; networks?: unknown[]; dirs?: unknown[] } }).removed ?? {};
    figures.push({
      sessions: size,
      dockerCalls: calls.length,
      calls: calls.map((argv) => argv.slice(0, 3).join(' ')),
      planMs: median(planTimes),
      gcMs: median(gcTimes),
      removedContainers: removed.containers?.length ?? Number.NaN,
      removedNetworks: removed.networks?.length ?? Number.NaN,
      removedDirs: removed.dirs?.length ?? Number.NaN,
    });
  }
  return figures;
}
