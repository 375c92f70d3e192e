/**
 * Which generated host does tinyproxy reach LAST when it scans the filter? That host's requests
 * pay for every rule before it, so it is the one the proxy benchmark times. Found by evaluating
 * the compiled lines as JavaScript regexes with the `i` flag (the compiler keeps to the ERE subset
 * that means the same in both), never by assuming how the compiler orders its output.
 */
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
  const rules = filterRules(filterText).map((line) => new RegExp(line, 'i'));
  // CONNECT is timed on 443 (every entry but the `:8443` ones allows it); plain HTTP on 80.
  const subjects = entries
    .filter((e) => (kind === 'http' ? e.kind === 'http' : e.kind !== 'port'))
    .map((e) => ({ entry: e, port: kind === 'http' ? 80 : 443 }));
  for (let r = rules.length - 1; r >= 0; r -= 1) {
    const rule = rules[r] as RegExp;
    for (const { entry, port } of subjects) {
      const subject = filterSubject(kind, entry.sampleHost, port);
      if (!rule.test(subject)) continue;
      // It matches rule r; it is reached last only if no earlier rule matches it.
      if (rules.slice(0, r).some((earlier) => earlier.test(subject))) continue;
      return { host: entry.sampleHost, port, ruleIndex: r + 1, ruleCount: rules.length };
    }
  }
  return undefined;
}
