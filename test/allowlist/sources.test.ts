import { describe, expect, it } from 'vitest';
import { loadAllowlists, loadAllowlistsOrThrow } from '../../lib/allowlist/sources.js';
import { UsageError, formatDiagnostic } from '../../lib/errors.js';
import { resolveSettings } from '../../lib/settings.js';

const env = { DRYDOCK_CONFIG_DIR: '/cfg', DRYDOCK_BASELINE: '/base.conf' };
const filesOf = (project: string) => resolveSettings({ env, cwd: '/', project }).allowlists;

function reader(files: Record<string, string>) {
  const reads: string[] = [];
  const readFile = (p: string) => {
    reads.push(p);
    return files[p];
  };
  return { readFile, reads };
}

describe('loadAllowlists', () => {
  it('reads baseline, user list, project list in that order', () => {
    const { readFile, reads } = reader({
      '/base.conf': 'api.anthropic.com\n',
      '/cfg/egress-allowlist': 'github.com\n',
      '/cfg/egress-allowlist-web': '*.npmjs.org\n',
    });
    const r = loadAllowlists({ files: filesOf('web'), readFile });
    expect(reads).toEqual(['/base.conf', '/cfg/egress-allowlist', '/cfg/egress-allowlist-web']);
    expect(r.sources.map((s) => [s.kind, s.path, s.exists, s.entries.length])).toEqual([
      ['baseline', '/base.conf', true, 1],
      ['user', '/cfg/egress-allowlist', true, 1],
      ['project', '/cfg/egress-allowlist-web', true, 1],
    ]);
    expect(r.entries.map((e) => `${e.canonical}@${e.source.file}:${e.source.line}`)).toEqual([
      'api.anthropic.com@/base.conf:1',
      'github.com@/cfg/egress-allowlist:1',
      '*.npmjs.org@/cfg/egress-allowlist-web:1',
    ]);
    expect(r.errors).toEqual([]);
  });

  it('user lists may be absent; a missing baseline is an error (fail closed)', () => {
    const ok = loadAllowlists({ files: filesOf('p'), readFile: reader({ '/base.conf': 'a.example\n' }).readFile });
    expect(ok.errors).toEqual([]);
    expect(ok.sources.map((s) => s.exists)).toEqual([true, false, false]);

    const missing = loadAllowlists({ files: filesOf('p'), readFile: reader({ '/cfg/egress-allowlist': 'a.example\n' }).readFile });
    expect(missing.errors.map(formatDiagnostic)).toEqual([
      '/base.conf:0: the egress baseline is missing — reinstall drydock, or point DRYDOCK_BASELINE at an existing file',
    ]);
  });

  it('keeps the first source of a repeated entry and records the repeat', () => {
    const r = loadAllowlists({
      files: filesOf('p'),
      readFile: reader({ '/base.conf': 'api.anthropic.com\n', '/cfg/egress-allowlist': '# mine\nhttps://API.anthropic.com/\n' }).readFile,
    });
    expect(r.entries).toHaveLength(1);
    expect(r.entries[0]!.source).toEqual({ file: '/base.conf', line: 1 });
    expect(r.duplicates.map((d) => [d.entry.source.line, d.first.source.file])).toEqual([[2, '/base.conf']]);
  });

  it('collects the errors and warnings of every file', () => {
    const r = loadAllowlists({
      files: filesOf('p'),
      readFile: reader({ '/base.conf': 'ok.example\n*.com\n', '/cfg/egress-allowlist': '^a\\.example$\n10.0.0.1\n', '/cfg/egress-allowlist-p': 'a b\n' }).readFile,
    });
    expect(r.errors.map((d) => `${d.file}:${d.line}`)).toEqual(['/base.conf:2', '/cfg/egress-allowlist:2', '/cfg/egress-allowlist-p:1']);
    expect(r.warnings.map((d) => `${d.file}:${d.line}`)).toEqual(['/cfg/egress-allowlist:1']);
  });

  it('turns an unreadable file into a diagnostic', () => {
    const readFile = (p: string) => {
      if (p === '/cfg/egress-allowlist') throw Object.assign(new Error('denied'), { code: 'EACCES' });
      return p === '/base.conf' ? 'a.example\n' : undefined;
    };
    const r = loadAllowlists({ files: filesOf('p'), readFile });
    expect(r.errors.map(formatDiagnostic)).toEqual(['/cfg/egress-allowlist:0: cannot read the allowlist (EACCES) — make it a readable file, or remove it']);
  });
});

describe('loadAllowlistsOrThrow', () => {
  it('throws one UsageError (exit 2) carrying every diagnostic', () => {
    const readFile = reader({ '/base.conf': '127.0.0.1\n*\n' }).readFile;
    let error: unknown;
    try {
      loadAllowlistsOrThrow({ files: filesOf('p'), readFile });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as UsageError).diagnostics.map((d) => d.line)).toEqual([1, 2]);
  });
});
