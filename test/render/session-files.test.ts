/**
 * The render shell end to end, in temp dirs: file snapshots per mode (normalised: the temp
 * project dir becomes <PROJECT_DIR>, the session id is fixed), what it returns, and that a
 * failure leaves nothing written.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../lib/errors.js';
import { renderSessionFiles, type RenderRequest } from '../../lib/render/session-files.js';
import { resolveSettings } from '../../lib/settings.js';
import { TEST_HOST } from './spec.js';
import { tempDir } from '../helpers/temp-dir.js';

let root: string;
let projectDir: string;
let env: Record<string, string>;

beforeEach(() => {
  root = tempDir('render');
  projectDir = join(root, 'demo');
  mkdirSync(projectDir);
  mkdirSync(join(root, 'config'));
  writeFileSync(join(root, 'baseline.conf'), '# test baseline\napi.anthropic.com\n');
  writeFileSync(join(root, 'config', 'egress-allowlist'), '*.npmjs.org\nhttp://deb.debian.org\n');
  writeFileSync(join(root, 'config', 'egress-allowlist-demo'), 'github.com:22\n');
  env = { DRYDOCK_CONFIG_DIR: join(root, 'config'), DRYDOCK_STATE_DIR: join(root, 'state'), DRYDOCK_BASELINE: join(root, 'baseline.conf') };
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

/** What a test varies: the settings' inputs (env, cwd, project, mode) and the request's own fields. */
type RequestOverrides = Partial<Omit<RenderRequest, 'settings'>> & { env?: Record<string, string>; cwd?: string; project?: string; mode?: 'contain' | 'dood' };

function request(overrides: RequestOverrides = {}): RenderRequest {
  const { env: e = env, cwd = projectDir, project = 'demo', mode = 'contain', ...rest } = overrides;
  return {
    settings: resolveSettings({ env: e, cwd, project, mode, host: TEST_HOST }),
    observe: false,
    sessionId: 'demo-1a2b',
    outDir: join(root, 'out'),
    dockerSocketGid: () => 999,
    generation: '0123456789ab',
    agent: { hostIds: { uid: 1000, gid: 1000 } },
    ...rest,
  };
}

const outFiles = () => (existsSync(join(root, 'out')) ? (readdirSync(join(root, 'out'), { recursive: true }) as string[]).sort() : []);
const normalise = (text: string) => text.split(projectDir).join('<PROJECT_DIR>').split(root).join('<ROOT>').replace(/^server=\S+$/gm, 'server=<HOST_RESOLVER>');
// (The resolver's upstreams are this machine's: the host's resolv.conf, as Docker would use them.)

describe('renderSessionFiles: snapshots', () => {
  it.each([
    ['contain', 'contain', false],
    ['contain-observe', 'contain', true],
    ['dood', 'dood', false],
  ] as const)('%s', async (name, mode, observe) => {
    const rendered = renderSessionFiles(request({ mode, observe }));
    const written = outFiles().filter((file) => !statSync(join(root, 'out', file)).isDirectory());
    for (const file of written) {
      await expect(normalise(readFileSync(join(root, 'out', file), 'utf8'))).toMatchFileSnapshot(`__snapshots__/${name}/${file}`);
    }
    expect(Object.values(rendered.files).every((p) => written.includes(p.slice(join(root, 'out').length + 1)))).toBe(true);
  });
});

describe('renderSessionFiles', () => {
  it('describes the contained session it wrote', () => {
    const r = renderSessionFiles(request());
    expect(r).toMatchObject({
      sessionId: 'demo-1a2b',
      mode: 'contain',
      composeProject: 'drydock-demo-1a2b',
      agentContainer: 'drydock-demo-1a2b',
      egressContainer: 'drydock-demo-1a2b-egress',
      internalNetwork: 'drydock_internal_demo-1a2b',
      egressNetwork: 'drydock_egress',
      agentImage: 'drydock-agent:latest',
      egressImage: 'drydock-egress:latest',
      egressImagePinned: false,
      warnings: [],
    });
    expect(r.composeFiles).toEqual([join(root, 'out', 'docker-compose.yml'), join(root, 'out', 'docker-compose.contain.yml')]);
    expect(r.allowlist).toEqual({
      sources: [
        { path: join(root, 'baseline.conf'), kind: 'baseline', exists: true, entries: 1 },
        { path: join(root, 'config', 'egress-allowlist'), kind: 'user', exists: true, entries: 2 },
        { path: join(root, 'config', 'egress-allowlist-demo'), kind: 'project', exists: true, entries: 1 },
      ],
      effectiveEntries: 4,
    });
  });

  it('describes a dood session without any egress part, and does not read the allowlists', () => {
    writeFileSync(join(root, 'config', 'egress-allowlist'), '!api.anthropic.com\n');
    const r = renderSessionFiles(request({ mode: 'dood' }));
    expect(r.egressContainer).toBeUndefined();
    expect(r.internalNetwork).toBeUndefined();
    expect(r.allowlist).toBeUndefined();
    expect(r.files).toEqual({ base: join(root, 'out', 'docker-compose.yml'), overlay: join(root, 'out', 'docker-compose.dood.yml') });
  });

  it('returns allowlist warnings for the caller to print', () => {
    writeFileSync(join(root, 'config', 'egress-allowlist-demo'), '^api\\.example\\.test$\n');
    const r = renderSessionFiles(request());
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/egress-allowlist-demo:1: converted legacy regex/);
  });

  it('writes nothing when an allowlist is invalid', () => {
    writeFileSync(join(root, 'config', 'egress-allowlist'), 'ok.example.test\n!api.anthropic.com\n');
    expect(() => renderSessionFiles(request())).toThrow(UsageError);
    expect(outFiles()).toEqual([]);
  });

  it('writes nothing when the baseline is missing', () => {
    rmSync(join(root, 'baseline.conf'));
    const error = (() => {
      try {
        renderSessionFiles(request());
      } catch (e) {
        return e as UsageError;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect(error!.diagnostics[0]!.message).toMatch(/baseline is missing/);
    expect(outFiles()).toEqual([]);
  });

  it('writes nothing when a pinned egress image is required and not given', () => {
    expect(() => renderSessionFiles(request({ env: { ...env, DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE: '1' } }))).toThrow(/not pinned/);
    expect(outFiles()).toEqual([]);
  });

  it('writes nothing for --observe in dood mode', () => {
    expect(() => renderSessionFiles(request({ mode: 'dood', observe: true }))).toThrow(UsageError);
    expect(outFiles()).toEqual([]);
  });

  it('leaves exactly one mode overlay when re-rendered into the same directory', () => {
    renderSessionFiles(request());
    renderSessionFiles(request({ mode: 'dood' }));
    expect(outFiles()).toEqual(['docker-compose.dood.yml', 'docker-compose.yml']);
    renderSessionFiles(request());
    expect(outFiles()).toEqual(['docker-compose.contain.yml', 'docker-compose.yml', 'egress', 'egress/egress-filter', 'egress/refused-403.html', 'egress/refused-500.html', 'egress/resolver.conf', 'egress/tinyproxy.conf', 'live.json', 'resolv.conf', 'ssh_config']);
  });

  it('leaves the sidecar\'s mounts readable by its uid under a restrictive umask', () => {
    const previous = process.umask(0o077);
    try {
      const r = renderSessionFiles(request());
      expect(statSync(r.files.filter!).mode & 0o777).toBe(0o644);
      expect(statSync(r.files.tinyproxyConf!).mode & 0o777).toBe(0o644);
    } finally {
      process.umask(previous);
    }
  });

  it('mounts the project directory, escaped for compose', () => {
    const odd = join(root, 'my $project');
    mkdirSync(odd);
    const r = renderSessionFiles(request({ cwd: odd }));
    expect(readFileSync(r.files.base, 'utf8')).toContain(`source: ${join(root, 'my $$project')}`);
  });
});
