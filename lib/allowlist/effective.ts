/**
 * From entries to the rules the filter really needs: identical rules merged, and rules that a
 * wildcard entry already covers (same protocol and port) dropped. Pure.
 */
import type { AllowEntry, AllowRule } from './types.js';

export interface DroppedRule {
  rule: AllowRule;
  /** The wildcard entry whose rule covers this one. */
  coveredBy: AllowEntry;
}

export interface EffectiveRules {
  /** Unique rules not covered by a wildcard, in a stable order (protocol, port, kind, host). */
  rules: AllowRule[];
  /** Per entry, its rules that a wildcard entry covers (absent when none are). */
  dropped: Map<AllowEntry, DroppedRule[]>;
}

export const ruleKey = (r: AllowRule): string => `${r.protocol} ${r.port} ${r.wildcard ? '*.' : ''}${r.host}`;

/** `a.b.c` → `b.c`, `c`: every proper parent of a name, nearest first. */
function parents(host: string): string[] {
  const out: string[] = [];
  for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) out.push(host.slice(dot + 1));
  return out;
}

/** The wildcard entry covering `rule` (any subdomain of its base), if there is one. */
function findCover(rule: AllowRule, wildcards: Map<string, AllowEntry>): AllowEntry | undefined {
  for (const parent of parents(rule.host)) {
    const cover = wildcards.get(`${rule.protocol} ${rule.port} ${parent}`);
    if (cover) return cover;
  }
  return undefined;
}

const PROTOCOL_ORDER = { connect: 0, http: 1 } as const;

/** Reversed labels, so hosts of one domain (and one TLD) sort next to each other. */
export const reversedName = (host: string): string => host.split('.').reverse().join('.');

/** Sorts by protocol, port, exact before wildcard, then reversed name (computed once per rule). */
export function sortRules(rules: Iterable<AllowRule>): AllowRule[] {
  const keyed = [...rules].map((rule) => ({ rule, name: reversedName(rule.host) }));
  keyed.sort(
    (a, b) =>
      PROTOCOL_ORDER[a.rule.protocol] - PROTOCOL_ORDER[b.rule.protocol] ||
      a.rule.port - b.rule.port ||
      Number(a.rule.wildcard) - Number(b.rule.wildcard) ||
      compareStrings(a.name, b.name),
  );
  return keyed.map((k) => k.rule);
}

/** Code-unit order, independent of locale, so the output is byte-identical everywhere. */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function effectiveRules(entries: readonly AllowEntry[]): EffectiveRules {
  const wildcards = new Map<string, AllowEntry>();
  for (const entry of entries) {
    for (const rule of entry.rules) {
      const key = `${rule.protocol} ${rule.port} ${rule.host}`;
      if (rule.wildcard && !wildcards.has(key)) wildcards.set(key, entry);
    }
  }
  const unique = new Map<string, AllowRule>();
  const dropped = new Map<AllowEntry, DroppedRule[]>();
  for (const entry of entries) {
    for (const rule of entry.rules) {
      const coveredBy = findCover(rule, wildcards);
      if (coveredBy) {
        dropped.set(entry, [...(dropped.get(entry) ?? []), { rule, coveredBy }]);
        continue;
      }
      const key = ruleKey(rule);
      if (!unique.has(key)) unique.set(key, rule);
    }
  }
  return { rules: sortRules(unique.values()), dropped };
}
