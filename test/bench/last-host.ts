/**
 * Which generated host does tinyproxy reach LAST when it scans the filter? That host's requests
 * pay for every rule before it, so it is the one the proxy benchmark times. Found by evaluating
 * the compiled lines as JavaScript regexes with the `i` flag (the compiler keeps to the ERE subset
 * that means the same in both), never by assuming how the compiler orders its output.
 */
import { ereToJs } from '../allowlist/filter-eval.js';
import type { GeneratedEntry } from './gen-allowlist.js';

export type RequestKind = 'connect' | 'http';

/** What tinyproxy (FilterURLs Yes) matches the filter against for a request to host:port. */
export function filterSubject(kind: RequestKind, host: string, port: number): string {
  if (kind === 'connect') return `${host}:${port}`;
  return port === 80 ? `http://${host}/bench` : `http://${host}:${port}/bench`;
}

export function filterRules(filterText: string): string[] {
  return filterText.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
}

export interface LastHost {
  host: string;
  port: number;
  /** 1-based index of the first rule that matches it, and how many rules there are. */
  ruleIndex: number;
  ruleCount: number;
}

export function findLastCompiledHost(filterText: string, entries: readonly GeneratedEntry[], kind: RequestKind): LastHost | undefined {
  const sources = filterRules(filterText);
  const rules = sources.map(ereToJs);
  // CONNECT is timed on 443 (every entry but the `:8443` ones allows it); plain HTTP on 80.
  const port = kind === 'http' ? 80 : 443;
  const eligible = entries.filter((e) => (kind === 'http' ? e.kind === 'http' : e.kind !== 'port'));
  const found = (entry: GeneratedEntry, r: number): LastHost | undefined => {
    const subject = filterSubject(kind, entry.sampleHost, port);
    if (!(rules[r] as RegExp).test(subject)) return undefined;
    // It matches rule r; tinyproxy reaches it last only if no earlier rule matches it.
    for (let earlier = 0; earlier < r; earlier += 1) if ((rules[earlier] as RegExp).test(subject)) return undefined;
    return { host: entry.sampleHost, port, ruleIndex: r + 1, ruleCount: rules.length };
  };
  // Fast path: a rule names its hosts' labels literally, so look up only the entries whose unique
  // label occurs in it (100,000 entries × thousands of rules would take seconds otherwise).
  const byToken = new Map(eligible.map((e) => [e.token, e]));
  for (let r = rules.length - 1; r >= 0; r -= 1) {
    for (const word of (sources[r] as string).match(/[a-z0-9_-]+/gi) ?? []) {
      const entry = byToken.get(word.toLowerCase());
      const hit = entry && found(entry, r);
      if (hit) return hit;
    }
  }
  // Slow path, for a compiler that would split labels: every entry against every rule.
  for (let r = rules.length - 1; r >= 0; r -= 1) {
    for (const entry of eligible) {
      const hit = found(entry, r);
      if (hit) return hit;
    }
  }
  return undefined;
}
