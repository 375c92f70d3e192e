import { describe, expect, it } from 'vitest';
import { parseContainerListing, parseNetworkListing } from '../../lib/docker/listing.js';
import { planGc, type SessionDirState } from '../../lib/session/gc-plan.js';
import { listings, type SessionFixture } from './fixtures.js';

const NOW = Date.parse('2024-05-01T12:00:00Z'); // fixtures are created at 10:00, two hours earlier

function state(sessions: SessionFixture[], dirs: Array<Partial<SessionDirState> & { session: string }> = []) {
  const l = listings(sessions);
  return {
    containers: parseContainerListing(l.ps),
    networks: parseNetworkListing(l.networks),
    dirs: dirs.map((d) => ({ path: `/state/sessions/${d.session}`, owner: 'dead' as const, createdAtMs: NOW - 3_600_000, ...d })),
    now: NOW,
  };
}

describe('planGc', () => {
  it('on mixed state: keeps the live session, reaps orphans, exited agents and stray dirs', () => {
    const plan = planGc(
      state(
        [
          { id: 'live-0001' }, // agent running, sidecar running: untouched
          { id: 'orph-0002', agent: false }, // sidecar left behind by a crash
          { id: 'done-0003', agent: 'exited', egress: 'exited' },
          { id: 'dood-0004', mode: 'dood', agent: 'exited' },
        ],
        [{ session: 'live-0001', owner: 'alive' }, { session: 'orph-0002' }, { session: 'gone-0005' }],
      ),
    );
    expect(plan.kept.map((k) => k.session)).toEqual(['live-0001']);
    expect(plan.containers.map((c) => c.name).sort()).toEqual([
      'drydock-done-0003',
      'drydock-done-0003-egress',
      'drydock-dood-0004',
      'drydock-orph-0002-egress',
    ]);
    expect(plan.networks.map((n) => n.name).sort()).toEqual(['drydock_internal_done-0003', 'drydock_internal_orph-0002']);
    expect(plan.dirs.map((d) => d.session)).toEqual(['gone-0005', 'orph-0002']);
    expect(plan.containers.find((c) => c.session === 'orph-0002')?.reason).toBe('its agent is gone');
  });

  it('a running sidecar alone does not protect its directory', () => {
    const plan = planGc(state([{ id: 'orph-0002', agent: false, egress: 'running' }], [{ session: 'orph-0002' }]));
    expect(plan.kept).toEqual([]);
    expect(plan.dirs.map((d) => d.session)).toEqual(['orph-0002']);
  });

  it('never touches a session whose drydock run is still alive (it may be building or starting)', () => {
    const plan = planGc(state([{ id: 'boot-0001', agent: false }], [{ session: 'boot-0001', owner: 'alive' }]));
    expect(plan.containers).toEqual([]);
    expect(plan.networks).toEqual([]);
    expect(plan.dirs).toEqual([]);
    expect(plan.kept[0]?.reason).toMatch(/still alive/);
  });

  it('keeps a young session whose owner is unknown, and reaps it once the grace period is over', () => {
    const young = state([{ id: 'new-0001', agent: false, createdAt: '2024-05-01 11:59:30 +0000 UTC' }]);
    expect(planGc(young).kept.map((k) => k.session)).toEqual(['new-0001']);
    expect(planGc(young, { graceMs: 10_000 }).containers).toHaveLength(1);
  });

  it('an owner known to be dead gets no grace, so a crashed run is reaped at once', () => {
    const plan = planGc(state([{ id: 'x-0001', agent: 'exited', createdAt: '2024-05-01 11:59:59 +0000 UTC' }], [{ session: 'x-0001', owner: 'dead', createdAtMs: NOW - 1000 }]));
    expect(plan.containers).toHaveLength(2);
    expect(plan.dirs).toHaveLength(1);
  });

  it('after kill -9 of drydock run, its still-running keepalive agent does not protect the session', () => {
    const plan = planGc(state([{ id: 'x-0001' }, { id: 'y-0002' }], [{ session: 'x-0001', owner: 'dead' }, { session: 'y-0002', owner: 'alive' }]));
    expect(plan.kept.map((k) => k.session)).toEqual(['y-0002']);
    expect(plan.containers.map((c) => c.name)).toEqual(['drydock-x-0001', 'drydock-x-0001-egress']);
    expect(plan.containers[0]?.reason).toBe('its drydock run is gone (agent drydock-x-0001 left running)');
    expect(plan.dirs.map((d) => d.session)).toEqual(['x-0001']);
  });

  it('a running agent protects a session whose owner cannot be seen (another host, no metadata)', () => {
    const plan = planGc(state([{ id: 'x-0001' }], [{ session: 'x-0001', owner: 'unknown' }]));
    expect(plan.kept).toHaveLength(1);
    expect(plan.containers).toEqual([]);
  });

  it('is empty on an empty engine and disk', () => {
    expect(planGc(state([]))).toEqual({ containers: [], networks: [], dirs: [], kept: [] });
  });
});
