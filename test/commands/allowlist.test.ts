import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { check, compile, list } from '../../lib/commands/allowlist.js';
import type { CommandContext } from '../../lib/context.js';
import { UsageError, formatDiagnostic } from '../../lib/errors.js';
import { tempDir } from '../helpers/temp-dir.js';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/** A temp world: baseline, config dir with optional user/project lists, and a captured context. */
function world(files: { baseline?: string | null; user?: string; project?: string }, json = false) {
  const root = tempDir('allowlist-cmd');
  roots.push(root);
  const config = join(root, 'config');
  mkdirSync(config);
  const baseline = join(root, 'baseline.conf');
  if (files.baseline !== null) writeFileSync(baseline, files.baseline ?? 'api.anthropic.com\n');
  if (files.user !== undefined) writeFileSync(join(config, 'egress-allowlist'), files.user);
  if (files.project !== undefined) writeFileSync(join(config, 'egress-allowlist-web'), files.project);
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CommandContext = {
    env: { DRYDOCK_CONFIG_DIR: config, DRYDOCK_BASELINE: baseline },
    cwd: join(root, 'Web'),
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
    json,
  };
  return { root, config, baseline, ctx, out, err };
}

async function usageError(promise: Promise<unknown>): Promise<UsageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return error as UsageError;
}

describe('allowlist compile', () => {
  it('prints the filter on stdout, with the project from the working directory', async () => {
    const w = world({ user: 'github.com\n', project: '*.npmjs.org\n' });
    const r = await compile({}, w.ctx);
    expect(r.exitCode).toBe(0);
    expect(w.out.join('')).toContain("\\`((api\\.anthropic|github)\\.com)\\.?:443\\'");
    expect(w.out.join('')).toContain("\\`([-a-z0-9_]+\\.)+(npmjs\\.org)\\.?:443\\'");
    expect(r.data).toMatchObject({ entryCount: 3, connectPorts: [443], lineCount: 2 });
  });

  it('writes atomically with --out, and the same input gives the same bytes', async () => {
    const w = world({ user: 'github.com:22\nhttp://deb.debian.org\n' });
    const out = join(w.root, 'out', 'filter');
    await compile({ out }, w.ctx);
    const first = readFileSync(out, 'utf8');
    await compile({ out }, w.ctx);
    expect(readFileSync(out, 'utf8')).toBe(first);
    expect(w.out).toEqual([]);
    expect(w.err.join('\n')).toMatch(/wrote .*filter: 3 filter lines from 3 entries/);
    expect(readdirSync(join(w.root, 'out'))).toEqual(['filter']);
  });

  it('a malformed line: exit 2, FILE:LINE in the message, nothing written', async () => {
    const w = world({ project: '# mine\ngithub.com\nhttps://github.com/some/path\n' });
    const out = join(w.root, 'filter');
    const error = await usageError(compile({ out }, w.ctx));
    expect(error.exitCode).toBe(2);
    const projectFile = join(w.config, 'egress-allowlist-web');
    expect(error.diagnostics.map(formatDiagnostic)).toEqual([
      `${projectFile}:3: a path (\`/some/path\`) is not allowed — allow the whole host; the proxy cannot see paths of HTTPS requests`,
    ]);
    expect(existsSync(out)).toBe(false);
    expect(w.out).toEqual([]);
  });

  it('reports the errors of every file at once', async () => {
    const w = world({ baseline: 'api.anthropic.com\n*.com\n', user: '127.0.0.1\n', project: 'ok.example\nlocalhost\n' });
    const error = await usageError(compile({}, w.ctx));
    expect(error.diagnostics.map((d) => `${d.file.replace(w.root, '')}:${d.line}`)).toEqual([
      '/baseline.conf:2',
      '/config/egress-allowlist:1',
      '/config/egress-allowlist-web:2',
    ]);
  });

  it('fails closed when the baseline is missing', async () => {
    const w = world({ baseline: null, user: 'github.com\n' });
    const error = await usageError(compile({}, w.ctx));
    expect(error.diagnostics[0]!.message).toContain('baseline is missing');
  });

  it('prints legacy-regex warnings on stderr and compiles the converted entry', async () => {
    const w = world({ user: '^registry\\.npmjs\\.org$\n' });
    await compile({}, w.ctx);
    expect(w.err.join('\n')).toMatch(/^warning: .*egress-allowlist:1: converted legacy regex .* — write `registry\.npmjs\.org`$/m);
    expect(w.out.join('')).toContain('registry\\.npmjs\\.org');
  });
});

describe('allowlist check', () => {
  it('exit 0 with the allowing entry and its FILE:LINE', async () => {
    const w = world({ user: '# tools\ngithub.com\n' });
    const r = await check({ host: 'GitHub.com' }, w.ctx);
    expect(r.exitCode).toBe(0);
    expect(w.out).toEqual([`allowed by \`github.com\` (${join(w.config, 'egress-allowlist')}:2)`]);
  });

  it('says when the name may resolve to a private address, and which private: entry opts it in', async () => {
    const w = world({ user: 'registry.corp.example\n', project: 'private:*.corp.example\n' });
    expect((await check({ host: 'registry.corp.example' }, w.ctx)).exitCode).toBe(0);
    expect(w.out).toEqual([
      `allowed by \`registry.corp.example\` (${join(w.config, 'egress-allowlist')}:1); may resolve to a private address (\`private:*.corp.example\`, ${join(w.config, 'egress-allowlist-web')}:1)`,
    ]);
    const json = world({ user: 'private:registry.corp.example\n' }, true);
    const r = await check({ host: 'registry.corp.example', json: true }, json.ctx);
    expect(r.data).toMatchObject({ allowed: true, entry: 'private:registry.corp.example', private: true, privateEntry: 'private:registry.corp.example' });
  });

  it('exit 1 with the line to add to the project file', async () => {
    const w = world({ user: 'github.com\n' });
    const r = await check({ host: 'github.com:22' }, w.ctx);
    expect(r.exitCode).toBe(1);
    expect(w.out).toEqual([`denied: no entry allows github.com:22 — add this line to ${join(w.config, 'egress-allowlist-web')}: \`github.com:22\``]);
  });

  it('--http checks plain HTTP', async () => {
    const w = world({ user: 'http://deb.debian.org\ngithub.com\n' });
    expect((await check({ host: 'deb.debian.org', http: true }, w.ctx)).exitCode).toBe(0);
    const denied = await check({ host: 'github.com', http: true }, w.ctx);
    expect(denied.exitCode).toBe(1);
    expect(w.out[1]).toContain('`http://github.com`');
  });

  it('json: returns the answer as data and prints nothing', async () => {
    const w = world({ project: '*.npmjs.org\n' }, true);
    const allowed = await check({ host: 'registry.npmjs.org', json: true }, w.ctx);
    expect(allowed.data).toEqual({
      allowed: true,
      host: 'registry.npmjs.org',
      port: 443,
      protocol: 'connect',
      entry: '*.npmjs.org',
      source: { file: join(w.config, 'egress-allowlist-web'), line: 1 },
      private: false,
    });
    const denied = await check({ host: 'npmjs.org', json: true }, w.ctx);
    expect(denied.data).toMatchObject({ allowed: false, host: 'npmjs.org', port: 443, protocol: 'connect', suggestion: 'npmjs.org' });
    expect(w.out).toEqual([]);
  });

  it.each(['10.0.0.1', '[::1]', '0x7f000001', 'not a host', '*.npmjs.org', 'github.com:0', 'intranet'])(
    'invalid host input %j is exit 2 with a reason',
    async (host) => {
      const w = world({});
      const error = await usageError(check({ host }, w.ctx));
      expect(error.exitCode).toBe(2);
      expect(error.message).toContain(`cannot check \`${host}\``);
      expect(error.hint).toBeTruthy();
    },
  );
});

describe('allowlist list', () => {
  it('lists effective entries with FILE:LINE, notes covered ones and repeats', async () => {
    const w = world({ user: '*.npmjs.org\nregistry.npmjs.org\n', project: 'api.anthropic.com\n' });
    const r = await list({}, w.ctx);
    expect(r.exitCode).toBe(0);
    const text = w.out.join('\n');
    const user = join(w.config, 'egress-allowlist');
    expect(text).toContain(`# baseline: ${w.baseline}`);
    expect(text).toMatch(new RegExp(`registry\\.npmjs\\.org +${user}:2  \\(covered by \`\\*\\.npmjs\\.org\` \\(${user}:1\\); not compiled separately\\)`));
    expect(text).toContain(`api.anthropic.com at ${join(w.config, 'egress-allowlist-web')}:1 repeats ${w.baseline}:1`);
  });

  it('shows a private: entry as such, in text and json', async () => {
    const w = world({ user: 'private:registry.corp.example\n' });
    await list({}, w.ctx);
    expect(w.out.join('\n')).toMatch(/^private:registry\.corp\.example +\S+:1  \(may resolve to a private address\)$/m);
    const j = world({ user: 'private:registry.corp.example\ngithub.com\n' }, true);
    const r = await list({}, j.ctx);
    expect((r.data as { entries: unknown[] }).entries).toMatchObject([
      { entry: 'api.anthropic.com', private: false },
      { entry: 'private:registry.corp.example', private: true, note: 'may resolve to a private address' },
      { entry: 'github.com', private: false },
    ]);
  });

  it('json data', async () => {
    const w = world({ user: 'github.com:22\n' }, true);
    const r = await list({ project: 'Web' }, w.ctx);
    expect(w.out).toEqual([]);
    expect(r.data).toMatchObject({
      project: 'web',
      sources: [
        { kind: 'baseline', exists: true, entries: 1 },
        { kind: 'user', exists: true, entries: 1 },
        { kind: 'project', exists: false, entries: 0 },
      ],
      entries: [
        { entry: 'api.anthropic.com', source: { file: w.baseline, line: 1 } },
        { entry: 'github.com:22', rules: [{ protocol: 'connect', host: 'github.com', wildcard: false, port: 22 }] },
      ],
      duplicates: [],
    });
  });
});

describe('warnings alongside errors', () => {
  it('prints legacy-regex warnings even when another line is an error', async () => {
    const w = world({ user: '^registry\\.npmjs\\.org$\n127.0.0.1\n' });
    await usageError(compile({}, w.ctx));
    expect(w.err.join('\n')).toContain('egress-allowlist:1: converted legacy regex');
  });
});
