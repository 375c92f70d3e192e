/** What `run` tells the user on stderr: pure text builders, tested without a terminal. */
import type { RenderedSession } from '../render/session-files.js';
import { limitsBannerLines } from '../limits/settings.js';

export const NOT_A_JAIL =
  '!!! OBSERVE MODE — THIS IS NOT A JAIL: the sidecar lets EVERY destination through and only logs it. !!!';
export const DOOD_WARNING = 'dood mode: the agent has the host docker socket and host network — there is NO egress jail';

export function sessionBanner(rendered: RenderedSession, options: { compose: string }): string[] {
  const lines = [`drydock: session ${rendered.sessionId} · mode ${rendered.mode} · ${options.compose}`];
  if (rendered.mode === 'dood') {
    lines.push(`drydock: ${DOOD_WARNING}`);
  } else {
    const allowlist = rendered.allowlist;
    if (allowlist) {
      for (const source of allowlist.sources) {
        lines.push(`drydock: allowlist ${source.kind}: ${source.path} — ${source.exists ? `${source.entries} entries` : 'not present'}`);
      }
      lines.push(`drydock: effective entries: ${allowlist.effectiveEntries}`);
    }
    lines.push(`drydock: sidecar image ${rendered.egressImage} (pinned: ${rendered.egressImagePinned ? 'yes' : 'no'})`);
  }
  lines.push(...limitsBannerLines(rendered.limits, rendered.mode === 'contain'));
  if (rendered.observe) lines.push(`drydock: ${NOT_A_JAIL}`);
  return lines;
}

/**
 * The meaningful part of a failed `compose up`: the lines that say what went wrong, not the
 * "Creating …" progress that precedes them (v1 writes both to stderr).
 */
export function composeErrorLines(output: string): string[] {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const errors = lines.filter((l) => /error|unhealthy|failed|denied|not found|no such|invalid/i.test(l));
  return (errors.length ? errors : lines.slice(-3)).slice(-5);
}

export function sidecarNeverHealthy(output: string): boolean {
  return /unhealthy|dependency failed to start/i.test(output);
}

/** The last `count` lines of a log, indented for display under an error. */
export function lastLines(text: string | undefined, count = 10): string[] {
  if (!text) return [];
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-count);
}

export interface RunTiming {
  toAgentMs: number;
  createToHealthyMs?: number;
  createToStartMs?: number;
  approximate?: boolean;
  /** The jail self-test, from inside the agent's namespace: what it added after Compose returned (part of toAgentMs). */
  selfTestMs?: number;
  /** Its namespace half's own time, when it ran beside Compose (not part of selfTestMs). */
  selfTestEarlyMs?: number;
}

export function timingLines(timing: RunTiming): string[] {
  const lines = [`drydock: timing: run start → agent command start: ${Math.round(timing.toAgentMs)} ms`];
  if (timing.createToHealthyMs !== undefined) {
    const split =
      timing.createToStartMs !== undefined
        ? ` (create → start ${Math.round(timing.createToStartMs)} ms, start → first passing check ${Math.round(timing.createToHealthyMs - timing.createToStartMs)} ms)`
        : '';
    const bound = timing.approximate ? ' (upper bound: docker keeps the last 5 checks only)' : '';
    lines.push(`drydock: timing: sidecar create → healthy: ${Math.round(timing.createToHealthyMs)} ms${split}${bound}`);
  }
  if (timing.selfTestMs !== undefined) lines.push(`drydock: timing: jail self-test: ${Math.round(timing.selfTestMs)} ms`);
  if (timing.selfTestEarlyMs !== undefined) lines.push(`drydock: timing: jail self-test's namespace half, beside compose: ${Math.round(timing.selfTestEarlyMs)} ms`);
  return lines;
}
