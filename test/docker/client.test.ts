import { describe, expect, it } from 'vitest';
import { attributeRemoval, Docker } from '../../lib/docker/client.js';
import { ProgramNotFound } from '../../lib/docker/runner.js';
import { ExternalError } from '../../lib/errors.js';
import { FakeRunner } from '../helpers/fake-runner.js';

const NO_ENGINE = 'Cannot connect to the Docker daemon at unix:///nope.sock. Is the docker daemon running?\n';

describe('Docker adapter', () => {
  it('turns an unreachable engine into exit 3 with docker\'s first line and a fix', async () => {
    const fake = new FakeRunner().expect({ argv: ['docker', 'info', '--format', '{{json .}}'], result: { code: 1, stdout: '{"ServerVersion":""}', stderr: NO_ENGINE } });
    const error = await new Docker(fake).info().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalError);
    expect((error as ExternalError).exitCode).toBe(3);
    expect((error as ExternalError).message).toContain('Cannot connect to the Docker daemon');
    expect((error as ExternalError).hint).toMatch(/DOCKER_HOST/);
  });

  it('turns a missing docker CLI into exit 3 with an install hint', async () => {
    const fake = new FakeRunner().expect({ argv: () => true, throws: new ProgramNotFound('docker', new Error('ENOENT')) });
    const error = (await new Docker(fake).imageExists('x').catch((e: unknown) => e)) as ExternalError;
    expect(error.exitCode).toBe(3);
    expect(error.hint).toMatch(/install the docker CLI/);
  });

  it('tells a missing image from an engine failure', async () => {
    const fake = new FakeRunner()
      .expect({ argv: ['docker', 'image', 'inspect', '--format', '{{.Id}}', 'a:1'], result: { code: 1, stderr: 'Error: No such image: a:1\n' } })
      .expect({ argv: ['docker', 'image', 'inspect', '--format', '{{.Id}}', 'b:1'], result: { code: 1, stderr: NO_ENGINE } });
    const docker = new Docker(fake);
    expect(await docker.imageExists('a:1')).toBe(false);
    await expect(docker.imageExists('b:1')).rejects.toBeInstanceOf(ExternalError);
  });

  it('treats "already exists" from a concurrent network create as success', async () => {
    const argv = ['docker', 'network', 'create', '--label', 'drydock.shared=egress', 'drydock_egress'];
    const fake = new FakeRunner().expect({ argv, result: { code: 1, stderr: 'Error response from daemon: network with name drydock_egress already exists\n' } });
    expect(await new Docker(fake).ensureNetwork('drydock_egress', { 'drydock.shared': 'egress' })).toBe('existed');
  });

  it('finds which of several container names exist in one inspect call', async () => {
    const fake = new FakeRunner().expect({
      argv: ['docker', 'container', 'inspect', '--format', '{{.Name}}', 'drydock-a-0001', 'drydock-a-0001-egress'],
      result: { code: 1, stdout: '/drydock-a-0001-egress\n', stderr: 'Error: No such container: drydock-a-0001\n' },
    });
    expect(await new Docker(fake).existingContainers(['drydock-a-0001', 'drydock-a-0001-egress'])).toEqual(['drydock-a-0001-egress']);
  });

  it('removes every container in one rm -f call, and nothing when there is nothing', async () => {
    const fake = new FakeRunner().expect({ argv: ['docker', 'rm', '-f', 'a', 'b', 'c'], result: { stdout: 'a\nb\nc\n' } });
    const docker = new Docker(fake);
    expect(await docker.removeContainers(['a', 'b', 'c'])).toEqual({ removed: ['a', 'b', 'c'], failed: [] });
    expect(await docker.removeNetworks([])).toEqual({ removed: [], failed: [] });
    expect(fake.calls).toHaveLength(1);
  });

  it('asks again about a removal another teardown has in progress, until the engine says it is gone', async () => {
    const inProgress = { code: 1, stdout: 'a\n', stderr: 'Error response from daemon: removal of container b is already in progress\n' };
    const fake = new FakeRunner()
      .expect({ argv: ['docker', 'rm', '-f', 'a', 'b'], result: inProgress })
      .expect({ argv: ['docker', 'rm', '-f', 'b'], result: { code: 1, stderr: 'Error response from daemon: removal of container b is already in progress\n' } })
      .expect({ argv: ['docker', 'rm', '-f', 'b'], result: { code: 1, stderr: 'Error: No such container: b\n' } });
    expect(await new Docker(fake).removeContainers(['a', 'b'])).toEqual({ removed: ['a', 'b'], failed: [] });
  });

  it('reports the other removal\'s failure as its own, never a success it did not see', async () => {
    const fake = new FakeRunner()
      .expect({ argv: ['docker', 'rm', '-f', 'b'], result: { code: 1, stderr: 'Error response from daemon: removal of container b is already in progress\n' } })
      .expect({ argv: ['docker', 'rm', '-f', 'b'], result: { code: 1, stderr: 'Error response from daemon: container b: driver failed to remove root filesystem\n' } });
    expect(await new Docker(fake).removeContainers(['b'])).toEqual({ removed: [], failed: [{ id: 'b', message: 'Error response from daemon: container b: driver failed to remove root filesystem' }] });
  });

  it('runs the command with -i -t only when asked for a terminal', async () => {
    const fake = new FakeRunner()
      .expect({ argv: ['docker', 'exec', '-i', 'c', 'echo', 'hi'], result: (_argv, options) => ({ code: options?.stdio === 'inherit' ? 7 : 99 }) })
      .expect({ argv: ['docker', 'exec', '-i', '-t', 'c', 'sh'], result: { code: 0 } });
    const docker = new Docker(fake);
    expect(await docker.exec('c', ['echo', 'hi'], { tty: false })).toBe(7);
    expect(await docker.exec('c', ['sh'], { tty: true })).toBe(0);
  });

  it('streams no log for a container that is already gone', async () => {
    const fake = new FakeRunner().expect({ argv: ['docker', 'logs', '--timestamps', 'x'], result: { code: 1, stderr: 'Error: No such container: x\n' } });
    const lines: string[] = [];
    expect(await new Docker(fake).streamLogs('x', { onLine: (l) => lines.push(l) })).toEqual({ outcome: 'gone', lines: 0 });
    expect(lines).toEqual([]);
  });

  it('detects compose once per instance', async () => {
    const fake = new FakeRunner().expect({ argv: ['docker', 'compose', 'version'], result: { stdout: 'Docker Compose version v2.29.1' } });
    const docker = new Docker(fake);
    await docker.compose();
    await docker.compose();
    expect(fake.calls).toHaveLength(1);
  });
});

describe('attributeRemoval', () => {
  it('counts an already-gone object as removed and reports the others with their own line', () => {
    const report = attributeRemoval(['a', 'b', 'c'], {
      code: 1,
      stdout: 'a\n',
      stderr: 'Error: No such container: b\nError response from daemon: removal of container c is already in progress\n',
    });
    expect(report.removed).toEqual(['a', 'b']);
    expect(report.failed).toEqual([{ id: 'c', message: 'Error response from daemon: removal of container c is already in progress' }]);
  });
  it('fails every id when the engine is unreachable', () => {
    const report = attributeRemoval(['a', 'b'], { code: 1, stdout: '', stderr: NO_ENGINE });
    expect(report.removed).toEqual([]);
    expect(report.failed.map((f) => f.id)).toEqual(['a', 'b']);
  });
});

describe('attributeRemoval by whole names', () => {
  it('does not blame the agent for a line about its sidecar', () => {
    const report = attributeRemoval(['drydock-a-1a2b', 'drydock-a-1a2b-egress'], {
      code: 1,
      stdout: 'drydock-a-1a2b\n',
      stderr: 'Error response from daemon: could not kill drydock-a-1a2b-egress: permission denied\n',
    });
    expect(report.removed).toEqual(['drydock-a-1a2b']);
    expect(report.failed.map((f) => f.id)).toEqual(['drydock-a-1a2b-egress']);
  });
  it('finds a name at the end of a sentence', () => {
    const report = attributeRemoval(['drydock_internal_a-1a2b'], { code: 1, stdout: '', stderr: 'Error: No such network: drydock_internal_a-1a2b.\n' });
    expect(report.removed).toEqual(['drydock_internal_a-1a2b']);
  });
});
