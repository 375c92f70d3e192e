/**
 * From destinations the proxy saw to allowlist lines. Pure. Every line comes from the allowlist
 * module's own `suggestLine` and is re-parsed by its own `parseAllowlist`, so a suggestion is
 * exactly what `drydock allowlist check` would then call allowed — and something the language
 * cannot express (an IP literal, a cut-off name) becomes a comment saying why instead of a line.
 */
import { createRequire } from 'node:module';
import { findAllowingEntry, suggestLine } from '../allowlist/match.js';
import { canonicalEntry, parseAllowlist } from '../allowlist/parse.js';
import { riskyHost } from '../allowlist/risky-hosts.js';
import type { AllowEntry, EgressRequest } from '../allowlist/types.js';

export type Suggestion = { ok: true; line: string; text: string } | { ok: false; reason: string; text: string };

export function suggestionFor(dest: EgressRequest, opts: { truncated?: boolean } = {}): Suggestion {
  const refuse = (reason: string): Suggestion => ({ ok: false, reason, text: `# cannot be allowed: ${reason}` });
  if (opts.truncated) return refuse(`the host name was cut off in the proxy's log (lines stop at 800 bytes): \`${dest.host.slice(0, 40)}…\``);
  if (/[\s\0-\x1f\x7f]/.test(dest.host) || dest.host === '') return refuse(`\`${JSON.stringify(dest.host).slice(1, -1)}\` is not a host name`);
  const line = suggestLine(dest);
  const parsed = parseAllowlist(line, 'suggestion');
  const problem = parsed.errors[0];
  if (problem) return refuse(`${problem.message}${problem.fix ? ` — ${problem.fix}` : ''}`);
  if (!findAllowingEntry(parsed.entries, dest)) return refuse(`\`${dest.host}\` is not a host name the proxy can match`);
  return { ok: true, line, text: line };
}

/** Why a host is broad (a row of lib/allowlist/risky-hosts.ts), or undefined when it is an ordinary single-purpose host. */
export function broadHostWarning(host: string): string | undefined {
  const name = host.toLowerCase();
  const risky = riskyHost(name);
  if (risky?.kind === 'storage') {
    return `${name} serves content anyone can upload: allowing it lets the agent fetch from (and send to) arbitrary parties`;
  }
  if (risky?.kind === 'doh') {
    return `${name} is a DNS-over-HTTPS resolver: the agent could resolve any name through it and tunnel data in DNS queries`;
  }
  return undefined;
}

type Tldts = typeof import('tldts');
let tldts: Tldts | undefined;
/** The registrable domain (eTLD+1, private PSL section included: `x.github.io` stays itself). */
function registrableDomain(host: string): string | undefined {
  tldts ??= createRequire(import.meta.url)('tldts') as Tldts;
  return tldts.getDomain(host, { allowPrivateDomains: true }) ?? undefined;
}

/** A destination as the log showed it; `truncated` when its log line was cut at 800 bytes. */
export interface ObservedDestination extends EgressRequest {
  truncated?: boolean;
}

export interface SuggestedLine {
  line: string;
  /** What it was suggested for (several when --collapse folded siblings into a wildcard). */
  destinations: EgressRequest[];
  warning?: string;
}

export interface AllowlistSuggestion {
  lines: SuggestedLine[];
  /** Destinations the existing allowlists already allow, with the entry that does. */
  alreadyAllowed: Array<{ destination: EgressRequest; entry: string }>;
  /** Destinations no line can allow, with the reason. */
  unallowable: Array<{ destination: EgressRequest; reason: string }>;
}

const codeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const reversed = (host: string): string => host.split('.').reverse().join('.');
/** Domains together (reversed labels), then port; code-unit order so the output is the same everywhere. */
const byName = (a: EgressRequest, b: EgressRequest): number =>
  codeUnits(reversed(a.host), reversed(b.host)) || a.port - b.port || codeUnits(a.protocol, b.protocol);

/**
 * One line per distinct destination; with `collapse`, two or more subdomains of one registrable
 * domain (same protocol and port) become `*.domain` — never for broad hosts, never over a public
 * suffix (the allowlist parser refuses those, and such a line is then not folded).
 */
export function suggestAllowlist(
  destinations: readonly ObservedDestination[],
  opts: { collapse?: boolean; existing?: readonly AllowEntry[] } = {},
): AllowlistSuggestion {
  const result: AllowlistSuggestion = { lines: [], alreadyAllowed: [], unallowable: [] };
  const unique = new Map<string, EgressRequest>();
  for (const d of destinations) {
    if (d.truncated) {
      result.unallowable.push({ destination: { host: d.host, port: d.port, protocol: d.protocol }, reason: suggestionFor(d, { truncated: true }).text.replace(/^# cannot be allowed: /, '') });
      continue;
    }
    unique.set(`${d.protocol} ${d.host.toLowerCase()} ${d.port}`, { host: d.host.toLowerCase(), port: d.port, protocol: d.protocol });
  }
  // Plain HTTP first: `http://host` also allows CONNECT host:443, so that CONNECT needs no line of its own.
  const ordered = [...unique.values()].sort((a, b) => (a.protocol === b.protocol ? byName(a, b) : a.protocol === 'http' ? -1 : 1));

  const wanted: Array<{ destination: EgressRequest; line: string }> = [];
  for (const destination of ordered) {
    const existing = opts.existing ? findAllowingEntry(opts.existing, destination) : undefined;
    if (existing) {
      result.alreadyAllowed.push({ destination, entry: existing.canonical });
      continue;
    }
    const suggestion = suggestionFor(destination);
    if (!suggestion.ok) result.unallowable.push({ destination, reason: suggestion.reason });
    else wanted.push({ destination, line: suggestion.line });
  }

  const folded = opts.collapse ? collapse(wanted.map((w) => w.destination)) : [];
  const foldedAway = new Set(folded.flatMap((f) => f.destinations));
  const lines: SuggestedLine[] = [...folded];
  for (const w of wanted) {
    if (foldedAway.has(w.destination)) continue;
    const covered = lines.find((l) => findAllowingEntry(parseAllowlist(l.line, 'suggestion').entries, w.destination));
    if (covered) covered.destinations.push(w.destination);
    else lines.push({ line: w.line, destinations: [w.destination], ...withWarning(w.destination.host) });
  }
  result.lines = lines.sort((a, b) => byName(a.destinations[0]!, b.destinations[0]!));
  return result;
}

const withWarning = (host: string): { warning?: string } => {
  const warning = broadHostWarning(host);
  return warning ? { warning } : {};
};

function collapse(destinations: readonly EgressRequest[]): SuggestedLine[] {
  const broad = destinations.filter((d) => broadHostWarning(d.host));
  const groups = new Map<string, { domain: string; members: EgressRequest[] }>();
  for (const d of destinations) {
    if (broadHostWarning(d.host)) continue;
    const domain = registrableDomain(d.host);
    if (!domain || domain === d.host) continue; // the apex keeps its own exact line
    const key = `${d.protocol} ${d.port} ${domain}`;
    const group = groups.get(key) ?? { domain, members: [] };
    group.members.push(d);
    groups.set(key, group);
  }
  const lines: SuggestedLine[] = [];
  for (const { domain, members } of groups.values()) {
    if (new Set(members.map((m) => m.host)).size < 2) continue;
    const first = members[0]!;
    const line = canonicalEntry({ host: domain, wildcard: true, port: first.port, http: first.protocol === 'http' });
    const parsed = parseAllowlist(line, 'suggestion');
    if (parsed.errors.length > 0 || !members.every((m) => findAllowingEntry(parsed.entries, m))) continue;
    // A wildcard must not quietly swallow a broad host seen in the same session (it keeps its warning line).
    if (broad.some((b) => findAllowingEntry(parsed.entries, b))) continue;
    lines.push({ line, destinations: [...members] });
  }
  return lines;
}

/** The suggestion as a file the user can save: comments explain, lines allow. */
export function formatSuggestion(s: AllowlistSuggestion, header: readonly string[] = []): string {
  const out = header.map((h) => `# ${h}`);
  if (s.alreadyAllowed.length > 0) {
    out.push(`# already allowed, left out: ${s.alreadyAllowed.map((a) => `${a.destination.host}:${a.destination.port} (${a.entry})`).join(', ')}`);
  }
  for (const line of s.lines) {
    if (line.warning) out.push(`# WARNING: ${line.warning}`);
    if (line.line.includes('*.')) out.push(`# ${line.line} folds: ${line.destinations.map((d) => d.host).join(', ')}`);
    out.push(line.line);
  }
  for (const u of s.unallowable) {
    const host = u.destination.host.length > 60 ? `${u.destination.host.slice(0, 60)}…` : u.destination.host;
    out.push(`# cannot be allowed: ${JSON.stringify(host).slice(1, -1)}:${u.destination.port} — ${u.reason}`);
  }
  return `${out.join('\n')}\n`;
}
