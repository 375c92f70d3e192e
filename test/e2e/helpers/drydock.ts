/**
 * Driving the built CLI (`node bin/drydock.js`) as a user would, each test in its own sandbox:
 * a project directory (mounted as the agent's /workspace), a config dir holding the project's
 * allowlist and a state dir for the sessions, all under the tier's scratch dir.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../helpers/temp-dir.js';
import { track } from './children.js';
import { docker, exec, waitFor, type Exec } from './engine.js';

export const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const BIN = join(REPO, 'bin', 'drydock.js');
/** Imported by engine.sh from a debootstrapped rootfs: the agent image and the sidecar's build base. */
export const BASE_IMAGE = 'drydock-e2e-base:bookworm';
export const EGRESS_IMAGE = 'drydock-egress:latest';

export interface Sandbox {
  project: string;
  /** The project directory: the cwd of every drydock call, mounted at /workspace. */
  cwd: string;
  configDir: string;
  stateDir: string;
  env: NodeJS.ProcessEnv;
}

export interface SandboxOptions {
  project: string;
  /** Lines of `egress-allowlist-<project>`. */
  allowlist?: string[];
  env?: Record<string, string>;
}

function scratchRoot(): string {
  const root = process.env.DRYDOCK_E2E_DIR ? join(process.env.DRYDOCK_E2E_DIR, 'work') : tmpdir();
  mkdirSync(root, { recursive: true });
  return root;
}

export function makeSandbox(options: SandboxOptions): Sandbox {
  // Gone when the test (or, made in beforeAll, the file) that made it ends.
  const root = tempDir(options.project, { under: scratchRoot() });
  const cwd = join(root, options.project);
  const configDir = join(root, 'config');
  const stateDir = join(root, 'state');
  for (const dir of [cwd, configDir, stateDir]) mkdirSync(dir, { recursive: true });
  // The tier runs drydock as root; the project belongs to a build user, as a CI checkout would,
  // so the agent runs as that user (never root) and can write its workspace.
  giveProjectToAgent(cwd);
  if (options.allowlist) {
    writeFileSync(join(configDir, `egress-allowlist-${options.project}`), `${options.allowlist.join('\n')}\n`);
  }
  // Only what the test sets: no DRYDOCK_* of the developer's shell leaks into the run.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('DRYDOCK_')));
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    HOME: root,
    DRYDOCK_CONFIG_DIR: configDir,
    DRYDOCK_STATE_DIR: stateDir,
    DRYDOCK_AGENT_IMAGE: BASE_IMAGE,
    DRYDOCK_EGRESS_BASE_IMAGE: BASE_IMAGE,
    DRYDOCK_RUN_TIMING: '1',
    ...options.env,
  };
  return { project: options.project, cwd, configDir, stateDir, env };
}

/** The uid:gid the agent gets when drydock runs as root: the project directory's owner. */
export const AGENT_IDS = { uid: 1000, gid: 1000 };

/** Hand the project (and what a test put in it as root) to the agent's user. */
export function giveProjectToAgent(dir: string): void {
  execFileSync('chown', ['-R', `${AGENT_IDS.uid}:${AGENT_IDS.gid}`, dir]);
}

export interface Timed extends Exec {
  ms: number;
}

/** One drydock command, to completion. */
export async function drydock(sb: Sandbox, args: readonly string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<Timed> {
  const started = Date.now();
  const result = await exec(['node', BIN, ...args], { cwd: sb.cwd, env: { ...sb.env, ...options.env }, timeoutMs: options.timeoutMs ?? 300_000 });
  return { ...result, ms: Date.now() - started };
}

export interface Background {
  child: ChildProcess;
  /** What the run printed so far. */
  stdout: () => string;
  stderr: () => string;
  /** Resolves when the process exits (not when its pipes close: a killed run's children may hold them). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A `drydock …` left running (a session whose agent command does not end by itself). */
export function background(sb: Sandbox, args: readonly string[], options: { env?: Record<string, string> } = {}): Background {
  const child = spawn('node', [BIN, ...args], { cwd: sb.cwd, env: { ...sb.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => void (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (code, signal) => done({ code, signal })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

export interface LabelledContainer {
  name: string;
  state: string;
  session: string;
  role: string;
}

/** Every container of a project (any state), by label, the way stop and gc find them. */
export async function containersOf(filter: { project?: string; session?: string }): Promise<LabelledContainer[]> {
  const label = filter.session ? `drydock.session=${filter.session}` : `drydock.project=${filter.project}`;
  const out = await docker(['ps', '-a', '--filter', `label=${label}`, '--format', '{{.Names}}\t{{.State}}\t{{.Label "drydock.session"}}\t{{.Label "drydock.role"}}']);
  return out.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name = '', state = '', session = '', role = ''] = line.split('\t');
      return { name, state, session, role };
    });
}

export async function networksOf(filter: { project?: string; session?: string }): Promise<string[]> {
  const label = filter.session ? `drydock.session=${filter.session}` : `drydock.project=${filter.project}`;
  const out = await docker(['network', 'ls', '--filter', `label=${label}`, '--format', '{{.Name}}']);
  return out.stdout.split('\n').filter(Boolean);
}

/**
 * The session of a running `drydock run` in this project, once its agent is up. Pass the run to
 * fail at once, with what it said, when it ends before its agent is up — and to wait, too, until
 * the run is handing the agent its command: the agent container runs before the jail self-test,
 * and the command only after it (the sandbox's DRYDOCK_RUN_TIMING=1 line marks that moment).
 */
export async function waitForRunningAgent(sb: Sandbox, options: { known?: ReadonlySet<string>; run?: Background; timeoutMs?: number } = {}): Promise<string> {
  const known = options.known ?? new Set<string>();
  return waitFor(`a running agent of project ${sb.project}`, async () => {
    if (options.run && (options.run.child.exitCode !== null || options.run.child.signalCode !== null)) {
      throw new Error(`drydock run ended (${options.run.child.exitCode ?? options.run.child.signalCode}) before its agent was up:\n${options.run.stderr()}`);
    }
    const agents = (await containersOf({ project: sb.project })).filter((c) => c.role === 'agent' && c.state === 'running' && !known.has(c.session));
    const session = agents[0]?.session;
    if (session && options.run && sb.env.DRYDOCK_RUN_TIMING === '1' && !options.run.stderr().includes('timing: run start → agent command start')) return undefined;
    return session;
  }, options.timeoutMs ?? 300_000);
}

export function sessionDirs(sb: Sandbox): string[] {
  const dir = join(sb.stateDir, 'sessions');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

export function readSessionFile(sb: Sandbox, session: string, file: string): string | undefined {
  const path = join(sb.stateDir, 'sessions', session, file);
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** On failure: the sidecars' logs (live ones from docker, ended ones from the saved egress.log). */
export async function dumpDiagnostics(sb: Sandbox, output?: { stdout?: string; stderr?: string }): Promise<void> {
  const lines: string[] = [`--- e2e diagnostics for project ${sb.project}`];
  if (output?.stdout) lines.push(`--- drydock stdout\n${output.stdout}`);
  if (output?.stderr) lines.push(`--- drydock stderr\n${output.stderr}`);
  for (const c of await containersOf({ project: sb.project })) {
    lines.push(`--- container ${c.name} (${c.role}, ${c.state})`);
    if (c.role === 'egress') {
      const logs = await docker(['logs', '--tail', '200', c.name]);
      lines.push(logs.stdout, logs.stderr);
    }
  }
  for (const session of sessionDirs(sb)) {
    const log = readSessionFile(sb, session, 'egress.log');
    if (log !== undefined) lines.push(`--- ${session}/egress.log\n${log.split('\n').slice(-200).join('\n')}`);
  }
  process.stderr.write(`${lines.join('\n')}\n`);
}

/** Print (never assert) a measurement, in one greppable shape. */
export function report(name: string, ms: number, detail = ''): void {
  const line = `e2e timing: ${name} = ${(ms / 1000).toFixed(2)} s${detail ? ` (${detail})` : ''}\n`;
  process.stderr.write(line);
  // run.sh prints the collected lines once more at the end, where they are easy to find.
  if (process.env.DRYDOCK_E2E_DIR) appendFileSync(join(process.env.DRYDOCK_E2E_DIR, 'timings.txt'), line);
}
