/**
 * The meaning of the allowlist, stated directly: the reference the compiled regexes must agree
 * with (the property tests check that they do), and what `allowlist check` answers with. Pure.
 */
import { parseLocation, canonicalEntry } from './parse.js';
import { HTTP_PORT, HTTPS_PORT, type AllowEntry, type AllowRule, type EgressRequest } from './types.js';

/** Subdomain labels as the filter's `([-a-z0-9_]+\.)+` accepts them. */
const SUBDOMAIN_LABEL = /^[-a-z0-9_]+$/;

/**
 * The request's host as the filter compares it: ASCII case-insensitive (tinyproxy's REG_ICASE in
 * the C locale folds ASCII only; `toLowerCase` would also turn the Kelvin sign into `k`), one
 * trailing dot ignored.
 */
export function comparableHost(host: string): string {
  const lower = host.replace(/[A-Z]+/g, (s) => s.toLowerCase());
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

export function ruleAllows(rule: AllowRule, req: EgressRequest): boolean {
  if (rule.protocol !== req.protocol || rule.port !== req.port) return false;
  const host = comparableHost(req.host);
  if (!rule.wildcard) return host === rule.host;
  if (!host.endsWith(`.${rule.host}`)) return false;
  const prefix = host.slice(0, host.length - rule.host.length - 1);
  return prefix.split('.').every((label) => SUBDOMAIN_LABEL.test(label));
}

export function findAllowingEntry(entries: readonly AllowEntry[], req: EgressRequest): AllowEntry | undefined {
  return entries.find((entry) => entry.rules.some((rule) => ruleAllows(rule, req)));
}

/** The allowlist line that would allow exactly this request. */
export function suggestLine(req: EgressRequest): string {
  return canonicalEntry({ host: comparableHost(req.host), wildcard: false, port: req.port, http: req.protocol === 'http' });
}

/** How a request reads in messages: `github.com:22`, `http://deb.debian.org:80`. */
export function describeRequest(req: EgressRequest): string {
  return req.protocol === 'http' ? `http://${req.host}:${req.port}` : `${req.host}:${req.port}`;
}

/**
 * `allowlist check`'s argument: HOST[:PORT], or `http://HOST[:PORT]` / `https://…`. Same host
 * rules as entries (IP literals, single labels and patterns are refused).
 */
export function parseTarget(
  text: string,
  opts: { http?: boolean } = {},
): { ok: true; req: EgressRequest } | { ok: false; message: string; fix: string } {
  const loc = parseLocation(text.trim(), { allowWildcard: false });
  if (!loc.ok) return loc;
  if (loc.scheme === 'https' && opts.http) {
    return { ok: false, message: `\`${text}\` says https:// but --http was given`, fix: 'drop one of them' };
  }
  const http = opts.http === true || loc.scheme === 'http';
  const port = loc.port ?? (http ? HTTP_PORT : HTTPS_PORT);
  return { ok: true, req: { host: loc.host, port, protocol: http ? 'http' : 'connect' } };
}
