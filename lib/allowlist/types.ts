/**
 * The allowlist's data model. An entry is what a user wrote (one line); a rule is one thing the
 * proxy lets through. Entries are parsed from text, rules are compiled into the tinyproxy filter.
 */
import type { Diagnostic } from '../errors.js';

/** `connect`: an HTTPS-style CONNECT tunnel to host:port. `http`: a plain-HTTP request to host:port. */
export type Protocol = 'connect' | 'http';

export interface SourceRef {
  file: string;
  line: number;
}

/**
 * One thing the proxy lets through: CONNECT to host:port, or plain HTTP to host:port.
 * `wildcard` means "any subdomain of `host`, at any depth, but not `host` itself".
 */
export interface AllowRule {
  protocol: Protocol;
  host: string;
  wildcard: boolean;
  port: number;
}

export interface AllowEntry {
  /** Normalised entry text, e.g. "*.npmjs.org", "github.com:22", "http://deb.debian.org". */
  canonical: string;
  /** What it allows ("http://x" → connect x:443 + http x:80). */
  rules: AllowRule[];
  source: SourceRef;
  /**
   * Written `private:…`: the name may resolve to a private (RFC 1918 or ULA) address. Without it
   * the sidecar's resolver refuses such answers (the address floor, lib/egress/address-floor.ts).
   */
  private?: true;
}

export interface ParseResult {
  entries: AllowEntry[];
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

/** A request as the proxy sees it, reduced to what the allowlist decides on. */
export interface EgressRequest {
  host: string;
  port: number;
  protocol: Protocol;
}

/** Declared with every other port in lib/names.ts; re-exported for the allowlist's own modules. */
export { HTTPS_PORT, HTTP_PORT } from '../names.js';
