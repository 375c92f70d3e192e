import { describe, expect, it } from 'vitest';
import type { ContainerRecord } from '../../lib/docker/listing.js';
import { describeChange, entryChange, planLiveUpdate } from '../../lib/live/plan.js';
import { groupSessions } from '../../lib/session/model.js';

const container = (session: string, role: 'agent' | 'egress', labels: Record<string, string> = {}, state = 'running'): ContainerRecord => ({
  id: `${session}-${role}`,
  name: role === 'agent' ? `drydock-${session}` : `drydock-${session}-egress`,
  image: 'x',
  state,
  status: state,
  labels: { 'drydock.session': session, 'drydock.role': role, 'drydock.mode': 'contain', 'drydock.observe': 'false', 'drydock.project': session.replace(/-[0-9a-f]{4}$/, ''), ...labels },
});

const contained = (session: string, extra: { sidecarState?: string; agentState?: string; observe?: boolean } = {}) => [
  container(session, 'agent', extra.observe ? { 'drydock.observe': 'true' } : {}, extra.agentState ?? 'running'),
  container(session, 'egress', extra.observe ? { 'drydock.observe': 'true' } : {}, extra.sidecarState ?? 'running'),
];

const world = groupSessions({
  containers: [
    ...contained('app-0001'),
    ...contained('app-0002'),
    ...contained('web-0001'),
    ...contained('web-0002', { observe: true }),
    ...contained('app-0003', { sidecarState: 'exited' }),
    ...contained('app-0004', { agentState: 'exited', sidecarState: 'exited' }),
    container('app-0005', 'agent', { 'drydock.mode': 'dood' }),
  ],
  networks: [],
});

describe('planLiveUpdate: which running sessions a list change affects', () => {
  it('a project list: that project\'s running contained sessions only', () => {
    const plan = planLiveUpdate(world, { kind: 'project', project: 'app' });
    expect(plan.targets).toEqual([
      { session: 'app-0001', project: 'app', sidecar: 'drydock-app-0001-egress' },
      { session: 'app-0002', project: 'app', sidecar: 'drydock-app-0002-egress' },
    ]);
    expect(plan.skipped).toEqual([
      { session: 'app-0003', reason: 'its sidecar is exited: the agent has no egress until it runs again' },
      { session: 'app-0005', reason: 'dood mode: no egress filter to update' },
    ]);
  });

  it('the global list: every running contained session, of every project; observe and dood named, not updated', () => {
    const plan = planLiveUpdate(world, { kind: 'global' });
    expect(plan.targets.map((t) => t.session)).toEqual(['app-0001', 'app-0002', 'web-0001']);
    expect(plan.skipped.map((s) => s.session)).toEqual(['app-0003', 'app-0005', 'web-0002']);
    expect(plan.skipped.find((s) => s.session === 'web-0002')?.reason).toMatch(/observe mode/);
  });

  it('a project with no running session: nothing to do', () => {
    expect(planLiveUpdate(world, { kind: 'project', project: 'other' })).toEqual({ targets: [], skipped: [] });
  });
});

describe('entryChange / describeChange', () => {
  it('says what a session gains and loses', () => {
    const change = entryChange(['a.test', 'b.test'], ['b.test', 'c.test']);
    expect(change).toEqual({ added: ['c.test'], removed: ['a.test'] });
    expect(describeChange(change)).toBe('+c.test -a.test');
    expect(describeChange(entryChange(['a'], ['a']))).toBe('no change');
  });
});
