/**
 * `run`'s first phase: every setting the session needs, Compose, and the shared prerequisites
 * (the sidecar image, the shared NAT bridge, the agent image); nothing of the session exists yet.
 *
 * Compose v1's `version` costs 0.5–0.8 s of Python start-up when it is not cached
 * (lib/docker/compose-cache.ts); each docker CLI call 30–100 ms.
 */
import { join } from 'node:path';
import type { CommandContext } from '../context.js';
import type { Docker } from '../docker/client.js';
import { fileComposeCache, type ComposeVersionCache } from '../docker/compose-cache.js';
import type { ComposeFlavour } from '../docker/compose.js';
import { COMPOSE_HINT } from '../docker/failure.js';
import { ensureEgressImage as ensureSidecarImage } from '../egress/image.js';
import { ExternalError, UsageError } from '../errors.js';
import { EGRESS_NETWORK, EGRESS_NETWORK_LABELS } from '../names.js';
import { templatesDir } from '../paths.js';
import { CONTAINED_SETTINGS, requireSettings, type Settings } from '../settings.js';
import { trustedPathsOf, untrustedPaths } from '../workspace/trusted-paths.js';
import { ensureAgentImage } from '../agent/image.js';
import type { PreparedAgent } from '../agent/session.js';

/** Where `run` remembers Compose v1's version: the state dir (one the agent cannot write), for this PATH. */
export function composeCacheOf(settings: Pick<Settings, 'dirs' | 'env'>): ComposeVersionCache {
  return fileComposeCache({ file: join(settings.dirs.state, 'compose-version.json'), pathVar: settings.env.PATH });
}

/**
 * The allowlists, the config dir and the state dir decide what the next session may reach: one the
 * agent can write through the project directory is refused before anything starts.
 */
function assertTrustedPaths(settings: Settings): void {
  const { dirs, allowlists } = settings;
  const found = untrustedPaths({
    projectDir: settings.cwd,
    paths: trustedPathsOf({ configDir: dirs.config, stateDir: dirs.state, baseline: allowlists.baseline, userAllowlists: [allowlists.global, allowlists.project] }),
  });
  if (found.length > 0) {
    throw new UsageError(found.map((f) => f.message).join('\n'), { hint: 'the agent must not be able to edit what jails it; nothing was started' });
  }
}

export async function prepareRun(settings: Settings, docker: Docker, ctx: CommandContext, agent: PreparedAgent): Promise<ComposeFlavour> {
  const contained = settings.mode === 'contain';
  requireSettings(settings, 'mode', ...(contained ? CONTAINED_SETTINGS : []), 'agentImage', 'egressLog', 'limits');
  assertTrustedPaths(settings);
  // Compose first (with its version remembered: one fast call), so nothing is built for a host
  // that cannot run a session; then the shared prerequisites, all at once (they are independent,
  // and each docker CLI call costs 30–100 ms of start-up): a missing image or an engine that cannot
  // make the bridge fails here, before anything of the session is created.
  const compose = await docker.compose();
  if (compose.kind === 'none') throw new ExternalError(`no Compose found: ${compose.reason}`, { hint: COMPOSE_HINT });
  const { egress: image, egressBuildBase: base } = settings.images;
  const settled = await Promise.allSettled([
    contained ? ensureSidecarImage({ docker, image, contextDir: join(templatesDir(), 'egress'), base, say: ctx.err }) : undefined,
    contained ? docker.ensureNetwork(EGRESS_NETWORK, EGRESS_NETWORK_LABELS) : undefined,
    ensureAgentImage(docker, settings.images.agentIsDefault, agent.build, ctx.err),
  ]);
  // Every one is waited for (no build is left running behind an error); the first failure is the error.
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return compose;
}
