/**
 * What a live change does to the address floor's opt-ins. The sidecar's resolver reads its
 * `private:` domains once, at start (dnsmasq has no reload for them), so a live change cannot
 * move them. Pure.
 *   - An added `private:` entry: the filter takes it at once; its name may resolve to a private
 *     address only from the next session on (until then the floor keeps refusing: closed).
 *   - A removed `private:` entry whose domain some remaining entry still lets the filter reach:
 *     the running resolver would keep letting that name resolve privately, which the user just
 *     removed. The session cannot take that change and is stopped closed (lib/live/apply.ts).
 *     When nothing still reaches the domain, the filter alone refuses the name: nothing is kept.
 */
import { parseEntry } from '../allowlist/parse.js';
import { privateDomains } from '../allowlist/private.js';
import type { AllowEntry, AllowRule } from '../allowlist/types.js';

export interface PrivateChange {
  /** Domains newly opted in: in effect from the next session. */
  deferred: string[];
  /** Domains opted out that a remaining rule still reaches: the session must close. */
  kept: string[];
}

function entriesOf(canonicals: readonly string[]): AllowEntry[] {
  return canonicals.flatMap((text) => {
    const { entry } = parseEntry(text);
    return entry ? [{ ...entry, source: { file: 'live.json', line: 0 } }] : [];
  });
}

/** Whether `rule` lets the filter through to `domain` or any name under it. */
export function reachesDomain(rule: AllowRule, domain: string): boolean {
  const under = (name: string, parent: string) => name === parent || name.endsWith(`.${parent}`);
  if (under(rule.host, domain)) return true; // the rule's host (or, wildcard, names under it) is inside the domain
  return rule.wildcard && domain.endsWith(`.${rule.host}`); // `*.corp` reaches `reg.corp`
}

export function privateChange(before: readonly string[], after: readonly AllowEntry[]): PrivateChange {
  const was = new Set(privateDomains(entriesOf(before)));
  const now = new Set(privateDomains(after));
  const deferred = [...now].filter((d) => !was.has(d));
  const rules = after.flatMap((e) => e.rules);
  const kept = [...was].filter((d) => !now.has(d) && rules.some((r) => reachesDomain(r, d)));
  return { deferred, kept };
}
