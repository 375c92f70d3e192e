import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ownerOf, scanSessionDirs } from '../../lib/session/dirs.js';
import type { SessionMetadata } from '../../lib/session/metadata.js';
import { tempDir } from '../helpers/temp-dir.js';

const meta = (extra: Partial<SessionMetadata> = {}): SessionMetadata => ({
  id: 'a-0001', project: 'a', mode: 'contain', observe: false, createdAt: '2024-05-01T10:00:00Z', pid: 42, hostname: 'here', ...extra,
});
const probe = (alive: boolean) => ({ hostname: 'here', pidAlive: () => alive });

describe('ownerOf', () => {
  it('alive or dead by pid on this host; dead once ended; unknown without metadata or on another host', () => {
    expect(ownerOf(meta(), probe(true))).toBe('alive');
    expect(ownerOf(meta(), probe(false))).toBe('dead');
    expect(ownerOf(meta({ endedAt: '2024-05-01T11:00:00Z' }), probe(true))).toBe('dead');
    expect(ownerOf(meta({ hostname: 'elsewhere' }), probe(false))).toBe('unknown');
    expect(ownerOf(undefined, probe(true))).toBe('unknown');
  });
});

describe('scanSessionDirs', () => {
  it('lists only directories named like session ids, with their owner', () => {
    const state = tempDir('dirs');
    const sessions = join(state, 'sessions');
    for (const name of ['a-0001', 'b-0002', 'not-a-session', 'c-0003']) mkdirSync(join(sessions, name), { recursive: true });
    writeFileSync(join(sessions, 'a-0001', 'session.json'), JSON.stringify(meta({ pid: 7 })));
    writeFileSync(join(sessions, 'b-0002', 'session.json'), 'not json');
    writeFileSync(join(sessions, 'stray-0004'), 'a file, not a dir');
    const dirs = scanSessionDirs(join(state, 'sessions'), { hostname: 'here', pidAlive: (pid) => pid === 7 });
    expect(dirs.map((d) => [d.session, d.owner])).toEqual([['a-0001', 'alive'], ['b-0002', 'unknown'], ['c-0003', 'unknown']]);
    expect(dirs[0]?.createdAtMs).toBe(Date.parse('2024-05-01T10:00:00Z'));
  });

  it('is empty when there is no sessions dir yet', () => {
    expect(scanSessionDirs(join(tmpdir(), 'drydock-none-xyz', 'sessions'))).toEqual([]);
  });
});
