import { linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWithin, realPathOf, trustedPathsOf, untrustedPaths, type PathLookups } from '../../lib/workspace/trusted-paths.js';
import { tempDir } from '../helpers/temp-dir.js';

/** A filesystem of symlinks only: `links` maps a path to where it leads; everything else is itself. */
function lookups(existing: string[], links: Record<string, string> = {}, nlink: Record<string, number> = {}): PathLookups {
  const exists = new Set(existing);
  return {
    realpath: (path) => {
      let p = path;
      for (const [from, to] of Object.entries(links)) if (p === from || p.startsWith(`${from}/`)) p = to + p.slice(from.length);
      if (!exists.has(p)) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
      return p;
    },
    regularFileLinks: (path) => nlink[path],
  };
}

const paths = trustedPathsOf({ configDir: '/home/u/.config/drydock', stateDir: '/home/u/.local/state/drydock', baseline: '/opt/drydock/allowlists/egress-baseline.conf', userAllowlists: ['/home/u/.config/drydock/egress-allowlist', '/home/u/.config/drydock/egress-allowlist-app'] });

describe('untrustedPaths', () => {
  it('accepts paths outside the project', () => {
    const fs = lookups(['/', '/home', '/home/u', '/home/u/app', '/home/u/.config', '/home/u/.config/drydock', '/home/u/.local', '/opt', '/opt/drydock', '/opt/drydock/allowlists', '/opt/drydock/allowlists/egress-baseline.conf']);
    expect(untrustedPaths({ projectDir: '/home/u/app', paths, lookups: fs })).toEqual([]);
  });

  it('refuses a config dir inside the project (the project is the home dir)', () => {
    const fs = lookups(['/', '/home', '/home/u', '/home/u/.config', '/home/u/.config/drydock', '/opt', '/opt/drydock', '/opt/drydock/allowlists', '/opt/drydock/allowlists/egress-baseline.conf']);
    const found = untrustedPaths({ projectDir: '/home/u', paths, lookups: fs });
    expect(found.map((f) => f.role)).toEqual(['config dir', 'state dir', 'allowlist', 'allowlist']);
    expect(found[0]!.message).toMatch(/the config dir \/home\/u\/\.config\/drydock is inside the project directory \/home\/u, which the agent can write — set DRYDOCK_CONFIG_DIR to a path outside it/);
  });

  it('refuses a project allowlist that is a symlink into the project, naming where it leads', () => {
    const fs = lookups(['/', '/home', '/home/u', '/home/u/app', '/home/u/app/allow', '/home/u/.config', '/home/u/.config/drydock', '/opt', '/opt/drydock', '/opt/drydock/allowlists', '/opt/drydock/allowlists/egress-baseline.conf'],
      { '/home/u/.config/drydock/egress-allowlist-app': '/home/u/app/allow' });
    const found = untrustedPaths({ projectDir: '/home/u/app', paths, lookups: fs });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ role: 'allowlist', reason: 'inside-project', realPath: '/home/u/app/allow' });
    expect(found[0]!.message).toMatch(/through a symlink: \/home\/u\/app\/allow/);
  });

  it('refuses a missing allowlist under a config dir that is a symlink into the project', () => {
    const fs = lookups(['/', '/home', '/home/u', '/home/u/app', '/home/u/app/.cfg', '/opt', '/opt/drydock', '/opt/drydock/allowlists', '/opt/drydock/allowlists/egress-baseline.conf', '/home/u/.local'],
      { '/home/u/.config/drydock': '/home/u/app/.cfg', '/home/u/.config': '/home/u/.config' });
    const found = untrustedPaths({ projectDir: '/home/u/app', paths, lookups: { ...fs, realpath: (p) => (p === '/home/u/.config' ? p : fs.realpath(p)) } });
    expect(found.map((f) => f.role)).toEqual(['config dir', 'allowlist', 'allowlist']);
  });

  it('refuses an allowlist file with a second hard link', () => {
    const fs = lookups(['/', '/home', '/home/u', '/home/u/app', '/home/u/.config', '/home/u/.config/drydock', '/home/u/.config/drydock/egress-allowlist', '/opt', '/opt/drydock', '/opt/drydock/allowlists', '/opt/drydock/allowlists/egress-baseline.conf'],
      {}, { '/home/u/.config/drydock/egress-allowlist': 2 });
    const found = untrustedPaths({ projectDir: '/home/u/app', paths, lookups: fs });
    expect(found).toMatchObject([{ reason: 'hard-linked', role: 'allowlist' }]);
    expect(found[0]!.message).toMatch(/2 hard links/);
  });

  it('on a real filesystem: symlinked config dir and a hard link', () => {
    const root = tempDir('trust');
    const project = join(root, 'app');
    mkdirSync(join(project, 'evil'), { recursive: true });
    symlinkSync(join(project, 'evil'), join(root, 'config'));
    writeFileSync(join(root, 'baseline'), 'api.anthropic.com\n');
    linkSync(join(root, 'baseline'), join(project, 'baseline-copy'));
    const found = untrustedPaths({ projectDir: project, paths: trustedPathsOf({ configDir: join(root, 'config'), stateDir: join(root, 'state'), baseline: join(root, 'baseline'), userAllowlists: [join(root, 'config', 'egress-allowlist')] }) });
    expect(found.map((f) => `${f.role}:${f.reason}`)).toEqual(['config dir:inside-project', 'baseline allowlist:hard-linked', 'allowlist:inside-project']);
  });
});

describe('path helpers', () => {
  it('isWithin is by path component, not by prefix', () => {
    expect(isWithin('/home/u/app', '/home/u/app')).toBe(true);
    expect(isWithin('/home/u/app/x', '/home/u/app')).toBe(true);
    expect(isWithin('/home/u/app2', '/home/u/app')).toBe(false);
    expect(isWithin('/home/u', '/home/u/app')).toBe(false);
  });
  it('realPathOf resolves the deepest existing ancestor', () => {
    const fs = lookups(['/', '/a', '/real'], { '/a/link': '/real' });
    expect(realPathOf('/a/link/missing/file', fs)).toBe('/real/missing/file');
  });
});
