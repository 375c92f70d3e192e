/**
 * Render a contained session exactly as `drydock run` would (renderSessionFiles, the shipped
 * baseline plus a per-project user list) into a temp dir, and hand back the proxy's two files.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderSessionFiles } from '../../../lib/render/session-files.js';
import { resolveSettings } from '../../../lib/settings.js';
import { tempDir } from '../../helpers/temp-dir.js';

export interface RenderedProxyFiles {
  confText: string;
  filterText: string;
  /** The session dir the files were rendered into (removed by `cleanup`). */
  dir: string;
  cleanup(): void;
}

export function renderProxyFiles(options: { allowlist: string; observe?: boolean; project?: string }): RenderedProxyFiles {
  const project = options.project ?? 'attack';
  const dir = tempDir('render');
  const configDir = join(dir, 'config');
  const projectDir = join(dir, project);
  const outDir = join(dir, 'session');
  mkdirSync(configDir);
  mkdirSync(projectDir);
  writeFileSync(join(configDir, `egress-allowlist-${project}`), options.allowlist);
  const env = { HOME: dir, DRYDOCK_CONFIG_DIR: configDir, DRYDOCK_STATE_DIR: join(dir, 'state'), PATH: process.env.PATH };
  const rendered = renderSessionFiles({
    settings: resolveSettings({ env, cwd: projectDir, project, mode: 'contain' }),
    observe: options.observe ?? false,
    sessionId: `${project}-0a0a`,
    outDir,
  });
  if (!rendered.files.tinyproxyConf || !rendered.files.filter) throw new Error('contained render wrote no proxy files');
  return {
    confText: readFileSync(rendered.files.tinyproxyConf, 'utf8'),
    filterText: readFileSync(rendered.files.filter, 'utf8'),
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
