import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock } from '../../lib/allowlist/lock.js';
import { ExternalError } from '../../lib/errors.js';
import { tempDir } from '../helpers/temp-dir.js';

let dir: string;
beforeEach(() => void (dir = tempDir('lock')));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('acquireLock', () => {
  it('creates the lock with its owner, and release removes it', async () => {
    const lock = await acquireLock(join(dir, 'l'), { pid: 1234, host: 'h' });
    expect(readFileSync(join(dir, 'l'), 'utf8')).toBe('1234 h\n');
    lock.release();
    expect(existsSync(join(dir, 'l'))).toBe(false);
  });

  it('serialises holders: the second waits until the first releases', async () => {
    const path = join(dir, 'l');
    const first = await acquireLock(path);
    const order: string[] = [];
    const second = acquireLock(path, { sleep: async () => void (order.push('waited'), order.length === 2 && first.release()) }).then((l) => {
      order.push('second');
      return l;
    });
    (await second).release();
    expect(order).toEqual(['waited', 'waited', 'second']);
  });

  it('takes over the lock of an owner that is dead on this host', async () => {
    const path = join(dir, 'l');
    writeFileSync(path, '999999999 thishost\n');
    const lock = await acquireLock(path, { host: 'thishost', pid: 42, timeoutMs: 1000 });
    expect(readFileSync(path, 'utf8')).toBe('42 thishost\n');
    lock.release();
  });

  it('waits for a live owner, or one on another host, then says who holds it (exit 3)', async () => {
    const path = join(dir, 'l');
    writeFileSync(path, `${process.pid} thishost\n`);
    await expect(acquireLock(path, { host: 'thishost', timeoutMs: 0, sleep: async () => {} })).rejects.toBeInstanceOf(ExternalError);
    writeFileSync(path, '999999999 otherhost\n');
    await expect(acquireLock(path, { host: 'thishost', timeoutMs: 0, sleep: async () => {} })).rejects.toThrow(/holds .* \(999999999 otherhost\)/);
  });

  it('many concurrent takers: exactly one holds it at any time', async () => {
    const path = join(dir, 'l');
    let inside = 0;
    let most = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      const lock = await acquireLock(path, { sleep: (ms) => new Promise((r) => setTimeout(r, ms / 10)) });
      inside += 1;
      most = Math.max(most, inside);
      await new Promise((r) => setTimeout(r, 2));
      inside -= 1;
      lock.release();
    }));
    expect(most).toBe(1);
  });
});
