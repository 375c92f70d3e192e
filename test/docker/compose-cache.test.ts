import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileComposeCache, resolveOnPath } from '../../lib/docker/compose-cache.js';
import { detectCompose } from '../../lib/docker/compose.js';
import { FakeRunner } from '../helpers/fake-runner.js';

let root: string;
let bin: string;
let cacheFile: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'drydock-compose-cache-'));
  bin = join(root, 'bin');
  mkdirSync(bin);
  cacheFile = join(root, 'state', 'compose-version.json');
  install('#!/bin/sh\necho v1\n');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A docker-compose in `bin`, written as a new file (a new inode), as a package upgrade does. */
function install(content: string): void {
  const tmp = join(bin, '.docker-compose.new');
  writeFileSync(tmp, content);
  chmodSync(tmp, 0o755);
  renameSync(tmp, join(bin, 'docker-compose'));
}

const NO_V2 = { argv: ['docker', 'compose', 'version'], result: { code: 1, stderr: 'docker: unknown command: docker compose' } };
const V1 = (version = '1.29.2') => ({ argv: ['docker-compose', 'version'], result: { stdout: `docker-compose version ${version}, build unknown\n` } });
const cache = (pathVar = bin) => fileComposeCache({ file: cacheFile, pathVar });

describe('the Compose v1 version cache (run skips a 0.5–0.8 s Python start when the binary is unchanged)', () => {
  it('the first start asks docker-compose and remembers; the next asks only the v2 plugin', async () => {
    expect(await detectCompose(new FakeRunner().expect(NO_V2).expect(V1()), cache())).toMatchObject({ kind: 'v1', version: '1.29.2' });
    expect(JSON.parse(readFileSync(cacheFile, 'utf8'))).toMatchObject({ v: 1, version: '1.29.2', identity: { path: join(bin, 'docker-compose') } });
    const second = new FakeRunner().expect(NO_V2);
    expect(await detectCompose(second, cache())).toEqual({ kind: 'v1', version: '1.29.2', command: ['docker-compose'] });
    expect(second.calls).toEqual([['docker', 'compose', 'version']]);
  });

  it('a v2 plugin that appears wins over the cache', async () => {
    await detectCompose(new FakeRunner().expect(NO_V2).expect(V1()), cache());
    const fake = new FakeRunner().expect({ argv: ['docker', 'compose', 'version'], result: { stdout: 'Docker Compose version v2.24.5\n' } });
    expect((await detectCompose(fake, cache())).kind).toBe('v2');
  });

  it('a replaced binary (even of the same size and mtime) is asked again, and the new answer stored', async () => {
    await detectCompose(new FakeRunner().expect(NO_V2).expect(V1()), cache());
    install('#!/bin/sh\necho v2\n'); // same length: the new inode and ctime tell it apart
    expect(await detectCompose(new FakeRunner().expect(NO_V2).expect(V1('1.25.0')), cache())).toMatchObject({ version: '1.25.0' });
    expect(JSON.parse(readFileSync(cacheFile, 'utf8')).version).toBe('1.25.0');
  });

  it('another docker-compose first on PATH is asked, not trusted from the other one\'s entry', async () => {
    await detectCompose(new FakeRunner().expect(NO_V2).expect(V1()), cache());
    const other = join(root, 'other');
    mkdirSync(other);
    symlinkSync(join(bin, 'docker-compose'), join(other, 'docker-compose'));
    // The same file behind a different PATH entry is still another key (path is part of it).
    const fake = new FakeRunner().expect(NO_V2).expect(V1());
    await detectCompose(fake, cache(`${other}:${bin}`));
    expect(fake.calls).toContainEqual(['docker-compose', 'version']);
  });

  it('no cache when PATH cannot be resolved for certain (a relative or empty entry first), or docker-compose is not found', async () => {
    expect(resolveOnPath('docker-compose', `.:${bin}`)).toBeUndefined();
    expect(resolveOnPath('docker-compose', `:${bin}`)).toBeUndefined();
    expect(resolveOnPath('docker-compose', undefined)).toBeUndefined();
    expect(resolveOnPath('docker-compose', `${join(root, 'nothing')}:${bin}`)).toBe(join(bin, 'docker-compose'));
    for (let i = 0; i < 2; i++) {
      const fake = new FakeRunner().expect(NO_V2).expect(V1());
      await detectCompose(fake, cache(`relative:${bin}`));
      expect(fake.calls).toContainEqual(['docker-compose', 'version']);
    }
    expect(() => readFileSync(cacheFile)).toThrow();
  });

  it('an unreadable, forged or foreign cache file is ignored (asked again), never believed', async () => {
    await detectCompose(new FakeRunner().expect(NO_V2).expect(V1()), cache());
    const good = JSON.parse(readFileSync(cacheFile, 'utf8'));
    for (const bad of ['{not json', JSON.stringify({ ...good, v: 2 }), JSON.stringify({ ...good, version: '1.29.2\u001b[31m' }), JSON.stringify({ ...good, identity: { ...good.identity, ino: 'x' } })]) {
      writeFileSync(cacheFile, bad);
      const fake = new FakeRunner().expect(NO_V2).expect(V1());
      await detectCompose(fake, cache());
      expect(fake.calls).toContainEqual(['docker-compose', 'version']);
    }
  });

  it('a failed or unparsable v1 answer is not stored', async () => {
    const failed = new FakeRunner().expect(NO_V2).expect({ argv: ['docker-compose', 'version'], result: { code: 1, stderr: 'Traceback …' } });
    expect((await detectCompose(failed, cache())).kind).toBe('none');
    const odd = new FakeRunner().expect(NO_V2).expect({ argv: ['docker-compose', 'version'], result: { stdout: 'something else\n' } });
    expect(await detectCompose(odd, cache())).toMatchObject({ kind: 'v1', version: 'unknown' });
    expect(() => readFileSync(cacheFile)).toThrow();
  });
});
