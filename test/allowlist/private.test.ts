/**
 * The `private:` opt-in: its syntax, that the baseline refuses it, and which names it lets resolve
 * to a private address (the resolver's rule: the entry's host and every name under it).
 */
import { describe, expect, it } from 'vitest';
import { parseAllowlist, parseEntry } from '../../lib/allowlist/parse.js';
import { privateDomains, privateEntryFor } from '../../lib/allowlist/private.js';
import { loadAllowlists } from '../../lib/allowlist/sources.js';
import { formatDiagnostic } from '../../lib/errors.js';
import { resolveSettings } from '../../lib/settings.js';

describe('private: entries', () => {
  it.each([
    ['private:registry.corp.example', 'private:registry.corp.example', [['connect', 'registry.corp.example', 443]]],
    ['PRIVATE:Registry.Corp.Example.', 'private:registry.corp.example', [['connect', 'registry.corp.example', 443]]],
    ['private:http://mirror.corp.example:8080', 'private:http://mirror.corp.example:8080', [['connect', 'mirror.corp.example', 443], ['http', 'mirror.corp.example', 8080]]],
    ['private:*.corp.example', 'private:*.corp.example', [['connect', 'corp.example', 443]]],
    ['private:git.corp.example:22', 'private:git.corp.example:22', [['connect', 'git.corp.example', 22]]],
  ])('%s parses to %s with the same rules as without the prefix', (text, canonical, rules) => {
    const { entry, error } = parseEntry(text);
    expect(error).toBeUndefined();
    expect(entry?.canonical).toBe(canonical);
    expect(entry?.private).toBe(true);
    expect(entry?.rules.map((r) => [r.protocol, r.host, r.port])).toEqual(rules);
    expect(parseEntry(canonical).entry?.canonical).toBe(canonical);
  });

  it('an entry without the prefix is not private', () => {
    expect(parseEntry('registry.corp.example').entry?.private).toBeUndefined();
  });

  it.each([
    ['private:', /names no host/],
    ['private:private:a.example', /names no host/],
    ['private: a.example', /whitespace/],
    ['private:10.0.0.1', /IP|address/i],
    ['private:localhost', /single-label|localhost/i],
    ['private:*.com', /wildcard over a whole/],
    ['private:a.example/path', /path/],
  ])('%s is rejected', (text, message) => {
    const { entry, error } = parseEntry(text);
    expect(entry).toBeUndefined();
    expect(error?.message).toMatch(message);
  });

  it('keeps FILE:LINE in a file', () => {
    const r = parseAllowlist('# internal\nprivate:registry.corp.example\n', '/cfg/egress-allowlist');
    expect(r.errors).toEqual([]);
    expect(r.entries[0]).toMatchObject({ canonical: 'private:registry.corp.example', private: true, source: { file: '/cfg/egress-allowlist', line: 2 } });
  });

  it('is refused in the baseline, with FILE:LINE and where to put it instead', () => {
    const files: Record<string, string> = { '/base.conf': 'api.anthropic.com\nprivate:registry.corp.example\n', '/cfg/egress-allowlist': 'private:git.corp.example\n' };
    const r = loadAllowlists({
      files: resolveSettings({ env: { DRYDOCK_CONFIG_DIR: '/cfg', DRYDOCK_BASELINE: '/base.conf' }, cwd: '/', project: 'web' }).allowlists,
      readFile: (p) => files[p],
    });
    expect(r.errors.map(formatDiagnostic)).toEqual([
      expect.stringMatching(/^\/base\.conf:2: `private:registry\.corp\.example`: the baseline cannot let a name resolve to a private address — move the line to your own allowlist/),
    ]);
    expect(r.entries.map((e) => e.canonical)).toEqual(['api.anthropic.com', 'private:git.corp.example']);
  });
});

describe('which names may resolve privately', () => {
  const entries = parseAllowlist('api.anthropic.com\nprivate:registry.corp.example\nprivate:*.lab.example\nprivate:http://mirror.corp.example\n', 'f').entries;

  it('the resolver exempts each private host once, sorted', () => {
    expect(privateDomains(entries)).toEqual(['lab.example', 'mirror.corp.example', 'registry.corp.example']);
  });

  it('a name at or under a private host is exempt; others, and look-alikes, are not', () => {
    expect(privateEntryFor(entries, 'registry.corp.example')?.canonical).toBe('private:registry.corp.example');
    expect(privateEntryFor(entries, 'a.b.lab.example')?.canonical).toBe('private:*.lab.example');
    expect(privateEntryFor(entries, 'REGISTRY.corp.example.')?.canonical).toBe('private:registry.corp.example');
    expect(privateEntryFor(entries, 'api.anthropic.com')).toBeUndefined();
    expect(privateEntryFor(entries, 'xregistry.corp.example')).toBeUndefined();
    expect(privateEntryFor(entries, 'corp.example')).toBeUndefined();
  });
});
