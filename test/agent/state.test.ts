import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentHomeDir, clearAgentState, ensureAgentHome, persistState } from '../../lib/agent/state.js';
import { clear, path } from '../../lib/commands/state.js';
import { sessionsDir } from '../../lib/paths.js';
import { tempDir } from '../helpers/temp-dir.js';

let root: string;
beforeEach(() => void (root = tempDir('state')));
afterEach(() => rmSync(root, { recursive: true, force: true }));

const ctx = (out: string[]) => ({ env: { DRYDOCK_STATE_DIR: join(root, 'state') }, cwd: join(root, 'My App'), out: (t: string) => void out.push(t), err: () => {}, json: false });

describe('the agent\'s persistent state', () => {
  it('lives beside sessions/ (which gc reaps), never inside it', () => {
    const env = { DRYDOCK_STATE_DIR: join(root, 'state') };
    expect(agentHomeDir(env, 'demo')).toBe(join(root, 'state', 'agent-state', 'demo', 'home'));
    expect(agentHomeDir(env, 'demo').startsWith(sessionsDir(env))).toBe(false);
  });

  it('is created 0700 and given to the agent uid when drydock is root', () => {
    const home = agentHomeDir({ DRYDOCK_STATE_DIR: join(root, 'state') }, 'demo');
    ensureAgentHome(home, { uid: 1234, gid: 4321 }, { uid: process.getuid!() });
    const stat = lstatSync(home);
    expect(stat.mode & 0o777).toBe(0o700);
    if (process.getuid!() === 0) expect([stat.uid, stat.gid]).toEqual([1234, 4321]);
  });

  it('refuses a symlink where the home should be', () => {
    const home = join(root, 'home');
    mkdirSync(join(root, 'elsewhere'));
    symlinkSync(join(root, 'elsewhere'), home);
    expect(() => ensureAgentHome(home, { uid: 1, gid: 1 }, { uid: 1 })).toThrow(/not a directory \(a symlink\?\)/);
  });

  it('is cleared whole by `drydock state clear`, removing symlinks inside without following them', async () => {
    const env = { DRYDOCK_STATE_DIR: join(root, 'state') };
    const home = agentHomeDir(env, 'my-app');
    mkdirSync(join(home, '.claude'), { recursive: true });
    writeFileSync(join(root, 'precious'), 'keep');
    symlinkSync(join(root, 'precious'), join(home, '.claude', 'link'));
    const out: string[] = [];
    expect((await path({}, ctx(out))).data).toEqual({ project: 'my-app', path: join(root, 'state', 'agent-state', 'my-app') });
    expect((await clear({}, ctx(out))).data).toMatchObject({ cleared: true });
    expect(existsSync(home)).toBe(false);
    expect(readFileSync(join(root, 'precious'), 'utf8')).toBe('keep');
    expect(clearAgentState(env, 'my-app')).toBe(false);
    expect(out.join('\n')).toMatch(/cleared the agent state of project my-app/);
  });

  it('is opted out of with --no-persist or DRYDOCK_PERSIST_STATE=0', () => {
    expect(persistState({}, undefined)).toBe(true);
    expect(persistState({}, false)).toBe(false);
    expect(persistState({ DRYDOCK_PERSIST_STATE: '0' }, undefined)).toBe(false);
    expect(() => persistState({ DRYDOCK_PERSIST_STATE: 'sometimes' }, undefined)).toThrow(/not 1 or 0/);
  });
});
