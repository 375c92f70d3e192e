/**
 * What a session's proxy refused, folded per destination, computed while its log streams past:
 * the typed summary `run --json`, `stop --json` and `egress log` report, and the human text
 * rendered from it (every host escaped: it came from the agent). Pure.
 */
import type { Protocol } from '../allowlist/types.js';
import { SELFTEST_CANARY_HOST } from '../names.js';
import { escapeControls } from '../terminal-text.js';
import { allowCommand } from './refusal-pages.js';
import { describeDestination, refusalAdvice, type Decision, type DecisionReason, type EgressEvent } from './decision.js';

export interface DenialSummary {
  host: string;
  port: number;
  protocol: Protocol;
  count: number;
  /** Why the first of them was refused. */
  reason: DecisionReason;
  /** The allowlist line that would allow it, or a `# cannot be allowed: …` comment saying why not. */
  suggestion: string;
}

/** The typed refusal report of one session's log. */
export interface RefusalReport {
  /** Refused destinations, most refused first. */
  destinations: DenialSummary[];
  /** Every refusal that named a host, the ones beyond the destination cap included. */
  refused: number;
  /** Refusals to destinations past MAX_DESTINATIONS distinct ones: counted, not listed. */
  unlisted: number;
  allowed: number;
  /** Allowed by the filter, but the name did not resolve or the upstream did not answer. */
  failed: number;
  /**
   * Refusals of the start-up self-test's canary (SELFTEST_CANARY_HOST): drydock's own proof that
   * the proxy refuses, once per start and per `doctor --session`, counted here and not as the
   * agent's refusals (the decisions file still has each one).
   */
  selfTest: number;
  /** Lines of the log read (and of them tinyproxy's). */
  lines: number;
  /** False when the log could not be read to its end (time limit, a vanished sidecar). */
  complete: boolean;
}

const HTTPS = 443;
/** Distinct destinations remembered: an agent inventing a new name per request cannot grow this. */
export const MAX_DESTINATIONS = 10_000;

const byCountThenName = (a: DenialSummary, b: DenialSummary): number =>
  b.count - a.count || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0) || a.port - b.port || a.protocol.localeCompare(b.protocol);

/** Counts refusals per host (case-insensitive) + port + protocol, one event at a time. */
export class RefusalTally {
  private readonly byKey = new Map<string, DenialSummary>();
  refused = 0;
  unlisted = 0;
  allowed = 0;
  failed = 0;
  selfTest = 0;

  constructor(private readonly maxDestinations = MAX_DESTINATIONS) {}

  /** `classify` gives a new destination's reason (the decision's); it is not called for one seen before. */
  add(event: EgressEvent, classify?: (event: EgressEvent) => DecisionReason): void {
    if (event.action === 'allowed') this.allowed += 1;
    if (event.action === 'failed') this.failed += 1;
    if (event.action !== 'denied' || event.host === '') return;
    const host = event.host.toLowerCase();
    if (host === SELFTEST_CANARY_HOST) {
      this.selfTest += 1;
      return;
    }
    this.refused += 1;
    const port = event.port ?? HTTPS;
    const protocol = event.protocol ?? 'connect';
    const key = `${protocol} ${host} ${port}`;
    const seen = this.byKey.get(key);
    if (seen) {
      seen.count += 1;
      return;
    }
    if (this.byKey.size >= this.maxDestinations) {
      this.unlisted += 1;
      return;
    }
    const reason = classify ? classify(event) : event.reason;
    const advice = refusalAdvice({ host, port, protocol, reason, truncated: event.truncated === true });
    const suggestion = advice.ok ? advice.entry : `# cannot be allowed: ${advice.reason}`;
    this.byKey.set(key, { host, port, protocol, count: 1, reason, suggestion });
  }

  destinations(): DenialSummary[] {
    return [...this.byKey.values()].sort(byCountThenName);
  }

  report(extra: { lines: number; complete: boolean }): RefusalReport {
    const { refused, unlisted, allowed, failed, selfTest } = this;
    return { destinations: this.destinations(), refused, unlisted, allowed, failed, selfTest, ...extra };
  }
}

/** Denials that name a host, folded per host (case-insensitive) + port + protocol. */
export function summarizeDenials(events: Iterable<EgressEvent>): DenialSummary[] {
  const tally = new RefusalTally(Infinity);
  for (const event of events) tally.add(event);
  return tally.destinations();
}

/** What to do about one refused destination: the line to add, or why none can allow it. */
export function denialAction(summary: Pick<DenialSummary, 'suggestion'>): string {
  return summary.suggestion.startsWith('#') ? summary.suggestion.replace(/^#\s*/, '') : `to allow, add: ${summary.suggestion}`;
}

/** The allowlist files named in the summary's "add a line to …" hint. */
export interface AllowlistFiles {
  /** The list that applies to every project, e.g. ~/.config/drydock/egress-allowlist. */
  global: string;
  /** The session's project list, e.g. ~/.config/drydock/egress-allowlist-myapp. */
  project?: string;
}

/** At most this many destinations are printed; the rest are counted in one line. */
export const MAX_PRINTED_DESTINATIONS = 200;

/** The human summary printed after a session and by `drydock egress log`; '' when nothing was refused. */
export function formatDenialSummary(summaries: readonly DenialSummary[], files?: AllowlistFiles, report?: Pick<RefusalReport, 'unlisted' | 'complete'>): string {
  if (summaries.length === 0) return '';
  const printed = summaries.slice(0, MAX_PRINTED_DESTINATIONS);
  const shown = printed.map((s) => ({ s, what: escapeControls(describeDestination(s)) }));
  const width = Math.min(60, Math.max(...shown.map((x) => x.what.length)));
  const n = summaries.length;
  // The address floor's refusals reach the agent as 500 "Unable to connect", the filter's as 403.
  const statuses = summaries.some((s) => s.reason === 'private_address') ? (summaries.every((s) => s.reason === 'private_address') ? '500' : '403; 500 for a private address') : '403';
  const lines = [`The egress proxy refused ${n}${report?.unlisted ? '+' : ''} destination${n === 1 ? '' : 's'} (${statuses}):`];
  for (const { s, what } of shown) {
    const count = `${s.count}×`.padStart(5);
    lines.push(`  ${what.padEnd(width)} ${count}  ${escapeControls(denialAction(s))}`);
  }
  const left = summaries.length - printed.length;
  if (left > 0) lines.push(`  … and ${left} more destinations (drydock egress log --json lists every refusal)`);
  if (report?.unlisted) lines.push(`  … and ${report.unlisted} more refusals to further destinations, counted but not listed`);
  if (report && !report.complete) lines.push('  (the log could not be read to its end: this covers the part that was read)');
  lines.push(
    files
      ? `Add a line to ${files.project ?? `${files.global}-<project>`} (this project) or ${files.global} (every project),`
      : 'Add a line to ~/.config/drydock/egress-allowlist (every project) or egress-allowlist-<project> (one project),',
    'then start a new session. `drydock allowlist check HOST[:PORT]` tells whether a host is allowed, and by which line.',
  );
  return `${lines.join('\n')}\n`;
}

/**
 * One refusal as `egress log --follow` prints it, from the typed decision (escaped: it came from the
 * agent): the `drydock allowlist add` command that allows it — the one the refusal page names —
 * or why nothing can.
 */
export function formatRefusal(d: Decision, project?: string): string {
  const what = d.wouldAllow
    ? `to allow it: ${allowCommandFor(d.wouldAllow.entry, project)}`
    : d.cannotAllow
      ? `cannot be allowed: ${d.cannotAllow}`
      : (d.detail ?? 'refused');
  return `refused ${escapeControls(describeDestination(d))}  ${escapeControls(what)}`;
}

const allowCommandFor = (entry: string, project: string | undefined): string =>
  project ? allowCommand(project, entry) : `drydock allowlist add ${entry}`;
