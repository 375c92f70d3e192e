import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { render } from '../../lib/commands/render.js';
import type { CommandContext } from '../../lib/context.js';
import { DrydockError, ExitCode } from '../../lib/errors.js';
import { packageRoot } from '../../lib/paths.js';
import { tempDir } from '../helpers/temp-dir.js';

let root: string;
const NO_GIT = { gitIdentity: async () => ({}), hostIds: { uid: 1000, gid: 1000 } };
let env: Record<string, string>;
let out: string[];
let err: string[];

function context(json = false, extraEnv: Record<string, string> = {}): CommandContext {
  return { env: { ...env, ...extraEnv }, cwd: join(root, 'My Project'), out: (t) => void out.push(t), err: (t) => void err.push(t), json };
}

async function exitCodeOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof DrydockError) return error.exitCode;
    throw error;
  }
}

const written = (dir = join(root, 'out')) => (existsSync(dir) ? readdirSync(dir).sort() : []);

beforeEach(() => {
  root = tempDir('render-cmd');
  mkdirSync(join(root, 'My Project'));
  mkdirSync(join(root, 'config'));
  writeFileSync(join(root, 'baseline.conf'), 'api.anthropic.com\n');
  env = { DRYDOCK_CONFIG_DIR: join(root, 'config'), DRYDOCK_BASELINE: join(root, 'baseline.conf') };
  out = [];
  err = [];
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('drydock render', () => {
  it('renders a contained session into --out (relative to the working directory) and says where', async () => {
    const result = await render({ out: '../out', session: 'my-project-00ff' }, context(), NO_GIT);
    expect(result.exitCode).toBe(ExitCode.Ok);
    expect(written()).toEqual(['docker-compose.contain.yml', 'docker-compose.yml', 'egress', 'live.json', 'resolv.conf', 'ssh_config']);
    expect(out.join('\n')).toContain(`rendered session my-project-00ff (contain) into ${join(root, 'out')}`);
    expect(out.join('\n')).toContain('docker compose -p drydock-my-project-00ff');
  });

  it('derives the project from the directory and generates a session id', async () => {
    const result = await render({ out: join(root, 'out') }, context(true), NO_GIT);
    const data = result.data as { sessionId: string; mode: string; outDir: string; files: Record<string, string> };
    expect(data.sessionId).toMatch(/^my-project-[0-9a-f]{4}$/);
    expect(data.mode).toBe('contain');
    expect(data.outDir).toBe(join(root, 'out'));
    expect(Object.keys(data.files).sort()).toEqual(['base', 'filter', 'overlay', 'resolvConf', 'resolverConf', 'sshConfig', 'tinyproxyConf']);
    expect(out).toEqual([]);
  });

  it('renders dood from DRYDOCK_MODE', async () => {
    const result = await render({ out: join(root, 'out'), project: 'x', session: 'x-1234' }, context(true, { DRYDOCK_MODE: 'dood' }), NO_GIT);
    expect((result.data as { mode: string }).mode).toBe('dood');
    expect(written()).toEqual(['docker-compose.dood.yml', 'docker-compose.yml']);
  });

  it('prints allowlist warnings on stderr', async () => {
    writeFileSync(join(root, 'config', 'egress-allowlist'), '^old\\.example\\.test$\n');
    await render({ out: join(root, 'out') }, context(), NO_GIT);
    expect(err.join('\n')).toMatch(/egress-allowlist:1: converted legacy regex/);
  });

  it.each([
    ['an unknown mode', { mode: 'jail' }, {}],
    ['both modes', { mode: 'contain,dood' }, {}],
    ['an invalid session id', { session: 'Bad Id' }, {}],
    ['an unpinned egress image when pinning is required', {}, { DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE: '1' }],
    ['--observe in dood mode', { mode: 'dood', observe: true }, {}],
  ])('exits 2 and writes nothing for %s', async (_name, opts, extraEnv) => {
    expect(await exitCodeOf(render({ out: join(root, 'out'), ...opts }, context(false, extraEnv)))).toBe(ExitCode.Usage);
    expect(written()).toEqual([]);
  });

  it('exits 2 through the real CLI, nothing written', () => {
    const tsx = pathToFileURL(join(packageRoot(), 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
    const result = spawnSync(process.execPath, ['--import', tsx, join(packageRoot(), 'lib', 'cli.ts'), 'render', '--mode', 'both', '--out', join(root, 'out')], {
      encoding: 'utf8',
      cwd: join(root, 'My Project'),
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    expect(result.stderr).toMatch(/more than one mode/);
    expect(result.status).toBe(ExitCode.Usage);
    expect(written()).toEqual([]);
  });
});
