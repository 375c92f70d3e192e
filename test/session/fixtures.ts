/** Small builders for docker listings, a fake signal source and a capturing command context. */
import type { CommandContext } from '../../lib/context.js';
import type { SignalSource, TerminationSignal } from '../../lib/session/signals.js';

type Labels = Record<string, string>;

const labelText = (labels: Labels) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** One line of `docker ps -a --format '{{json .}}'` as docker 20.10 prints it. */
export function psLine(c: { id: string; name: string; state?: string; labels?: Labels; createdAt?: string; image?: string }): string {
  const state = c.state ?? 'running';
  return JSON.stringify({
    Command: '"sleep infinity"',
    CreatedAt: c.createdAt ?? '2024-05-01 10:00:00 +0000 UTC',
    ID: c.id,
    Image: c.image ?? 'drydock-agent:latest',
    Labels: labelText(c.labels ?? {}),
    LocalVolumes: '0',
    Mounts: '',
    Names: c.name,
    Networks: 'x',
    Ports: '',
    RunningFor: '2 minutes ago',
    Size: '0B',
    State: state,
    Status: state === 'running' ? 'Up 2 minutes' : 'Exited (0) 1 minute ago',
  });
}

export function netLine(n: { id: string; name: string; labels?: Labels; internal?: boolean }): string {
  return JSON.stringify({
    CreatedAt: '2024-05-01 10:00:00.1 +0000 UTC',
    Driver: 'bridge',
    ID: n.id,
    IPv6: 'false',
    Internal: String(n.internal ?? true),
    Labels: labelText(n.labels ?? {}),
    Name: n.name,
    Scope: 'local',
  });
}

export interface SessionFixture {
  id: string;
  project?: string;
  mode?: 'contain' | 'dood';
  agent?: string | false;
  egress?: string | false;
  /** The network-namespace holder's state (default: none, as before drydock had one). */
  netns?: string | false;
  network?: boolean;
  observe?: boolean;
  createdAt?: string;
}

/** The containers and network one session leaves on the engine, as listing lines. */
export function sessionLines(s: SessionFixture): { containers: string[]; networks: string[] } {
  const project = s.project ?? s.id.replace(/-[0-9a-f]{4}$/, '');
  const mode = s.mode ?? 'contain';
  const base = { 'drydock.session': s.id, 'drydock.project': project, 'drydock.mode': mode };
  const containers: string[] = [];
  const agent = s.agent ?? 'running';
  if (agent !== false) {
    containers.push(psLine({ id: `a-${s.id}`, name: `drydock-${s.id}`, state: agent, createdAt: s.createdAt, labels: { ...base, 'drydock.role': 'agent', 'drydock.observe': String(!!s.observe) } }));
  }
  const egress = s.egress ?? (mode === 'contain' ? 'running' : false);
  if (egress !== false) {
    containers.push(psLine({ id: `e-${s.id}`, name: `drydock-${s.id}-egress`, state: egress, createdAt: s.createdAt, image: 'drydock-egress:latest', labels: { ...base, 'drydock.role': 'egress', 'drydock.observe': String(!!s.observe) } }));
  }
  if (s.netns) {
    containers.push(psLine({ id: `h-${s.id}`, name: `drydock-${s.id}-netns`, state: s.netns, createdAt: s.createdAt, image: 'drydock-egress:latest', labels: { ...base, 'drydock.role': 'netns', 'drydock.observe': String(!!s.observe) } }));
  }
  const networks = (s.network ?? mode === 'contain')
    ? [netLine({ id: `n-${s.id}`, name: `drydock_internal_${s.id}`, labels: { ...base, 'drydock.role': 'network' } })]
    : [];
  return { containers, networks };
}

export function listings(sessions: SessionFixture[]): { ps: string; networks: string } {
  const all = sessions.map(sessionLines);
  return {
    ps: all.flatMap((s) => s.containers).join('\n') + (all.length ? '\n' : ''),
    networks: all.flatMap((s) => s.networks).join('\n') + (all.length ? '\n' : ''),
  };
}

export const PS_ALL = ['docker', 'ps', '-a', '--no-trunc', '--filter', 'label=drydock.session', '--format', '{{json .}}'];
export const NET_ALL = ['docker', 'network', 'ls', '--no-trunc', '--filter', 'label=drydock.session', '--format', '{{json .}}'];
export const psFor = (id: string) => ['docker', 'ps', '-a', '--no-trunc', '--filter', `label=drydock.session=${id}`, '--format', '{{json .}}'];
export const netFor = (id: string) => ['docker', 'network', 'ls', '--no-trunc', '--filter', `label=drydock.session=${id}`, '--format', '{{json .}}'];

export class FakeSignals implements SignalSource {
  private readonly handlers = new Map<TerminationSignal, Set<() => void>>();

  on(signal: TerminationSignal, handler: () => void): () => void {
    const set = this.handlers.get(signal) ?? new Set();
    set.add(handler);
    this.handlers.set(signal, set);
    return () => void set.delete(handler);
  }

  emit(signal: TerminationSignal): void {
    for (const handler of [...(this.handlers.get(signal) ?? [])]) handler();
  }

  listenerCount(): number {
    return [...this.handlers.values()].reduce((n, s) => n + s.size, 0);
  }
}

export function captureContext(options: { env?: Record<string, string | undefined>; cwd?: string; json?: boolean } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CommandContext = {
    env: options.env ?? {},
    cwd: options.cwd ?? '/tmp/myapp',
    out: (text) => void out.push(text),
    err: (text) => void err.push(text),
    json: options.json ?? false,
  };
  return { ctx, out, err, stderr: () => err.join('\n'), stdout: () => out.join('\n') };
}
