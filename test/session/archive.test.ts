import { mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { archiveFileText, archiveSessionLogs, archiveText, planArchivePrune, tailBytes } from '../../lib/session/archive.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('tailBytes', () => {
  it('keeps the end, starting at a whole line', () => {
    expect(tailBytes('line one\nline two\nline three\n', 15)).toBe('line three\n');
    expect(tailBytes('short\n', 100)).toBe('short\n');
  });
});

describe('planArchivePrune', () => {
  it('drops the oldest archives until the rest fit the cap', () => {
    const files = [
      { name: 'new.log', size: 40, mtimeMs: 3 },
      { name: 'old.log', size: 40, mtimeMs: 1 },
      { name: 'mid.log', size: 40, mtimeMs: 2 },
    ];
    expect(planArchivePrune(files, 100)).toEqual(['old.log']);
    expect(planArchivePrune(files, 40)).toEqual(['old.log', 'mid.log']);
    expect(planArchivePrune(files, 120)).toEqual([]);
  });
});

describe('archiveText', () => {
  it('caps one session at the per-session budget, header included', () => {
    const log = Array.from({ length: 1000 }, (_, i) => `NOTICE line ${i}`).join('\n');
    const text = archiveText({ session: 'a-0001', metadata: '{"id":"a-0001"}', egressLog: log, cap: 1024 })!;
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1024);
    expect(text).toMatch(/^# drydock session a-0001\n# \{"id":"a-0001"\}\n/);
    expect(text.endsWith('NOTICE line 999')).toBe(true);
  });
  it('keeps what the whole session refused even when the early log falls outside the tail', () => {
    const refusal = 'NOTICE    Nov 22 18:52:38.817 [3356]: Proxying refused on filtered url "evil.test:443"';
    const noise = Array.from({ length: 5000 }, (_, i) => `CONNECT   Nov 22 18:53:00.000 [3356]: Connect (file descriptor 5): 172.20.0.3 #${i}`);
    const text = archiveText({ session: 'a-0001', egressLog: [refusal, ...noise].join('\n'), cap: 4096 })!;
    expect(text).not.toContain('Proxying refused'); // the raw line itself is gone from the tail…
    expect(text).toContain('# refused evil.test:443 ×1 — to allow, add: evil.test'); // …but not what it said
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(4096);
  });
  it('escapes control bytes a refused target carried into the header (it came from the agent)', () => {
    const refusal = 'NOTICE    Nov 22 18:52:38.817 [3356]: Proxying refused on filtered url "\x1b]0;pwned\x07.test:443"';
    const text = archiveText({ session: 'a-0001', egressLog: refusal })!;
    const header = text.split('\n').filter((l) => l.startsWith('# refused ') && l.includes('×'));
    expect(header).toEqual([expect.stringContaining('\\x1b]0;pwned\\x07.test:443 ×1')]);
  });
  it('has nothing to archive for a dir without logs or metadata', () => {
    expect(archiveText({ session: 'a-0001' })).toBeUndefined();
  });
});

describe('archiveFileText', () => {
  it('streams a saved log: the summary of all of it, the tail within the cap', () => {
    const dir = tempDir('archive');
    const refusal = 'NOTICE    Nov 22 18:52:38.817 [3356]: Proxying refused on filtered url "evil.test:443"';
    const noise = Array.from({ length: 50_000 }, (_, i) => `CONNECT   Nov 22 18:53:00.000 [3356]: Connect (file descriptor 5): 172.20.0.3 #${i}`);
    writeFileSync(join(dir, 'egress.log'), `${[refusal, ...noise].join('\n')}\n`);
    const text = archiveFileText({ session: 'a-0001', egressLogPath: join(dir, 'egress.log'), cap: 8192 })!;
    expect(text).toContain('# refused evil.test:443 ×1 — to allow, add: evil.test');
    expect(text.endsWith('#49999\n')).toBe(true);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(8192);
  });
});

describe('archiveSessionLogs', () => {
  it('writes <state>/gc-archive/<session>.log and prunes the archive to its total cap', () => {
    const state = tempDir('archive');
    const env = { DRYDOCK_STATE_DIR: state };
    const archive = join(state, 'gc-archive');
    mkdirSync(archive, { recursive: true });
    writeFileSync(join(archive, 'old-0001.log'), 'x'.repeat(600));
    utimesSync(join(archive, 'old-0001.log'), 1, 1);
    const dir = join(state, 'sessions', 'new-0002');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'egress.log'), 'NOTICE denied\n');
    const path = archiveSessionLogs({ stateDir: env.DRYDOCK_STATE_DIR, session: 'new-0002', dir, totalCap: 500 });
    expect(path).toBe(join(archive, 'new-0002.log'));
    expect(readFileSync(path!, 'utf8')).toContain('NOTICE denied');
    expect(readdirSync(archive)).toEqual(['new-0002.log']);
    rmSync(state, { recursive: true, force: true });
  });
});
