import { describe, expect, it } from 'vitest';
import { planListEdit, type OtherSource } from '../../lib/allowlist/edit.js';
import { parseAllowlist } from '../../lib/allowlist/parse.js';

const FILE = '/cfg/egress-allowlist-demo';
const source = (path: string, kind: OtherSource['kind'], text: string): OtherSource => ({ path, kind, entries: parseAllowlist(text, path).entries });
const BASELINE = source('/pkg/egress-baseline.conf', 'baseline', 'api.anthropic.com\n');
const GLOBAL = source('/cfg/egress-allowlist', 'user', '# mine\n*.npmjs.org\n');

const edit = (op: 'add' | 'remove', entries: string[], text: string | undefined, others = [BASELINE, GLOBAL]) =>
  planListEdit({ op, entries, list: { path: FILE, text }, others });

describe('allowlist add (the file edit)', () => {
  it('appends canonical lines and keeps comments, blank lines and order', () => {
    const r = edit('add', ['HTTPS://Example.COM/', 'github.com:22'], '# team list\n\nallowed.test   # the API\n');
    expect(r).toMatchObject({ ok: true, changed: true });
    if (!r.ok) return;
    expect(r.text).toBe('# team list\n\nallowed.test   # the API\nexample.com\ngithub.com:22\n');
    expect(r.outcomes).toEqual([
      { entry: 'example.com', change: 'added' },
      { entry: 'github.com:22', change: 'added' },
    ]);
  });

  it('creates the list when it does not exist, and adds a newline to a last line without one', () => {
    const fresh = edit('add', ['a.test'], undefined);
    expect(fresh.ok && fresh.text).toBe('a.test\n');
    const open = edit('add', ['b.test'], 'a.test');
    expect(open.ok && open.text).toBe('a.test\nb.test\n');
  });

  it('keeps CRLF line endings and a byte-order mark', () => {
    const r = edit('add', ['b.test'], '\uFEFF# x\r\na.test\r\n');
    expect(r.ok && r.text).toBe('\uFEFF# x\r\na.test\r\nb.test\r\n');
  });

  it('does not add what is already listed here, in the global list or the baseline', () => {
    const r = edit('add', ['allowed.test', '*.npmjs.org', 'api.anthropic.com', 'allowed.test'], 'allowed.test\n');
    expect(r).toMatchObject({ ok: true, changed: false, text: 'allowed.test\n' });
    if (!r.ok) return;
    expect(r.outcomes.map((o) => o.note)).toEqual([
      `already listed at ${FILE}:1`,
      'already allowed by /cfg/egress-allowlist:2',
      'already allowed by /pkg/egress-baseline.conf:1',
    ]);
  });

  it('refuses a bad entry the way the parser does, at the line it would have, and changes nothing', () => {
    const r = edit('add', ['ok.test', 'http://x.test/path', '1.2.3.4', '-gone.test', 'a.test # note', 'two\nlines'], '# c\nallowed.test\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics.map((d) => `${d.file}:${d.line}: ${d.message}`)).toEqual([
      `${FILE}:4: argument 2 \`http://x.test/path\`: a path (\`/path\`) is not allowed`,
      expect.stringMatching(new RegExp(`^${FILE}:4: argument 3 \`1\\.2\\.3\\.4\`: .*IP`)),
      expect.stringMatching(new RegExp(`^${FILE}:4: argument 4 \`-gone\\.test\`: .*add-only`)),
      `${FILE}:4: argument 5 \`a.test # note\`: a comment is not an entry`,
      `${FILE}:4: argument 6 \`two\nlines\`: one entry per argument, without line breaks`,
    ]);
    expect(r.diagnostics.every((d) => d.fix)).toBe(true);
  });

  it('refuses to edit a list that already has errors, naming them', () => {
    const r = edit('add', ['ok.test'], 'good.test\nbad.test/path\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics[0]).toMatchObject({ file: FILE, line: 2 });
    expect(r.diagnostics[0]!.fix).toMatch(/fix it before changing it with drydock/);
  });

  it('writes a legacy regex as its entry, with a warning', () => {
    const r = edit('add', ['^api\\.example\\.com$'], '');
    expect(r.ok && r.text).toBe('api.example.com\n');
    expect(r.ok && r.warnings[0]).toMatch(/converted legacy regex/);
  });
});

describe('allowlist remove (the file edit)', () => {
  it('deletes exactly the lines holding the entry, whatever their spelling, and keeps everything else', () => {
    const r = edit('remove', ['github.com'], '# keep\nGITHUB.com   # old\n\nother.test\nhttps://github.com/\n# end\n');
    expect(r.ok && r.text).toBe('# keep\n\nother.test\n# end\n');
    expect(r.ok && r.outcomes).toEqual([{ entry: 'github.com', change: 'removed' }]);
  });

  it('says when a removed host is still allowed by a wildcard', () => {
    const r = edit('remove', ['x.npmjs.org'], 'x.npmjs.org\n');
    expect(r.ok && r.outcomes[0]!.note).toBe('still allowed by `*.npmjs.org` (/cfg/egress-allowlist:2)');
  });

  it('cannot remove a baseline entry (add-only), nor one listed elsewhere, nor one not listed', () => {
    const r = edit('remove', ['api.anthropic.com', '*.npmjs.org', 'nowhere.test'], 'mine.test\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics.map((d) => `${d.file}:${d.line}: ${d.message}`)).toEqual([
      '/pkg/egress-baseline.conf:1: argument 1 `api.anthropic.com`: this entry is in the baseline, which is add-only: drydock cannot remove it',
      `${FILE}:0: argument 2 \`*.npmjs.org\`: not in this list; it is listed at /cfg/egress-allowlist:2`,
      `${FILE}:0: argument 3 \`nowhere.test\`: not listed here, so there is nothing to remove`,
    ]);
    expect(r.diagnostics[1]!.fix).toMatch(/--global/);
  });

  it('keeps the file\'s line endings when deleting', () => {
    const r = edit('remove', ['a.test'], 'a.test\r\nb.test\r\n');
    expect(r.ok && r.text).toBe('b.test\r\n');
  });
});
