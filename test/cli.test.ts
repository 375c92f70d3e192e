/**
 * The BUILT CLI, as a user runs it: bin/drydock.js → dist/main.js (which answers `allowlist check`
 * itself) → dist/cli.js. Built once before the tests.
 * No engine is involved: DOCKER_HOST points at a socket path that does not exist.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/temp-dir.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'drydock.js');
const home = tempDir('cli');
const env = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: home,
  DRYDOCK_CONFIG_DIR: join(home, 'config'),
  DRYDOCK_STATE_DIR: join(home, 'state'),
  DOCKER_HOST: `unix://${join(home, 'no-such-dir', 'docker.sock')}`,
  DOCKER_CONFIG: join(home, 'docker-config'),
  // As a non-root user would: no "drydock runs as root" warning on stderr when the tests run as root.
  DRYDOCK_AGENT_USER: '1000:1000',
};

function drydock(args: string[], cwd = home) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd, env, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'pipe' });
}, 120_000);

describe('built CLI', () => {
  it('--help lists every command', () => {
    const { code, stdout } = drydock(['--help']);
    expect(code).toBe(0);
    for (const command of ['run', 'stop', 'gc', 'doctor', 'render', 'build', 'state', 'allowlist', 'egress']) {
      expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });

  it('an unknown flag is a usage error (exit 2)', () => {
    expect(drydock(['run', '--no-such-flag']).code).toBe(2);
    expect(drydock(['--no-such-flag']).code).toBe(2);
  });

  it('stop without a target is a usage error (exit 2)', () => {
    const { code, stderr } = drydock(['stop']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/exactly one of SESSION, --project NAME or --all/);
  });

  it('doctor --json without an engine: exit 1 and one valid JSON document', () => {
    const { code, stdout } = drydock(['doctor', '--json']);
    expect(code).toBe(1);
    const doc = (JSON.parse(stdout) as { data: { ok: boolean; sections: Array<{ name: string; checks: Array<{ status: string; name: string }> }> } }).data;
    expect(doc.ok).toBe(false);
    const engine = doc.sections.find((s) => s.name === 'ENGINE');
    expect(engine?.checks.some((c) => c.status === 'fail')).toBe(true);
    expect(doc.sections.map((s) => s.name)).toContain('EGRESS');
  }, 60_000);

  it('render --out writes the session files', () => {
    const out = join(home, 'rendered');
    const { code, stderr } = drydock(['render', '--project', 'demo', '--out', out]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['docker-compose.contain.yml', 'docker-compose.yml', 'egress', 'live.json', 'resolv.conf', 'ssh_config']);
    expect(existsSync(join(out, 'docker-compose.dood.yml'))).toBe(false);
  });

  it('render --target kubernetes writes the manifests; an unknown --target is a usage error', () => {
    const out = join(home, 'rendered-k8s');
    const { code, stderr } = drydock(['render', '--target', 'kubernetes', '--project', 'demo', '--out', out, '--proxy-ip', '10.96.0.42']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['kubernetes-agent.yaml', 'kubernetes-probe.yaml', 'kubernetes-proxy.yaml']);
    expect(drydock(['render', '--target', 'nomad', '--out', out]).code).toBe(2);
  });

  it('compose commands never load the kubernetes modules (start-up stays as fast as before)', () => {
    // A loader hook records every module file the built CLI loads.
    const hooks = tempDir('hooks');
    writeFileSync(join(hooks, 'hooks.mjs'), "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { appendFileSync(process.env.DRYDOCK_LOAD_LOG, url + '\\n'); return next(url, context); }\n");
    writeFileSync(join(hooks, 'register.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");
    const loaded = (args: string[], name: string) => {
      const log = join(hooks, `${name}.log`);
      const r = spawnSync(process.execPath, ['--import', join(hooks, 'register.mjs'), bin, ...args], { cwd: home, env: { ...env, DRYDOCK_LOAD_LOG: log }, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(log, 'utf8').split('\n').filter((u) => u.startsWith('file:') && u.includes('/dist/')).map((u) => readFileSync(fileURLToPath(u), 'utf8'));
    };
    const kubernetesCode = (files: string[]) => files.some((text) => text.includes('pod-security.kubernetes.io/enforce'));
    const compose = loaded(['render', '--project', 'demo', '--out', join(home, 'lazy-compose')], 'compose');
    expect(compose.some((text) => text.includes('not a valid compose file')), 'the hook saw the compose render load').toBe(true);
    expect(kubernetesCode(compose)).toBe(false);
    expect(kubernetesCode(loaded(['render', '--target', 'kubernetes', '--project', 'demo', '--out', join(home, 'lazy-k8s')], 'k8s'))).toBe(true);
  });

  it('the allowlist check fast path answers exactly as the full CLI does', () => {
    const full = (args: string[]) => {
      const r = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), ...args], { cwd: home, env, encoding: 'utf8', timeout: 60_000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const cases = [
      ['allowlist', 'check', 'api.anthropic.com'],
      ['allowlist', 'check', 'github.com'],
      ['allowlist', 'check', 'github.com:22', '--project', 'demo'],
      ['allowlist', 'check', '--http', 'api.anthropic.com', '--json'],
      ['allowlist', 'check', '127.0.0.1'],
      ['allowlist', 'check', 'a', 'b'],
      ['allowlist', 'check', '--bogus', 'x'],
    ];
    for (const args of cases) expect(drydock(args), args.join(' ')).toEqual(full(args));
  });
});
