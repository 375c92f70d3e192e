import { describe, expect, it } from 'vitest';
import { composeArgv, describeCompose, detectCompose, parseComposeVersion } from '../../lib/docker/compose.js';
import { ProgramNotFound } from '../../lib/docker/runner.js';
import { FakeRunner } from '../helpers/fake-runner.js';

describe('parseComposeVersion', () => {
  it.each([
    ['Docker Compose version v2.24.5', '2.24.5'],
    ['docker-compose version 1.29.2, build unknown\ndocker-py version: 5.0.3', '1.29.2'],
    ['2.27.0\n', '2.27.0'],
    ['Docker Compose version 2.20.2+ds1-0ubuntu1', '2.20.2+ds1-0ubuntu1'],
  ])('%s → %s', (text, version) => {
    expect(parseComposeVersion(text)).toBe(version);
  });
});

describe('detectCompose', () => {
  it('prefers the v2 plugin', async () => {
    const fake = new FakeRunner().expect({ argv: ['docker', 'compose', 'version'], result: { stdout: 'Docker Compose version v2.24.5\n' } });
    expect(await detectCompose(fake)).toEqual({ kind: 'v2', version: '2.24.5', command: ['docker', 'compose'] });
  });
  it("falls back to Debian's docker-compose v1 when the plugin is missing", async () => {
    const fake = new FakeRunner()
      .expect({ argv: ['docker', 'compose', 'version'], result: { code: 1, stderr: 'docker: unknown command: docker compose' } })
      .expect({ argv: ['docker-compose', 'version'], result: { stdout: 'docker-compose version 1.29.2, build unknown\n' } });
    const flavour = await detectCompose(fake);
    expect(flavour).toEqual({ kind: 'v1', version: '1.29.2', command: ['docker-compose'] });
    expect(describeCompose(flavour)).toBe('docker-compose 1.29.2 (v1)');
  });
  it('reports none when neither program exists', async () => {
    const fake = new FakeRunner()
      .expect({ argv: ['docker', 'compose', 'version'], throws: new ProgramNotFound('docker', new Error('ENOENT')) })
      .expect({ argv: ['docker-compose', 'version'], throws: new ProgramNotFound('docker-compose', new Error('ENOENT')) });
    expect((await detectCompose(fake)).kind).toBe('none');
  });
});

describe('composeArgv', () => {
  it('passes -p and every -f, never a shell string', () => {
    expect(
      composeArgv({ kind: 'v1', version: '1.29.2', command: ['docker-compose'] }, { project: 'drydock-app-1a2b', files: ['a.yml', 'b.yml'], args: ['up', '-d'] }),
    ).toEqual(['docker-compose', '-p', 'drydock-app-1a2b', '-f', 'a.yml', '-f', 'b.yml', 'up', '-d']);
  });
});
