import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFilesAtomic } from '../lib/fs-atomic.js';
import { tempDir } from './helpers/temp-dir.js';

const temps = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.tmp'));

describe('atomic writes', () => {
  it('writeFileAtomic replaces a file whole and leaves no temp file', () => {
    const dir = tempDir('atomic');
    writeFileSync(join(dir, 'a'), 'old');
    writeFileAtomic(join(dir, 'a'), 'new');
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('new');
    expect(temps(dir)).toEqual([]);
  });

  it('writeFilesAtomic writes every file, or (a write failing) none of them, with no temp file left', () => {
    const dir = tempDir('atomic');
    writeFilesAtomic([{ path: join(dir, 'a'), content: '1' }, { path: join(dir, 'sub', 'b'), content: '2' }]);
    expect([readFileSync(join(dir, 'a'), 'utf8'), readFileSync(join(dir, 'sub', 'b'), 'utf8')]).toEqual(['1', '2']);
    // A file where a directory must be: the second write fails, the first file is not replaced.
    writeFileSync(join(dir, 'plain'), 'x');
    expect(() => writeFilesAtomic([{ path: join(dir, 'a'), content: 'changed' }, { path: join(dir, 'plain', 'c'), content: '3' }])).toThrow();
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('1');
    expect(temps(dir)).toEqual([]);
  });

  it('a rename that fails stops the step, says what was already replaced, and leaves no temp file', () => {
    const dir = tempDir('atomic');
    writeFileSync(join(dir, 'a'), 'old-a');
    mkdirSync(join(dir, 'b')); // a directory where the file goes: its rename fails
    writeFileSync(join(dir, 'c'), 'old-c');
    expect(() => writeFilesAtomic([
      { path: join(dir, 'a'), content: 'new-a' },
      { path: join(dir, 'b'), content: 'new-b' },
      { path: join(dir, 'c'), content: 'new-c' },
    ])).toThrow(/already replaced: .*\/a\)/);
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('new-a');
    expect(readFileSync(join(dir, 'c'), 'utf8')).toBe('old-c');
    expect(temps(dir)).toEqual([]);
  });
});
