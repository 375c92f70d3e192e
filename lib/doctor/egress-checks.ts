/**
 * Doctor's EGRESS section: what the jail would enforce, as pure functions of the loaded allowlists,
 * the environment and the live sessions. Broad or risky entries (lib/allowlist/risky-hosts.ts) are
 * warned about because a host where anyone can upload or resolve arbitrary names is a tunnel out.
 */
import { RISKY_HOSTS, patternOverlaps, type HostPattern, type RiskyHostKind } from '../allowlist/risky-hosts.js';
import type { LoadedAllowlists } from '../allowlist/sources.js';
import type { AllowRule } from '../allowlist/types.js';
import { fail, pass, warn, type Check } from './checks.js';
import { formatDiagnostic } from '../errors.js';
import type { SessionView } from '../session/model.js';

export interface RiskyEntry {
  entry: string;
  file: string;
  line: number;
  kind: RiskyHostKind;
  matches: string;
}

export function findRiskyEntries(loaded: Pick<LoadedAllowlists, 'entries'>): RiskyEntry[] {
  const found: RiskyEntry[] = [];
  for (const entry of loaded.entries) {
    const patterns = uniquePatterns(entry.rules);
    const hit = RISKY_HOSTS.find((risky) => patterns.some((p) => patternOverlaps(p, risky)));
    if (hit) found.push({ entry: entry.canonical, file: entry.source.file, line: entry.source.line, kind: hit.kind, matches: hit.pattern });
  }
  return found;
}

function uniquePatterns(rules: readonly AllowRule[]): HostPattern[] {
  const seen = new Map<string, HostPattern>();
  for (const r of rules) seen.set(`${r.wildcard}:${r.host}`, { host: r.host, wildcard: r.wildcard });
  return [...seen.values()];
}

export function riskyEntryCheck(risky: RiskyEntry): Check {
  const why =
    risky.kind === 'doh'
      ? 'is a DNS-over-HTTPS resolver: any name can be resolved through it, so data can leave in DNS queries'
      : 'is public storage / user content: anything can be uploaded there or fetched from there';
  return warn(
    'risky entry',
    `${risky.file}:${risky.line}: ${risky.entry} (${risky.matches}) ${why}`,
    'remove the line unless the agent truly needs that host: it is a way out of the jail',
  );
}

export interface EgressFacts {
  loaded: LoadedAllowlists;
  ruleCount?: number;
  egressImage: { image: string; pinned: boolean; isDefault: boolean };
  requirePinned: boolean;
  liveSessions: readonly SessionView[];
  /** `DRYDOCK_MODE` exactly as set (settings.modeVariable). */
  modeVariable?: string;
}

export function egressChecks(facts: EgressFacts): Check[] {
  const checks: Check[] = [];
  for (const source of facts.loaded.sources) {
    checks.push(pass(`${source.kind} allowlist`, `${source.path}: ${source.exists ? `${source.entries.length} entries` : 'not present'}`));
  }
  for (const d of facts.loaded.errors) {
    checks.push(fail('allowlist error', formatDiagnostic({ ...d, fix: undefined }), d.fix ?? 'fix or remove the line'));
  }
  for (const d of facts.loaded.warnings) {
    checks.push(warn('allowlist warning', formatDiagnostic({ ...d, fix: undefined }), d.fix ?? 'review the line'));
  }
  const rules = facts.ruleCount !== undefined ? ` (${facts.ruleCount} filter rules)` : '';
  checks.push(pass('effective entries', `${facts.loaded.entries.length}${rules}`));

  const { image, pinned, isDefault } = facts.egressImage;
  if (pinned) checks.push(pass('sidecar image', `${image} (pinned by digest)`));
  else if (facts.requirePinned) {
    checks.push(fail('sidecar image', `${image} is not pinned and DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE=1`, 'set DRYDOCK_EGRESS_IMAGE=name@sha256:<64 hex>'));
  } else if (isDefault) checks.push(pass('sidecar image', `${image} (built locally by drydock; not pinned)`));
  else checks.push(warn('sidecar image', `${image} is not pinned: whoever can re-tag it can swap what enforces the jail`, 'set DRYDOCK_EGRESS_IMAGE=name@sha256:<64 hex>, and DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE=1'));

  for (const risky of findRiskyEntries(facts.loaded)) checks.push(riskyEntryCheck(risky));

  const mode = facts.modeVariable;
  if (mode === 'observe') {
    checks.push(fail('DRYDOCK_MODE', 'DRYDOCK_MODE=observe: OBSERVE IS NOT A JAIL, and it is not a mode', 'unset it; observe is `drydock run --observe`, for building an allowlist only'));
  } else if (mode === 'dood') {
    checks.push(warn('DRYDOCK_MODE', 'DRYDOCK_MODE=dood: sessions get the host docker socket and network, with NO egress jail', 'unset DRYDOCK_MODE for contained sessions'));
  }
  for (const session of facts.liveSessions.filter((s) => s.live && s.observe)) {
    checks.push(
      warn('observe session', `!!! session ${session.id} runs in OBSERVE mode: it is NOT A JAIL, every destination is allowed !!!`, `drydock stop ${session.id} when you have what you need; then run contained`),
    );
  }
  return checks;
}
