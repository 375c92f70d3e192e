import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CappedLineFile, readLinesSync } from '../../lib/session/capped-file.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = () => tempDir('capped');
const marker = (o: { lines: number; bytes: number }) => `# ${o.lines} lines (${o.bytes} bytes) left out`;

describe('CappedLineFile', () => {
  it('writes a small log whole, and only once finished (a temp file until then)', () => {
    const d = dir();
    const file = new CappedLineFile(join(d, 'egress.log'), { maxBytes: 1000 });
    file.write('one');
    file.write('two');
    expect(readdirSync(d)).not.toContain('egress.log');
    expect(file.finish(marker)).toMatchObject({ lines: 2, omittedLines: 0 });
    expect(readFileSync(join(d, 'egress.log'), 'utf8')).toBe('one\ntwo\n');
    expect(readdirSync(d)).toEqual(['egress.log']);
  });

  it('keeps the first and the last part of a long log within the cap, with one marker between', () => {
    const d = dir();
    const file = new CappedLineFile(join(d, 'egress.log'), { maxBytes: 400, tailBytes: 100 });
    for (let i = 0; i < 10_000; i += 1) file.write(`line ${String(i).padStart(5, '0')}`); // 11 bytes each
    const result = file.finish(marker);
    const text = readFileSync(join(d, 'egress.log'), 'utf8');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('line 00000');
    expect(lines[lines.length - 1]).toBe('line 09999');
    expect(lines.filter((l) => l.startsWith('#'))).toEqual([`# ${result.omittedLines} lines (${result.omittedBytes} bytes) left out`]);
    expect(result.bytes).toBeLessThanOrEqual(400);
    expect(result.lines + result.omittedLines).toBe(10_000);
    expect(file.tailHighWater).toBeLessThanOrEqual(100);
  });

  it('discard leaves nothing behind', () => {
    const d = dir();
    const file = new CappedLineFile(join(d, 'egress.log'), { maxBytes: 100 });
    file.write('x');
    file.discard();
    expect(readdirSync(d)).toEqual([]);
  });
});

describe('readLinesSync', () => {
  it('reads every line, multi-byte characters split across chunks included', () => {
    const d = dir();
    const text = Array.from({ length: 20_000 }, (_, i) => `zürich ${i} ✓`).join('\n');
    writeFileSync(join(d, 'f'), `${text}\n`);
    const lines: string[] = [];
    readLinesSync(join(d, 'f'), (l) => lines.push(l));
    expect(lines.join('\n')).toBe(text);
  });
});
