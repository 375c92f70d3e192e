/**
 * `run`'s first phase: every setting the session needs, Compose, and the shared prerequisites
 * (the sidecar image, the shared NAT bridge, the agent image); nothing of the session exists yet.
 *
 * The engine is asked the independent questions at once: each docker CLI call costs 30–100 ms of
 * start-up, and Compose v1's `version` 0.5–0.8 s when it is not cached (lib/docker/compose-cache.ts).
 */
import { join } from 'node:path';
import type { CommandContext } from '../context.js';
import type { Docker } from '../docker/client.js';
import { fileComposeCache, type ComposeVersionCache } from '../docker/compose-cache.js';
import type { ComposeFlavour } from '../docker/compose.js';
import { COMPOSE_HINT } from '../docker/failure.js';
import { ExternalError, UsageError } from '../errors.js';
import { EGRESS_NETWORK, EGRESS_NETWORK_LABELS } from '../names.js';
import { templatesDir } from '../paths.js';
import { DEFAULT_EGRESS_IMAGE } from '../render/images.js';
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

/** The sidecar image must exist before compose up; drydock builds only its own default image. */
async function buildEgressImage(docker: Docker, settings: Settings, ctx: CommandContext): Promise<void> {
  const { egress: image, egressBuildBase: base } = settings.images;
  if (image !== DEFAULT_EGRESS_IMAGE) {
    throw new ExternalError(`the egress sidecar image "${image}" (DRYDOCK_EGRESS_IMAGE) is not on the engine`, {
      hint: `pull or load it first (docker pull ${image}), or unset DRYDOCK_EGRESS_IMAGE to let drydock build ${DEFAULT_EGRESS_IMAGE}`,
    });
  }
  const contextDir = join(templatesDir(), 'egress');
  ctx.err(`drydock: building the egress sidecar image ${image} from ${contextDir}${base ? ` (BASE=${base})` : ''}…`);
  await docker.buildImage({ tag: image, contextDir, buildArgs: base ? { BASE: base } : {} });
}

export async function prepareRun(settings: Settings, docker: Docker, ctx: CommandContext, agent: PreparedAgent): Promise<ComposeFlavour> {
  const contained = settings.mode === 'contain';
  requireSettings(settings, 'mode', ...(contained ? CONTAINED_SETTINGS : []), 'agentImage', 'egressLog', 'limits');
  assertTrustedPaths(settings);
  // Read-only questions first, together; nothing is built or created before Compose is known.
  const [compose, egressPresent] = await Promise.all([docker.compose(), contained ? docker.imageExists(settings.images.egress) : Promise.resolve(true)]);
  if (compose.kind === 'none') throw new ExternalError(`no Compose found: ${compose.reason}`, { hint: COMPOSE_HINT });
  // Shared prerequisites next: a missing image or an engine that cannot make the bridge fails
  // here, before any session directory or session object exists.
  if (!egressPresent) await buildEgressImage(docker, settings, ctx);
  await Promise.all([
    contained ? docker.ensureNetwork(EGRESS_NETWORK, EGRESS_NETWORK_LABELS) : undefined,
    ensureAgentImage(docker, settings.images.agentIsDefault, agent.build, ctx.err),
  ]);
  return compose;
}
