/**
 * The thin shell around the pure renderer: load and compile the allowlists, render, check the
 * invariants, validate against the Compose schema, then write every file in one atomic step. Any
 * failure before the write leaves the output directory as it was.
 */
import { rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadAllowlistsOrThrow } from '../allowlist/sources.js';
import { compileFilter } from '../allowlist/compile.js';
import { renderTinyproxyConf } from '../egress/tinyproxy-conf.js';
import { ExternalError, formatDiagnostic } from '../errors.js';
import { writeFilesAtomic } from '../fs-atomic.js';
import type { ComposeFile } from './compose-types.js';
import { agentImage, assertEgressImageAllowed, egressImage } from './images.js';
import { checkContainedInvariants, checkDoodInvariants } from './invariants.js';
import { mergeCompose } from './merge.js';
import type { Mode } from './mode.js';
import {
  DOCKER_SOCKET,
  FILE_NAMES,
  SIDECAR_FILTER_PATH,
  agentContainerName,
  composeProjectName,
  egressContainerName,
  internalNetworkName,
  EGRESS_NETWORK,
} from './names.js';
import { renderOverlay, type SessionSpec } from './overlay.js';
import { validateCompose } from './validate.js';
import { composeYaml } from './yaml.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface RenderRequest {
  env: Env;
  /** The project directory: bind-mounted at /workspace. */
  cwd: string;
  project: string;
  mode: Mode;
  observe: boolean;
  sessionId: string;
  outDir: string;
  /** dood: the gid of the host's docker.sock (default: stat'ed; injectable for tests). */
  dockerSocketGid?: () => number | undefined;
}

export interface RenderedSession {
  sessionId: string;
  project: string;
  mode: Mode;
  observe: boolean;
  outDir: string;
  files: { base: string; overlay: string; filter?: string; tinyproxyConf?: string };
  composeFiles: string[];
  composeProject: string;
  agentContainer: string;
  egressContainer?: string;
  internalNetwork?: string;
  egressNetwork?: string;
  agentImage: string;
  egressImage?: string;
  egressImagePinned?: boolean;
  allowlist?: {
    sources: Array<{ path: string; kind: string; exists: boolean; entries: number }>;
    effectiveEntries: number;
  };
  /** Allowlist warnings, one `FILE:LINE: …` line each, for the caller to print on stderr. */
  warnings: string[];
}

function socketGid(): number | undefined {
  try {
    return statSync(DOCKER_SOCKET).gid;
  } catch {
    return undefined;
  }
}

function assertInvariants(merged: ComposeFile, mode: Mode): void {
  const violations = mode === 'contain' ? checkContainedInvariants(merged) : checkDoodInvariants(merged);
  if (violations.length > 0) {
    throw new ExternalError(`the rendered ${mode} session breaks its invariants: ${violations.map((v) => v.message).join('; ')}`, {
      hint: 'this is a drydock bug: nothing was written; please report it',
    });
  }
}

/** A directory rendered before in the other mode must not keep that mode's files next to this one's. */
function removeStaleFiles(outDir: string, mode: Mode): void {
  const stale = mode === 'contain' ? [FILE_NAMES.dood] : [FILE_NAMES.contain, FILE_NAMES.filter, FILE_NAMES.tinyproxyConf];
  for (const name of stale) rmSync(join(outDir, name), { force: true });
}

export function renderSessionFiles(req: RenderRequest): RenderedSession {
  const outDir = resolve(req.outDir);
  const contained = req.mode === 'contain';
  if (contained) assertEgressImageAllowed(req.env);
  const agent = agentImage(req.env);
  const egress = contained ? egressImage(req.env) : undefined;

  const spec: SessionSpec = {
    sessionId: req.sessionId,
    project: req.project,
    projectDir: resolve(req.cwd),
    mode: req.mode,
    observe: req.observe,
    agentImage: agent,
    egressImage: egress?.image ?? '',
    userEnv: { ...req.env },
  };
  if (!contained) {
    const gid = (req.dockerSocketGid ?? socketGid)();
    if (gid !== undefined) spec.dockerSocketGid = gid;
  }
  const { base, overlay, overlayFileName } = renderOverlay(spec);
  assertInvariants(mergeCompose(base, overlay), req.mode);
  validateCompose(base, FILE_NAMES.base);
  validateCompose(overlay, overlayFileName);

  const files: RenderedSession['files'] = { base: join(outDir, FILE_NAMES.base), overlay: join(outDir, overlayFileName) };
  const writes = [
    { path: files.base, content: composeYaml(base) },
    { path: files.overlay, content: composeYaml(overlay) },
  ];
  const rendered: RenderedSession = {
    sessionId: req.sessionId,
    project: req.project,
    mode: req.mode,
    observe: req.observe,
    outDir,
    files,
    composeFiles: [files.base, files.overlay],
    composeProject: composeProjectName(req.sessionId),
    agentContainer: agentContainerName(req.sessionId),
    agentImage: agent,
    warnings: [],
  };

  if (contained && egress) {
    const loaded = loadAllowlistsOrThrow({ env: req.env, project: req.project });
    const compiled = compileFilter(loaded.entries);
    files.filter = join(outDir, FILE_NAMES.filter);
    files.tinyproxyConf = join(outDir, FILE_NAMES.tinyproxyConf);
    writes.push(
      { path: files.filter, content: compiled.filter },
      { path: files.tinyproxyConf, content: renderTinyproxyConf({ compiled, filterPath: SIDECAR_FILTER_PATH, observe: req.observe }) },
    );
    Object.assign(rendered, {
      egressContainer: egressContainerName(req.sessionId),
      internalNetwork: internalNetworkName(req.sessionId),
      egressNetwork: EGRESS_NETWORK,
      egressImage: egress.image,
      egressImagePinned: egress.pinned,
      allowlist: {
        sources: loaded.sources.map((s) => ({ path: s.path, kind: s.kind, exists: s.exists, entries: s.entries.length })),
        effectiveEntries: loaded.entries.length,
      },
      warnings: loaded.warnings.map((d) => formatDiagnostic(d)),
    });
  }

  writeFilesAtomic(writes);
  removeStaleFiles(outDir, req.mode);
  return rendered;
}
