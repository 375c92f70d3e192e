/**
 * The self-test's namespace half, started before the agent exists. The agent's network namespace
 * is its holder's (lib/render/netns-holder.ts), which is up before the sidecar is healthy; so once
 * the sidecar is healthy (the canary needs the proxy), the probe can run while Compose is still
 * creating and starting the agent, and after Compose returns only the agent's own inspect is left
 * (runSelfTest with `early`: the agent's proxy variables, and that it joined that namespace).
 *
 * Best effort by design: if the health event is missed, Compose fails, or the engine errs, there is
 * no early half and the whole self-test runs after Compose, as it always could. It never decides
 * anything alone: the same checks decide, on the same evidence, in runSelfTest.
 */
import type { Docker } from '../docker/client.js';
import type { RunResult } from '../docker/runner.js';
import { DrydockError } from '../errors.js';
import type { RenderedSession } from '../render/session-files.js';
import { probeNamespace, selfTestSessionOf, type NamespaceProbe, type SelfTestSession } from './session.js';

export interface EarlyNamespaceProbe {
  /** Compose has returned: stop waiting for the health event; a probe already started is awaited. */
  settle(): Promise<NamespaceProbe | undefined>;
}

export function startEarlyNamespaceProbe(docker: Docker, s: SelfTestSession): EarlyNamespaceProbe {
  const watch = new AbortController();
  const result = docker
    .waitForHealthy(s.egressContainer, { signal: watch.signal })
    .then((healthy) => (healthy ? probeNamespace(docker, s) : undefined))
    .catch((error: unknown) => {
      if (error instanceof DrydockError) return undefined; // the engine: the whole self-test runs later
      throw error; // a bug: surfaced by settle()
    });
  return {
    settle: () => {
      watch.abort();
      return result;
    },
  };
}

/**
 * `compose up` of a rendered session; in contained mode with the namespace half of the self-test
 * beside it. `composedAt` is when Compose returned (the self-test's cost is counted from there).
 */
export async function composeUpProving(docker: Docker, rendered: RenderedSession, o: { cwd: string; signal: AbortSignal; now: () => number }): Promise<{ up: RunResult; composedAt: number; namespaceProbe?: NamespaceProbe }> {
  const early = rendered.mode === 'contain' ? startEarlyNamespaceProbe(docker, selfTestSessionOf(rendered)) : undefined;
  let up: RunResult;
  let composedAt: number;
  let namespaceProbe: NamespaceProbe | undefined;
  try {
    up = await docker.composeUp({ project: rendered.composeProject, files: rendered.composeFiles, cwd: o.cwd, signal: o.signal });
  } finally {
    composedAt = o.now();
    namespaceProbe = await early?.settle();
  }
  return { up, composedAt, namespaceProbe };
}
