/**
 * drydock's own sidecar image, built from templates/egress/ and labelled with a digest of those
 * templates. An image built by another drydock version (say, one without the address floor's
 * resolver) would start a sidecar whose scripts do not match what this drydock renders: it fails
 * closed, but as a sidecar that "never became healthy". So a default image whose label differs is
 * rebuilt, saying why. A user's own image (DRYDOCK_EGRESS_IMAGE) is never built or inspected for it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Docker } from '../docker/client.js';
import { ExternalError } from '../errors.js';
import { DEFAULT_EGRESS_IMAGE } from '../render/images.js';

export const EGRESS_TEMPLATE_LABEL = 'drydock.egress-template';
/** The Dockerfile's build argument that becomes the label. */
export const EGRESS_TEMPLATE_ARG = 'DRYDOCK_EGRESS_TEMPLATE';

/** A digest of every file of the build context: names and contents, in name order. */
export function egressTemplateDigest(contextDir: string): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(contextDir).sort()) {
    hash.update(`${name}\0`);
    hash.update(readFileSync(join(contextDir, name)));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

export interface EgressImageRequest {
  docker: Docker;
  image: string;
  contextDir: string;
  /** DRYDOCK_EGRESS_BASE_IMAGE: the FROM of drydock's own build. */
  base?: string;
  say: (line: string) => void;
}

/** Makes sure the sidecar image is there (and, for drydock's own, current); what was done. */
export async function ensureEgressImage(req: EgressImageRequest): Promise<'present' | 'built' | 'rebuilt'> {
  const { docker, image, contextDir, base } = req;
  if (image !== DEFAULT_EGRESS_IMAGE) {
    if (await docker.imageExists(image)) return 'present';
    throw new ExternalError(`the egress sidecar image "${image}" (DRYDOCK_EGRESS_IMAGE) is not on the engine`, {
      hint: `pull or load it first (docker pull ${image}), or unset DRYDOCK_EGRESS_IMAGE to let drydock build ${DEFAULT_EGRESS_IMAGE}`,
    });
  }
  const digest = egressTemplateDigest(contextDir);
  const built = await docker.imageLabel(image, EGRESS_TEMPLATE_LABEL);
  if (built === digest) return 'present';
  const from = base ? ` (BASE=${base})` : '';
  req.say(built === undefined
    ? `drydock: building the egress sidecar image ${image} from ${contextDir}${from}…`
    : `drydock: the egress sidecar image ${image} was built from other templates (another drydock version): rebuilding it from ${contextDir}${from}…`);
  await docker.buildImage({ tag: image, contextDir, buildArgs: { ...(base ? { BASE: base } : {}), [EGRESS_TEMPLATE_ARG]: digest } });
  return built === undefined ? 'built' : 'rebuilt';
}
