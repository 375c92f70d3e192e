/**
 * From entries to the rules the filter really needs: identical rules merged, and rules that a
 * wildcard entry already covers (same protocol and port) dropped. Pure, and built for 100,000
 * entries: rules are bucketed by (protocol, port, kind) and last label, then plain-sorted.
 */
import type { AllowEntry, AllowRule, Protocol } from './types.js';

export interface DroppedRule {
  rule: AllowRule;
  /** The wildcard entry whose rule covers this one. */
  coveredBy: AllowEntry;
}

/** Hosts sharing one protocol, port and kind (exact or wildcard): one run of filter lines. */
export interface RuleGroup {
  protocol: Protocol;
  port: number;
  wildcard: boolean;
  /** Unique, ordered by last label and then by name (code-unit order, locale-independent). */
  hosts: string[];
}

export interface EffectiveRules {
  /** Ordered by protocol (connect first), port, exact before wildcard. */
  groups: RuleGroup[];
  ruleCount: number;
  /** Per entry, its rules that a wildcard entry covers (absent when none are). */
  dropped: Map<AllowEntry, DroppedRule[]>;
}

// Plain-HTTP groups first: their lines start with `http://`, so a CONNECT subject (`host:port`)
// fails them at once, while a URL scanned past many CONNECT lines paid for each (measured: the
// worst plain-HTTP match at 10,000 entries went from 0.42 to 0.02 ms). The allowed set is the
// same: the filter is an OR of its lines.
const PROTOCOL_ORDER: Record<Protocol, number> = { http: 0, connect: 1 };

/** A number that orders groups: protocol, then port, then exact before wildcard. */
const groupId = (protocol: Protocol, port: number, wildcard: boolean): number =>
  PROTOCOL_ORDER[protocol] * 200_000 + port * 2 + (wildcard ? 1 : 0);

/** The wildcard entry covering `rule` (one whose base is a proper parent of its host), if any. */
function findCover(rule: AllowRule, bases: Map<string, AllowEntry> | undefined): AllowEntry | undefined {
  if (!bases) return undefined;
  for (let dot = rule.host.indexOf('.'); dot !== -1; dot = rule.host.indexOf('.', dot + 1)) {
    const cover = bases.get(rule.host.slice(dot + 1));
    if (cover) return cover;
  }
  return undefined;
}

/** Hosts ordered by last label, then name, so a line can factor the last label out. */
function orderHosts(hosts: Set<string>): string[] {
  const byTld = new Map<string, string[]>();
  for (const host of hosts) {
    const tld = host.slice(host.lastIndexOf('.') + 1);
    const bucket = byTld.get(tld);
    if (bucket) bucket.push(host);
    else byTld.set(tld, [host]);
  }
  return [...byTld.keys()].sort().flatMap((tld) => byTld.get(tld)!.sort());
}

export function effectiveRules(entries: readonly AllowEntry[]): EffectiveRules {
  // Wildcard bases per group of exact rules they cover; the first entry naming one is credited.
  const wildcardBases = new Map<number, Map<string, AllowEntry>>();
  for (const entry of entries) {
    for (const rule of entry.rules) {
      if (!rule.wildcard) continue;
      const id = groupId(rule.protocol, rule.port, false);
      const bases = wildcardBases.get(id) ?? new Map<string, AllowEntry>();
      wildcardBases.set(id, bases);
      if (!bases.has(rule.host)) bases.set(rule.host, entry);
    }
  }
  const hostsById = new Map<number, { group: Omit<RuleGroup, 'hosts'>; hosts: Set<string> }>();
  const dropped = new Map<AllowEntry, DroppedRule[]>();
  for (const entry of entries) {
    for (const rule of entry.rules) {
      const coveredBy = findCover(rule, wildcardBases.get(groupId(rule.protocol, rule.port, false)));
      if (coveredBy) {
        dropped.set(entry, [...(dropped.get(entry) ?? []), { rule, coveredBy }]);
        continue;
      }
      const id = groupId(rule.protocol, rule.port, rule.wildcard);
      let slot = hostsById.get(id);
      if (!slot) hostsById.set(id, (slot = { group: { protocol: rule.protocol, port: rule.port, wildcard: rule.wildcard }, hosts: new Set() }));
      slot.hosts.add(rule.host);
    }
  }
  const groups = [...hostsById.keys()]
    .sort((a, b) => a - b)
    .map((id) => {
      const slot = hostsById.get(id)!;
      return { ...slot.group, hosts: orderHosts(slot.hosts) };
    });
  return { groups, ruleCount: groups.reduce((n, g) => n + g.hosts.length, 0), dropped };
}
