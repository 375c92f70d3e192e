import { describe, expect, it } from 'vitest';
import { resolveAgentUser } from '../../lib/agent/user.js';
import { UsageError } from '../../lib/errors.js';

describe('the agent user', () => {
  it('is the host user', () => {
    expect(resolveAgentUser({ env: {}, hostUid: 1234, hostGid: 99 })).toMatchObject({ uid: 1234, gid: 99, root: false, source: 'host user' });
  });

  it('is the project dir owner when drydock runs as root, with a warning', () => {
    const user = resolveAgentUser({ env: {}, hostUid: 0, hostGid: 0, projectOwner: { uid: 1001, gid: 1002 } });
    expect(user).toMatchObject({ uid: 1001, gid: 1002, root: false, source: 'project dir owner' });
    expect(user.warning).toMatch(/drydock runs as root/);
  });

  it('falls back to 1000:1000, never 0, when drydock and the project are both root\'s', () => {
    const user = resolveAgentUser({ env: {}, hostUid: 0, hostGid: 0, projectOwner: { uid: 0, gid: 0 } });
    expect(user).toMatchObject({ uid: 1000, gid: 1000, root: false, source: 'fallback' });
    expect(user.warning).toMatch(/read-only to it/);
  });

  it('takes DRYDOCK_AGENT_USER=UID[:GID]', () => {
    expect(resolveAgentUser({ env: { DRYDOCK_AGENT_USER: '2000:3000' }, hostUid: 1, hostGid: 1 })).toMatchObject({ uid: 2000, gid: 3000 });
    expect(resolveAgentUser({ env: { DRYDOCK_AGENT_USER: '2000' }, hostUid: 1, hostGid: 1 })).toMatchObject({ uid: 2000, gid: 2000 });
    expect(() => resolveAgentUser({ env: { DRYDOCK_AGENT_USER: 'agent' }, hostUid: 1, hostGid: 1 })).toThrow(/not UID or UID:GID/);
  });

  it('refuses root unless --allow-root or DRYDOCK_ALLOW_ROOT_AGENT=1, and then says so loudly', () => {
    expect(() => resolveAgentUser({ env: { DRYDOCK_AGENT_USER: '0' }, hostUid: 1000, hostGid: 1000 })).toThrow(UsageError);
    expect(() => resolveAgentUser({ env: { DRYDOCK_AGENT_USER: '0:0' }, hostUid: 0, hostGid: 0 })).toThrow(/would run the agent as root/);
    const flagged = resolveAgentUser({ env: { DRYDOCK_AGENT_USER: '0' }, hostUid: 1000, hostGid: 1000, allowRootFlag: true });
    expect(flagged).toMatchObject({ uid: 0, root: true });
    expect(flagged.warning).toMatch(/THE AGENT RUNS AS ROOT/);
    expect(resolveAgentUser({ env: { DRYDOCK_AGENT_USER: '0', DRYDOCK_ALLOW_ROOT_AGENT: '1' }, hostUid: 1000, hostGid: 1000 }).root).toBe(true);
    expect(() => resolveAgentUser({ env: { DRYDOCK_AGENT_USER: '0', DRYDOCK_ALLOW_ROOT_AGENT: 'maybe' }, hostUid: 1, hostGid: 1 })).toThrow(/not 1 or 0/);
  });
});
