/**
 * One decision of the egress proxy, as data: what the agent asked for, what the sidecar did, why,
 * and which allowlist entry allowed it (or which entry would). The log parser produces the reason
 * codes; `decide` adds what only the allowlist knows; every human line about a decision is
 * rendered from this type (lib/egress/refusals.ts, `egress log --follow`), and `--json` prints it
 * as it is. Pure.
 */
import { isIP } from 'node:net';
import { endsInNumber } from '../allowlist/host.js';
import { comparableHost, describeRequest, findAllowingEntry } from '../allowlist/match.js';
import type { AllowEntry, EgressRequest, Protocol } from '../allowlist/types.js';
import { suggestionFor } from './suggest.js';
import { PRIVATE_PREFIX } from '../allowlist/parse.js';

/** `failed`: the filter let it through, but no connection was made. */
export type DecisionAction = 'allowed' | 'denied' | 'failed';

export const DECISION_REASONS = {
  allowlisted: 'allowed by the allowlist',
  observe: 'observe mode: nothing is filtered',
  no_outcome: 'request logged, no outcome (the session ended, or the proxy logged none)',
  not_allowlisted: 'not in the allowlist',
  port_not_allowed: 'the port (or plain HTTP) is not allowed for this host',
  ip_literal: 'an IP address: the allowlist names hosts only',
  private_address: 'the name resolved to a private or local address',
  resolve_failed: 'allowed, but the name did not resolve',
  upstream_failed: 'allowed, but the upstream could not be reached',
} as const;
export type DecisionReason = keyof typeof DECISION_REASONS;

/** What the parser knows, before the allowlist is consulted. */
export interface EgressEvent {
  /** ISO 8601 from docker's timestamp when the line had one, else tinyproxy's own stamp. */
  time?: string;
  action: DecisionAction;
  reason: DecisionReason;
  /** The proxy's own words when they add something (e.g. the resolver's error). */
  detail?: string;
  method?: string;
  host: string;
  port?: number;
  protocol?: Protocol;
  raw: string;
  /** The host may be incomplete: its log line was cut at tinyproxy's 800-byte limit. */
  truncated?: boolean;
}

export interface EntryRef {
  entry: string;
  file: string;
  line: number;
}

/** The JSON form: every key always present (null when it does not apply), so consumers need no guards. */
export interface Decision {
  time: string | null;
  session: string;
  action: DecisionAction;
  reason: DecisionReason;
  method: string | null;
  protocol: Protocol | null;
  host: string;
  port: number | null;
  /** The entry that allowed it (file:line), when an entry did. */
  allowedBy: EntryRef | null;
  /** For a refusal: the line that would allow it, and the file to add it to. */
  wouldAllow: { entry: string; file: string } | null;
  /** For a refusal no line can allow (an IP literal, a cut-off name): why. */
  cannotAllow: string | null;
  /** Listed, but not for this port or scheme: the entry that names the host. */
  hostListedBy: EntryRef | null;
  detail: string | null;
  truncated: boolean;
}

export interface DecisionContext {
  session: string;
  /** The effective allowlist entries (for allowedBy, hostListedBy and port_not_allowed). */
  entries: readonly AllowEntry[];
  /** Where a suggested line goes: the session's project list. */
  projectList: string;
  observe: boolean;
}

/** Any spelling a client reads as an address: `1.2.3.4`, `::1`, `127.1`, `0x7f000001`. */
export function isIpLiteral(host: string): boolean {
  return isIP(host) !== 0 || endsInNumber(host);
}

/** The request a destination stands for, when the log named enough of it. */
export function requestOf(event: Pick<EgressEvent, 'host' | 'port' | 'protocol'>): EgressRequest | undefined {
  if (event.host === '' || event.port === undefined || event.protocol === undefined) return undefined;
  return { host: event.host, port: event.port, protocol: event.protocol };
}

const ref = (entry: AllowEntry): EntryRef => ({ entry: entry.canonical, file: entry.source.file, line: entry.source.line });

function listing(entries: readonly AllowEntry[], host: string): AllowEntry | undefined {
  const name = comparableHost(host);
  return entries.find((e) => e.rules.some((r) => (r.wildcard ? name.endsWith(`.${r.host}`) : name === r.host)));
}

/** The parser's event, completed by what the allowlist knows. */
export function decide(event: EgressEvent, ctx: DecisionContext): Decision {
  const req = requestOf(event);
  const decision: Decision = {
    time: event.time ?? null,
    session: ctx.session,
    action: event.action,
    reason: event.reason,
    method: event.method ?? null,
    protocol: event.protocol ?? null,
    host: event.host,
    port: event.port ?? null,
    allowedBy: null,
    wouldAllow: null,
    cannotAllow: null,
    hostListedBy: null,
    detail: event.detail ?? null,
    truncated: event.truncated === true,
  };
  if (event.action !== 'denied') {
    const entry = req && !ctx.observe ? findAllowingEntry(ctx.entries, req) : undefined;
    if (entry) decision.allowedBy = ref(entry);
    if (ctx.observe && event.action === 'allowed' && event.reason === 'allowlisted') decision.reason = 'observe';
    return decision;
  }
  if (event.reason === 'not_allowlisted' && isIpLiteral(event.host)) decision.reason = 'ip_literal';
  // A filter refusal of something the allowlist allows: the files changed since the session began.
  const allowsNow = req && !ctx.observe && event.reason !== 'private_address' ? findAllowingEntry(ctx.entries, req) : undefined;
  if (allowsNow) {
    decision.hostListedBy = ref(allowsNow);
    decision.detail = `the allowlist allows it now (${allowsNow.source.file}:${allowsNow.source.line}); the session's filter was older`;
    return decision;
  }
  const listed = event.reason !== 'ip_literal' && event.host !== '' ? listing(ctx.entries, event.host) : undefined;
  if (listed) {
    decision.hostListedBy = ref(listed);
    if (decision.reason === 'not_allowlisted') decision.reason = 'port_not_allowed';
  }
  const advice = refusalAdvice(decision);
  if (advice.ok) decision.wouldAllow = { entry: advice.entry, file: ctx.projectList };
  else decision.cannotAllow = advice.reason;
  return decision;
}

/** What to do about a refusal: the line to add, or why no line can allow it. */
export function refusalAdvice(d: Pick<Decision, 'host' | 'port' | 'protocol' | 'reason' | 'truncated'>): { ok: true; entry: string } | { ok: false; reason: string } {
  if (d.reason === 'private_address') {
    return {
      ok: false,
      reason: `\`${d.host}\` resolved to a private or local address, which the address floor refuses (a \`${PRIVATE_PREFIX}${d.host}\` entry would admit RFC 1918 and ULA answers only: add it only for a service you know is private)`,
    };
  }
  if (d.port === null || d.protocol === null || d.host === '') return { ok: false, reason: 'the log does not say which host and port were asked for' };
  const suggestion = suggestionFor({ host: d.host, port: d.port, protocol: d.protocol }, { truncated: d.truncated });
  return suggestion.ok ? { ok: true, entry: suggestion.line } : { ok: false, reason: suggestion.reason };
}

/** How a decision's destination reads in messages (`github.com:22`, `http://x.test:80`). */
export function describeDestination(d: Pick<Decision, 'host' | 'port' | 'protocol'>): string {
  if (d.port === null || d.protocol === null) return d.host || '(unknown host)';
  return describeRequest({ host: d.host, port: d.port, protocol: d.protocol });
}
