/**
 * Which names may resolve to a private address: those at or under the host of a `private:`
 * entry. Pure. This is the resolver's own rule (dnsmasq's `rebind-domain-ok=/domain/` exempts the
 * domain and every name under it), stated once here so `allowlist check` reports what the
 * sidecar will really do; the filter still decides which names are looked up at all.
 */
import type { AllowEntry } from './types.js';

/** The domains the resolver exempts from the private-address refusal, sorted, each once. */
export function privateDomains(entries: readonly AllowEntry[]): string[] {
  return [...new Set(entries.filter((e) => e.private).flatMap((e) => e.rules.map((r) => r.host)))].sort();
}

/** The `private:` entry that lets `host` resolve to a private address, if any. */
export function privateEntryFor(entries: readonly AllowEntry[], host: string): AllowEntry | undefined {
  const name = host.toLowerCase().replace(/\.$/, '');
  return entries.find((e) => e.private && e.rules.some((r) => name === r.host || name.endsWith(`.${r.host}`)));
}
