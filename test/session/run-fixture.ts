/** A scripted docker for `run`: the calls of one session start and teardown, each overridable. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Expectation } from '../helpers/fake-runner.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { egressTemplateDigest } from '../../lib/egress/image.js';
import { templatesDir } from '../../lib/paths.js';
import { inspectDocs, probeOutput } from '../selftest/fixtures.js';
import { captureContext, FakeSignals, netFor, psFor, sessionLines, type SessionFixture } from './fixtures.js';
import { tempDir } from '../helpers/temp-dir.js';

/** How drydock asks whether its sidecar image is there and current (lib/egress/image.ts). */
export const EGRESS_IMAGE_INSPECT = ['docker', 'image', 'inspect', '--format', '{{index .Config.Labels "drydock.egress-template"}}', 'drydock-egress:latest'];
export const EGRESS_TEMPLATE_DIGEST = egressTemplateDigest(join(templatesDir(), 'egress'));

export const DENIAL_LOG =
  '2024-05-01T10:00:01.000000001Z CONNECT   May 01 10:00:01.000 [7]: Request (file descriptor 6): CONNECT blocked.test:443 HTTP/1.1\n' +
  '2024-05-01T10:00:01.100000000Z NOTICE    May 01 10:00:01.100 [7]: Proxying refused on filtered url "blocked.test:443"\n';

export function runWorld(env: Record<string, string> = {}) {
  const root = tempDir('run');
  const project = join(root, 'myapp');
  const config = join(root, 'config');
  mkdirSync(project, { recursive: true });
  mkdirSync(config, { recursive: true });
  const baseline = join(root, 'baseline.conf');
  writeFileSync(baseline, 'api.anthropic.com\n');
  const state = join(root, 'state');
  const capture = captureContext({ env: { DRYDOCK_STATE_DIR: state, DRYDOCK_CONFIG_DIR: config, DRYDOCK_BASELINE: baseline, ...env }, cwd: project });
  const signals = new FakeSignals();
  const fake = new FakeRunner();
  let tick = 1_000;
  const clock = { now: () => (tick += 5) };
  return { root, state, fake, signals, clock, ...capture, sessionDir: (id: string) => join(state, 'sessions', id) };
}

export type Step = Partial<Pick<Expectation, 'result' | 'throws'>>;

export interface ScriptOptions {
  id: string;
  mode?: 'contain' | 'dood';
  collisions?: string[];
  imagePresent?: boolean | 'stale';
  /** The default agent image: present (default), missing (then built), or 'custom' (DRYDOCK_AGENT_IMAGE: not looked at). */
  agentImage?: 'present' | 'missing' | 'custom';
  /** The uid the present agent image was built for (its drydock.agent-uid label; default 1000). */
  agentImageUid?: string;
  up?: Step;
  /** The sidecar reports healthy while compose runs, so the self-test's namespace half runs beside it. */
  earlySelfTest?: boolean;
  /** The jail self-test's probe, exec'd into the namespace holder (contained mode; default: a passing probe). */
  selfTest?: Step;
  exec?: Step;
  execArgv?: string[];
  /** What the session-labelled listing shows at teardown (default: everything it made). */
  teardownState?: SessionFixture;
  logs?: Step;
  rm?: Step;
  networkRm?: Step;
  tty?: boolean;
}

const noSuch = (names: string[]) => ({ code: 1, stderr: names.map((n) => `Error: No such container: ${n}\n`).join('') });

/** The happy path of one contained (or dood) session, in the order run makes the calls. */
export function scriptSession(fake: FakeRunner, dirOf: (id: string) => string, o: ScriptOptions): void {
  const mode = o.mode ?? 'contain';
  fake.expect({ argv: ['docker', 'compose', 'version'], result: { stdout: 'Docker Compose version v2.24.5\n' } });
  for (const taken of o.collisions ?? []) {
    fake.expect({ argv: ['docker', 'container', 'inspect', '--format', '{{.Name}}', `drydock-${taken}`, `drydock-${taken}-egress`], result: { stdout: `/drydock-${taken}\n`, code: 1, stderr: `Error: No such container: drydock-${taken}-egress\n` } });
  }
  const names = [`drydock-${o.id}`, `drydock-${o.id}-egress`];
  fake.expect({ argv: ['docker', 'container', 'inspect', '--format', '{{.Name}}', ...names], result: noSuch(names) });
  if (mode === 'contain') {
    const image = o.imagePresent === false ? { code: 1, stderr: 'Error: No such image: drydock-egress:latest\n' } : o.imagePresent === 'stale' ? { stdout: '0123456789abcdef\n' } : { stdout: `${EGRESS_TEMPLATE_DIGEST}\n` };
    fake.expect({ argv: EGRESS_IMAGE_INSPECT, result: image });
    if (o.imagePresent === false || o.imagePresent === 'stale') fake.expect({ argv: (a) => a[1] === 'build', result: { stdout: 'built\n' } });
    fake.expect({ argv: ['docker', 'network', 'create', '--label', 'drydock.shared=egress', 'drydock_egress'], result: { stdout: 'netid\n' } });
  }
  if ((o.agentImage ?? 'present') !== 'custom') {
    const missing = o.agentImage === 'missing';
    fake.expect({ argv: ['docker', 'image', 'inspect', '--format', '{{index .Config.Labels "drydock.agent-uid"}}', 'drydock-agent:latest'], result: missing ? { code: 1, stderr: 'Error: No such image: drydock-agent:latest\n' } : { stdout: `${o.agentImageUid ?? '1000'}\n` } });
    if (missing) fake.expect({ argv: (a) => a[1] === 'build' && a.includes('drydock-agent:latest'), result: { stdout: 'built\n' } });
  }
  const dir = dirOf(o.id);
  const overlay = mode === 'contain' ? 'docker-compose.contain.yml' : 'docker-compose.dood.yml';
  if (mode === 'contain') {
    // The early self-test's wait for the sidecar's health (default: the stream ends with no event,
    // so the whole self-test runs after compose; `earlySelfTest` makes the sidecar report healthy).
    fake.expect({ argv: ['docker', 'events', '--filter', 'type=container', '--filter', `container=drydock-${o.id}-egress`, '--filter', 'event=health_status', '--format', '{{.Action}}'], result: { stdout: o.earlySelfTest ? 'health_status: healthy\n' : '' } });
  }
  fake.expect({
    argv: ['docker', 'compose', '-p', `drydock-${o.id}`, '-f', join(dir, 'docker-compose.yml'), '-f', join(dir, overlay), 'up', '-d'],
    ...(o.up ?? {}),
  });
  if (mode === 'contain' && o.earlySelfTest) {
    const docs = inspectDocs(o.id);
    fake.expect({ argv: ['docker', 'inspect', `drydock-${o.id}-netns`, `drydock_internal_${o.id}`, 'drydock_egress', 'bridge'], result: { stdout: JSON.stringify(docs.slice(1)) } });
    fake.expect({ argv: ['docker', 'inspect', `drydock-${o.id}`], result: { stdout: JSON.stringify(docs.slice(0, 1)) } });
  } else if (mode === 'contain' && (o.exec !== undefined || o.execArgv || o.selfTest !== undefined)) {
    fake.expect({ argv: ['docker', 'inspect', `drydock-${o.id}`, `drydock-${o.id}-netns`, `drydock_internal_${o.id}`, 'drydock_egress', 'bridge'], result: { stdout: JSON.stringify(inspectDocs(o.id)) } });
  }
  if (mode === 'contain' && (o.exec !== undefined || o.execArgv || o.selfTest !== undefined || o.earlySelfTest)) {
    fake.expect({ argv: (a) => a[1] === 'exec' && a[5] === `drydock-${o.id}-netns`, ...(o.selfTest ?? { result: { stdout: probeOutput(o.id) } }) });
  }
  if (o.exec !== undefined || o.execArgv) {
    fake.expect({ argv: o.execArgv ?? ((a) => a[1] === 'exec'), ...(o.exec ?? { result: { code: 0 } }) });
  }
  const lines = sessionLines(o.teardownState ?? { id: o.id, mode, netns: mode === 'contain' ? 'running' : false });
  fake.expect({ argv: psFor(o.id), result: { stdout: lines.containers.join('\n') } });
  fake.expect({ argv: netFor(o.id), result: { stdout: lines.networks.join('\n') } });
  const hasEgress = lines.containers.some((l) => l.includes('"drydock.role=egress') || l.includes('drydock.role=egress'));
  if (hasEgress) fake.expect({ argv: ['docker', 'logs', '--timestamps', `drydock-${o.id}-egress`], ...(o.logs ?? { result: { stdout: '', stderr: DENIAL_LOG } }) });
  const ids = lines.containers.map((l) => (JSON.parse(l) as { ID: string }).ID);
  // With a sidecar, the agent is removed first (while the log is read), then the sidecar.
  const batches = hasEgress ? [ids.filter((id) => id !== `e-${o.id}`), [`e-${o.id}`]].filter((b) => b.length > 0) : [ids];
  for (const batch of batches) {
    if (batch.length) fake.expect({ argv: ['docker', 'rm', '-f', ...batch], ...(o.rm ?? { result: { stdout: batch.join('\n') } }) });
  }
  const nets = lines.networks.map((l) => (JSON.parse(l) as { ID: string }).ID);
  if (nets.length) fake.expect({ argv: ['docker', 'network', 'rm', ...nets], ...(o.networkRm ?? { result: { stdout: nets.join('\n') } }) });
}

/** The random source for session ids: these suffixes, in order. */
export const suffixes = (...values: string[]) => {
  let i = 0;
  return () => values[i++]!;
};
