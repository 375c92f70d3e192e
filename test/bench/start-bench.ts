/**
 * `npm run bench -- --only=start`: how long a session takes, on a real engine (test/e2e/engine.sh
 * starts one in its own network namespace; root), side by side in one interleaved run:
 *   docker run --rm IMAGE true        the baseline: one container, nothing else
 *   drydock run -- true               the whole session: checks, render, compose up, healthy, exec, teardown
 *   docker-compose up / exec / down   the same services from drydock's rendered files, without drydock
 *   raw-session.sh                    the same sequence with the docker CLI only: the engine's floor
 * The breakdown comes from the engine's own event times (`docker events`), so drydock's code is
 * not instrumented: spawn → session network (node, checks, render, compose's start), → sidecar
 * started (create), → healthy, → agent started, → the command's exec ended, → drydock exited
 * (teardown: log saved, containers and network removed).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Target } from './report.js';
import { fmt, fmtRatio, median, nowMs, ratio, textTable } from './stats.js';

const BASE_IMAGE = 'drydock-e2e-base:bookworm';

export interface StartPhases {
  /** spawn → the session network exists: node start, engine checks, render, compose's own start. */
  prepareMs: number;
  /** → the sidecar is started (compose created the network and the sidecar). */
  createMs: number;
  /** → the sidecar's healthcheck passed. */
  healthyMs: number;
  /** → the agent container is started. */
  agentMs: number;
  /** → the command's exec started (compose's exit, the banner, the self-test: one inspect beside the probe exec into the namespace holder). */
  selfTestMs: number;
  /** command exec start → its end (`docker exec … true`). */
  execMs: number;
  /** → the process exited (log saved, containers and network removed). */
  teardownMs: number;
}

export interface StartFigures {
  runs: number;
  dockerRunMs: number;
  drydockRunMs: number;
  drydockPhases: StartPhases;
  composeUpMs: number;
  composeExecMs: number;
  composeDownMs: number;
  renderMs: number;
  /** The same sequence with the docker CLI only (test/bench/raw-session.sh): the engine's floor. */
  rawMs: number;
  engine: string;
}

interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  timeNano: number;
}

function sh(argv: string[], env: NodeJS.ProcessEnv, what: string): string {
  const result = spawnSync(argv[0]!, argv.slice(1), { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`${what} failed (${result.status}): ${(result.stderr || result.stdout).trim().split('\n').slice(-5).join(' | ')}`);
  return result.stdout;
}

function timed(argv: string[], env: NodeJS.ProcessEnv, cwd: string, what: string): { ms: number; startNs: number; stderr: string } {
  const startNs = Date.now() * 1e6;
  const start = nowMs();
  const result = spawnSync(argv[0]!, argv.slice(1), { env, cwd, encoding: 'utf8' });
  const ms = nowMs() - start;
  if (result.status !== 0) throw new Error(`${what} failed (${result.status}): ${(result.stderr || result.stdout).trim().split('\n').slice(-5).join(' | ')}`);
  return { ms, startNs, stderr: result.stderr };
}

/** The engine of test/e2e/engine.sh (started if needed); its DOCKER_HOST, and the base image built. */
function startEngine(packageRoot: string, log: (line: string) => void): NodeJS.ProcessEnv {
  if (process.getuid?.() !== 0) throw new Error('the start section needs root (it starts a Docker engine in its own network namespace)');
  const script = join(packageRoot, 'test', 'e2e', 'engine.sh');
  const env: NodeJS.ProcessEnv = { ...process.env, DRYDOCK_E2E_NETNS: process.env.DRYDOCK_E2E_NETNS ?? 'drydock-bench' };
  log(`start: engine in netns ${env.DRYDOCK_E2E_NETNS} (test/e2e/engine.sh)`);
  for (const line of sh(['bash', script, 'start'], env, 'engine.sh start').split('\n')) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  sh(['bash', script, 'image'], env, 'engine.sh image');
  return env;
}

/** The engine's events between two instants (ns), oldest first. */
function eventsBetween(env: NodeJS.ProcessEnv, sinceNs: number, untilNs: number): EngineEvent[] {
  const secs = (ns: number) => (ns / 1e9).toFixed(9);
  const out = sh(['docker', 'events', '--since', secs(sinceNs - 1e9), '--until', secs(untilNs + 1e9), '--format', '{{json .}}'], env, 'docker events');
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as EngineEvent).sort((a, b) => a.timeNano - b.timeNano);
}

function phasesOf(events: readonly EngineEvent[], session: string, startNs: number, endNs: number): StartPhases {
  const at = (fits: (e: EngineEvent) => boolean, what: string, last = false): number => {
    const e = last ? [...events].reverse().find(fits) : events.find(fits);
    if (!e) throw new Error(`no engine event for ${what} of session ${session}`);
    return e.timeNano;
  };
  const name = (e: EngineEvent) => e.Actor.Attributes.name;
  const network = at((e) => e.Type === 'network' && e.Action === 'create' && name(e) === `drydock_internal_${session}`, 'the network');
  const sidecarStart = at((e) => e.Type === 'container' && e.Action === 'start' && name(e) === `drydock-${session}-egress`, 'the sidecar start');
  const healthy = at((e) => e.Type === 'container' && e.Action === 'health_status: healthy' && name(e) === `drydock-${session}-egress`, 'healthy');
  const agentStart = at((e) => e.Type === 'container' && e.Action === 'start' && name(e) === `drydock-${session}`, 'the agent start');
  const execEnd = at((e) => e.Type === 'container' && e.Action.startsWith('exec_die') && name(e) === `drydock-${session}`, 'the exec end', true);
  // The self-test's probe is an exec into the namespace holder, whose exec_die the engine may log
  // after the next exec began: the self-test phase ends where the command's exec starts.
  const commandStart = at((e) => e.Type === 'container' && e.Action.startsWith('exec_start') && name(e) === `drydock-${session}`, 'the command exec start');
  const ms = (a: number, b: number) => (b - a) / 1e6;
  return {
    prepareMs: ms(startNs, network),
    createMs: ms(network, sidecarStart),
    healthyMs: ms(sidecarStart, healthy),
    agentMs: ms(healthy, agentStart),
    selfTestMs: ms(agentStart, commandStart),
    execMs: ms(commandStart, execEnd),
    teardownMs: ms(execEnd, endNs),
  };
}

export function benchStart(options: { packageRoot: string; runs: number; warmup: number; log: (line: string) => void }): StartFigures {
  const { packageRoot, log } = options;
  const engineEnv = startEngine(packageRoot, log);
  const scratch = mkdtempSync(join(tmpdir(), 'drydock-bench-start-'));
  try {
    const project = join(scratch, 'benchstart');
    const configDir = join(scratch, 'config');
    mkdirSync(project);
    mkdirSync(configDir);
    writeFileSync(join(configDir, 'egress-allowlist-benchstart'), 'allowed.test\n');
    const inherited = Object.fromEntries(Object.entries(engineEnv).filter(([k]) => !k.startsWith('DRYDOCK_') || k === 'DRYDOCK_E2E_NETNS'));
    const env: NodeJS.ProcessEnv = {
      ...inherited,
      DOCKER_HOST: engineEnv.DOCKER_HOST,
      HOME: scratch,
      DRYDOCK_CONFIG_DIR: configDir,
      DRYDOCK_STATE_DIR: join(scratch, 'state'),
      DRYDOCK_AGENT_IMAGE: BASE_IMAGE,
      DRYDOCK_EGRESS_BASE_IMAGE: BASE_IMAGE,
      NODE_OPTIONS: '',
    };
    const bin = join(packageRoot, 'bin', 'drydock.js');
    const engine = sh(['docker', 'version', '--format', '{{.Server.Version}}'], env, 'docker version').trim();
    // The plain-compose case runs drydock's own rendered files for one fixed session id.
    const composeSession = 'benchstart-0c0c';
    const renderDir = join(scratch, 'compose');
    const composeFiles = ['docker-compose.yml', 'docker-compose.contain.yml'].flatMap((f) => ['-f', join(renderDir, f)]);
    const composeProject = ['-p', `drydock-${composeSession}`];

    const samples = { dockerRun: [] as number[], drydock: [] as number[], up: [] as number[], exec: [] as number[], down: [] as number[], render: [] as number[], raw: [] as number[] };
    const rawScript = join(packageRoot, 'test', 'bench', 'raw-session.sh');
    const phases: StartPhases[] = [];
    log(`start: ${options.warmup} warm-up + ${options.runs} interleaved rounds (docker run, drydock run, compose up/exec/down, render)`);
    for (let round = 0; round < options.warmup + options.runs; round += 1) {
      const keep = round >= options.warmup;
      const dockerRun = timed(['docker', 'run', '--rm', BASE_IMAGE, 'true'], env, project, 'docker run --rm');

      const run = timed(['node', bin, 'run', '--', 'true'], env, project, 'drydock run -- true');
      const endNs = run.startNs + run.ms * 1e6;
      const session = /drydock: starting session (\S+)/.exec(run.stderr)?.[1];
      if (!session) throw new Error(`drydock run printed no session id:\n${run.stderr}`);

      const render = timed(['node', bin, 'render', '--session', composeSession, '--out', renderDir], env, project, 'drydock render');
      const up = timed(['docker-compose', ...composeProject, ...composeFiles, 'up', '-d'], env, renderDir, 'docker-compose up');
      const exec = timed(['docker', 'exec', `drydock-${composeSession}`, 'true'], env, renderDir, 'docker exec');
      const down = timed(['docker-compose', ...composeProject, ...composeFiles, 'down', '-t', '0'], env, renderDir, 'docker-compose down');
      const raw = timed(['bash', rawScript, renderDir, BASE_IMAGE, 'drydock-egress:latest'], env, renderDir, 'raw docker sequence');
      if (!keep) continue;
      samples.raw.push(raw.ms);
      samples.dockerRun.push(dockerRun.ms);
      samples.drydock.push(run.ms);
      samples.render.push(render.ms);
      samples.up.push(up.ms);
      samples.exec.push(exec.ms);
      samples.down.push(down.ms);
      phases.push(phasesOf(eventsBetween(env, run.startNs, endNs), session, run.startNs, endNs));
      log(`start: round ${round - options.warmup + 1}: docker run ${fmt(dockerRun.ms, 0)} ms, drydock run ${fmt(run.ms, 0)} ms, compose up+exec+down ${fmt(up.ms + exec.ms + down.ms, 0)} ms, docker CLI only ${fmt(raw.ms, 0)} ms`);
    }
    const medianOf = (key: keyof StartPhases) => median(phases.map((p) => p[key]));
    return {
      runs: options.runs,
      engine,
      dockerRunMs: median(samples.dockerRun),
      drydockRunMs: median(samples.drydock),
      drydockPhases: {
        prepareMs: medianOf('prepareMs'),
        createMs: medianOf('createMs'),
        healthyMs: medianOf('healthyMs'),
        agentMs: medianOf('agentMs'),
        selfTestMs: medianOf('selfTestMs'),
        execMs: medianOf('execMs'),
        teardownMs: medianOf('teardownMs'),
      },
      composeUpMs: median(samples.up),
      composeExecMs: median(samples.exec),
      composeDownMs: median(samples.down),
      renderMs: median(samples.render),
      rawMs: median(samples.raw),
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export function startTargets(f: StartFigures): Target[] {
  const r = ratio(f.drydockRunMs, f.dockerRunMs);
  return [
    { name: '`drydock run -- true` vs `docker run --rm IMAGE true`', value: fmtRatio(r), target: '≤ 2.5×', met: r <= 2.5 },
    { name: '`drydock run` teardown (exec end → exit)', value: `${fmt(f.drydockPhases.teardownMs, 0)} ms`, target: '< 1000 ms', met: f.drydockPhases.teardownMs < 1000 },
  ];
}

export function startTable(f: StartFigures): string {
  const p = f.drydockPhases;
  const rows = [
    ['what', 'median ms', '× docker run'],
    ['docker run --rm IMAGE true (baseline)', fmt(f.dockerRunMs, 0), '1.00×'],
    ['drydock run -- true', fmt(f.drydockRunMs, 0), fmtRatio(ratio(f.drydockRunMs, f.dockerRunMs))],
    ['  prepare: node, checks, render, compose start', fmt(p.prepareMs, 0), ''],
    ['  create: network, sidecar', fmt(p.createMs, 0), ''],
    ['  healthy: sidecar start → first pass', fmt(p.healthyMs, 0), ''],
    ['  agent: healthy → agent started', fmt(p.agentMs, 0), ''],
    ['  self-test: compose exit, banner, inspect + probe', fmt(p.selfTestMs, 0), ''],
    ['  exec: docker exec … true', fmt(p.execMs, 0), ''],
    ['  teardown: log, remove containers + network', fmt(p.teardownMs, 0), ''],
    ['docker-compose up / exec / down -t 0, no drydock', fmt(f.composeUpMs + f.composeExecMs + f.composeDownMs, 0), fmtRatio(ratio(f.composeUpMs + f.composeExecMs + f.composeDownMs, f.dockerRunMs))],
    ['  up -d (both services, healthy wait)', fmt(f.composeUpMs, 0), ''],
    ['  docker exec … true', fmt(f.composeExecMs, 0), ''],
    ['  down -t 0', fmt(f.composeDownMs, 0), ''],
    ['drydock render (the same files, CLI)', fmt(f.renderMs, 0), ''],
    ['the same sequence, docker CLI only (engine floor)', fmt(f.rawMs, 0), fmtRatio(ratio(f.rawMs, f.dockerRunMs))],
  ];
  return `${textTable(rows)}\nEngine ${f.engine}; phases from the engine's event times, medians of each phase (they need not add up to the total's median).`;
}
