import { describe, expect, it } from 'vitest';
import { build } from '../../lib/commands/build.js';
import { FakeRunner } from '../helpers/fake-runner.js';

function ctx(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { ctx: { env, cwd: '/', out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), json: false }, out, err };
}

describe('drydock build', () => {
  it('rebuilds the default agent image with the user\'s ids and the pinned CLI versions', async () => {
    const fake = new FakeRunner().expect({ argv: (a) => a[1] === 'build', result: { stdout: 'ok\n' } });
    const c = ctx({ DRYDOCK_AGENT_BASE_IMAGE: 'corp/debian:12' });
    const result = await build({ claudeCodeVersion: '2.1.197', codexVersion: '0.50.0', cache: false }, c.ctx, { runner: fake, hostIds: { uid: 1234, gid: 99 } });
    expect(result.exitCode).toBe(0);
    const argv = fake.calls[0]!;
    expect(argv.slice(0, 5)).toEqual(['docker', 'build', '-t', 'drydock-agent:latest', '--no-cache']);
    for (const arg of ['AGENT_UID=1234', 'AGENT_GID=99', 'CLAUDE_CODE_VERSION=2.1.197', 'CODEX_VERSION=0.50.0', 'BASE=corp/debian:12']) expect(argv).toContain(arg);
    expect(argv.at(-1)).toMatch(/templates\/agent$/);
    expect(c.out).toEqual(['built drydock-agent:latest']);
  });

  it('refuses a version that is not an npm version or tag, before building', async () => {
    const fake = new FakeRunner();
    await expect(build({ claudeCodeVersion: '1.0; rm -rf /' }, ctx().ctx, { runner: fake, hostIds: { uid: 1, gid: 1 } })).rejects.toThrow(/is not an npm version or tag/);
    expect(fake.calls).toEqual([]);
  });
});
