/**
 * The jail self-test's cost, on a real engine: `drydock run -- true` with DRYDOCK_RUN_TIMING=1,
 * several times, reading drydock's own "jail self-test" and "run start → agent command start"
 * timings; the figure is the self-test's share of the start (target under 10%). Separate from the
 * start-time bench (which compares whole starts against plain docker and compose): this measures
 * one phase of the start, in the same runs it is part of.
 *
 * The engine: the e2e tier's (test/e2e/engine.sh), in its own network namespace. Uses one that is
 * already up (eval "$(test/e2e/engine.sh env)"), else starts one (root) and stops it afterwards.
 * On a shared machine run it in an e2e slot: /work/wt/e2e-slot.sh NAME npm run bench -- --only=selftest
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './stats.js';

export interface SelfTestFigures {
  runs: number;
  selfTestMs: number[];
  startMs: number[];
  medianSelfTestMs: number;
  medianStartMs: number;
  /** medianSelfTestMs / medianStartMs */
  share: number;
  /** Runs whose namespace half ran beside compose, and its median own time (not on the critical path). */
  earlyRuns: number;
  medianEarlyMs?: number;
}

const BASE_IMAGE = 'drydock-e2e-base:bookworm';

function engineScript(packageRoot: string, step: string, env: NodeJS.ProcessEnv): string {
  const r = spawnSync('bash', [join(packageRoot, 'test/e2e/engine.sh'), step], { env, encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) throw new Error(`test/e2e/engine.sh ${step} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}

function exportsOf(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/^export ([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!.replace(/^'|'$/g, '')]));
}

/** `drydock: timing: <what>: <n> ms` lines of one run's stderr. */
export function runTimings(stderr: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const m of stderr.matchAll(/^drydock: timing: (.+?): (\d+) ms/gm)) found.set(m[1]!, Number(m[2]));
  return found;
}

export async function benchSelfTest(options: { packageRoot: string; runs: number; log: (line: string) => void }): Promise<SelfTestFigures> {
  const own = process.env.DRYDOCK_E2E_DIR && process.env.DOCKER_HOST === `unix://${process.env.DRYDOCK_E2E_DIR}/docker.sock`;
  let engineEnv: Record<string, string> = {};
  const netnsEnv = { ...process.env, DRYDOCK_E2E_NETNS: process.env.DRYDOCK_E2E_NETNS ?? 'drydock-bench' };
  if (!own) {
    if (process.getuid?.() !== 0) throw new Error('needs root (to start the e2e engine) or a running one: eval "$(test/e2e/engine.sh env)"');
    options.log('selftest: starting the e2e engine (test/e2e/engine.sh start)');
    engineEnv = exportsOf(engineScript(options.packageRoot, 'start', netnsEnv));
  }
  const root = mkdtempSync(join(tmpdir(), 'drydock-bench-selftest-'));
  try {
    const env = { ...netnsEnv, ...engineEnv };
    engineScript(options.packageRoot, 'image', env);
    const project = join(root, 'bench-selftest');
    const config = join(root, 'config');
    mkdirSync(project, { recursive: true });
    mkdirSync(config, { recursive: true });
    writeFileSync(join(config, 'egress-allowlist-bench-selftest'), 'allowed.test\n');
    const runEnv = {
      ...env,
      HOME: root,
      DRYDOCK_CONFIG_DIR: config,
      DRYDOCK_STATE_DIR: join(root, 'state'),
      DRYDOCK_AGENT_IMAGE: BASE_IMAGE,
      DRYDOCK_EGRESS_BASE_IMAGE: BASE_IMAGE,
      DRYDOCK_RUN_TIMING: '1',
    };
    const once = () => {
      const r = spawnSync(process.execPath, [join(options.packageRoot, 'bin/drydock.js'), 'run', '--project', 'bench-selftest', '--', 'true'], { cwd: project, env: runEnv, encoding: 'utf8', timeout: 300_000 });
      if (r.status !== 0) throw new Error(`drydock run -- true exited ${r.status}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
      return runTimings(r.stderr);
    };
    options.log('selftest: warm-up run (builds the sidecar image on a fresh engine)');
    once();
    const selfTestMs: number[] = [];
    const startMs: number[] = [];
    const earlyMs: number[] = [];
    for (let i = 0; i < options.runs; i += 1) {
      const t = once();
      const self = t.get('jail self-test');
      const start = t.get('run start → agent command start');
      if (self === undefined || start === undefined) throw new Error('drydock run printed no self-test timing');
      selfTestMs.push(self);
      startMs.push(start);
      const early = t.get("jail self-test's namespace half, beside compose");
      if (early !== undefined) earlyMs.push(early);
      options.log(`selftest: run ${i + 1}/${options.runs}: self-test ${self} ms of ${start} ms${early === undefined ? ' (all after compose)' : ` (its namespace half, ${early} ms, ran beside compose)`}`);
    }
    const medianSelfTestMs = median(selfTestMs);
    const medianStartMs = median(startMs);
    return {
      runs: options.runs, selfTestMs, startMs, medianSelfTestMs, medianStartMs, share: medianSelfTestMs / medianStartMs,
      earlyRuns: earlyMs.length, medianEarlyMs: earlyMs.length ? median(earlyMs) : undefined,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
    if (!own) {
      options.log('selftest: stopping the e2e engine');
      engineScript(options.packageRoot, 'stop', netnsEnv);
    }
  }
}
