/**
 * tinyproxy's log → what the agent reached and what it was refused. Pure.
 *
 * tinyproxy 1.11 serves each client in a thread but logs one process id, and its refusal lines do
 * not name the client's file descriptor. So a refusal or an `Established connection` line is paired
 * with the most recent open request whose host fits it. What tinyproxy writes (drydock's config uses
 * LogLevel Info; the parser also reads logs written at LogLevel Connect), measured on 1.11.1:
 *   allowed             Request (file descriptor 6): CONNECT github.com:443 HTTP/1.1
 *                       Established connection to host "github.com" using file descriptor 5.
 *   filtered            Proxying refused on filtered url "xgithub.com:443"        (CONNECT form)
 *                       Proxying refused on filtered url "http://evil.test/y"     (absolute URI)
 *                       Proxying refused on filtered url "http://evil.test:80/z"  (Host header)
 *   ConnectPort         nothing at all (the refusal is an INFO line, below Connect level): the
 *                       request is closed with no outcome, so a CONNECT that ends that way is
 *                       counted as refused; at LogLevel Info `Refused CONNECT method on port N`.
 * Log lines are cut at 800 bytes (798 plus the newline), which can lose the closing quote.
 * A request line may hold any byte but LF, CR included: every pattern here matches across `\r`
 * (the `s` flag), so such a line is counted like any other.
 *
 * The address floor (the sidecar's own resolver, dnsmasq with `stop-dns-rebind`) refuses a name
 * whose answer is a private or local address and says so on its stderr while tinyproxy waits for
 * the lookup, in its own words or in the sidecar's:
 *   private_address     dnsmasq[12]: possible DNS-rebind attack detected: evil.test
 *                       drydock-egress: refused evil.test: resolved to a private address (…)
 *                       opensock: Could not retrieve address info for evil.test:443: …
 * That line settles the open request for the name as `denied, private_address`, and tinyproxy's
 * lookup failure that follows is not counted again; any other lookup failure is `failed,
 * resolve_failed`. The resolver's line must start the log line (after the optional syslog stamp),
 * so a request line quoting it cannot fake it.
 */
import type { Protocol } from '../allowlist/types.js';
import { HTTP_PORT, HTTPS_PORT } from '../names.js';
import { isIpLiteral, type EgressEvent } from './decision.js';
import { isCheckHost } from './check-host.js';

export type { EgressEvent } from './decision.js';

/** tinyproxy's longest line, newline excluded (STRING_LENGTH 800 minus the NUL and the newline). */
export const MAX_LOG_LINE = 798;
const HTTPS = HTTPS_PORT;
const HTTP = HTTP_PORT;

const LINE = /^\s*([A-Z]+)\s+([A-Z][a-z]{2}\s+\d+\s+\d\d:\d\d:\d\d(?:\.\d+)?)\s+\[\d+\]:\s(.*)$/s;
const DOCKER_STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))\s/;
const REBIND = /^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d )?dnsmasq(?:-[a-z]+)?(?:\[\d+\])?: possible DNS-rebind attack detected: (\S+)$/;
const FLOOR_LINE = /^drydock-egress: refused (\S+): resolved to a private address\b/;
/** Requests waiting for their outcome: bounded, whatever the log holds (tinyproxy serves ~100 at once). */
export const MAX_OPEN_REQUESTS = 1024;
/** Names the resolver refused, remembered until tinyproxy reports the failed lookup (bounded). */
const MAX_REBIND_NAMES = 256;

interface Target {
  host?: string;
  port?: number;
  protocol?: Protocol;
}

interface Pending extends Target {
  fd: number;
  method: string;
  raw: string;
  time: string;
  truncated: boolean;
}

/**
 * tinyproxy's extract_url: the host is what precedes the first `/`, minus everything up to the
 * first `@`, minus `:port` (the last colon; sscanf %d reads the number); `[…]` is unwrapped.
 */
export function splitTarget(authorityAndPath: string, defaultPort: number): { host: string; port: number } {
  let host = authorityAndPath.split('/', 1)[0] ?? '';
  const at = host.indexOf('@');
  if (at !== -1) host = host.slice(at + 1);
  let port = defaultPort;
  const colon = host.lastIndexOf(':');
  if (colon !== -1 && !host.slice(colon).includes(']')) {
    const parsed = /^\s*([+-]?\d+)/.exec(host.slice(colon + 1));
    host = host.slice(0, colon);
    if (parsed && Number(parsed[1]) !== 0) port = Number(parsed[1]);
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port };
}

/** What a request line or a filtered URL names: `http://h[:p]/…` is plain HTTP, else CONNECT's `h:p`. */
export function targetOf(text: string, method = 'CONNECT'): Target {
  if (/^http:\/\//i.test(text)) return { ...splitTarget(text.slice(7), HTTP), protocol: 'http' };
  if (method === 'CONNECT') return { ...splitTarget(text, HTTPS), protocol: 'connect' };
  return {}; // a relative (transparent) request: the host is in a header the log does not show
}

const sameHost = (a: string | undefined, b: string, truncated: boolean): boolean => {
  if (a === undefined) return true;
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x === y || (truncated && (x.startsWith(y) || y.startsWith(x)));
};

/** A live reload's own probe (lib/egress/check-host.ts) is drydock's, never the agent's traffic. */
const notCheckHost = (event: EgressEvent): boolean => !isCheckHost(event.host);

/**
 * Incremental, so a log is read line by line however long it is: `push` returns the events that
 * line settled; `end` settles what is still open. What it holds between lines is bounded (at most
 * MAX_OPEN_REQUESTS open requests and MAX_REBIND_NAMES refused names).
 */
export class TinyproxyLogParser {
  private readonly open: Pending[] = [];
  private readonly rebound = new Set<string>();
  /** Lines read, and how many of them were tinyproxy's (counted also when they hold a `\r`). */
  lines = 0;
  proxyLines = 0;

  push(rawLine: string, dockerTime?: string): EgressEvent[] {
    this.lines += 1;
    return this.read(rawLine, dockerTime).filter(notCheckHost);
  }

  private read(rawLine: string, dockerTime?: string): EgressEvent[] {
    // Tolerate the RFC 3339 stamp `docker logs -t` puts in front, and a CR from a copied file.
    let line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const stamp = dockerTime === undefined ? DOCKER_STAMP.exec(line) : null;
    if (stamp) line = line.slice(stamp[0].length);
    const when = dockerTime ?? stamp?.[1];
    const floor = line.startsWith('drydock-egress: refused ') ? FLOOR_LINE.exec(line) : line.includes('dnsmasq') ? REBIND.exec(line) : null;
    if (floor) return this.refusedByFloor(floor[1]!, line, when);
    const match = LINE.exec(line);
    if (!match) return [];
    this.proxyLines += 1;
    const time = when ?? match[2]!;
    const message = match[3]!;
    const truncated = Buffer.byteLength(line) >= MAX_LOG_LINE;
    let m: RegExpExecArray | null;

    if ((m = /^Connect \(file descriptor (\d+)\):/.exec(message))) return this.closeFd(Number(m[1]));
    if ((m = /^Request \(file descriptor (\d+)\): (.*)$/s.exec(message))) {
      const events = this.closeFd(Number(m[1]));
      const requestLine = m[2]!;
      const space = requestLine.indexOf(' ');
      const method = space === -1 ? requestLine : requestLine.slice(0, space);
      const target = space === -1 ? '' : (requestLine.slice(space).trimStart().split(' ', 1)[0] ?? '');
      this.open.push({ fd: Number(m[1]), method, raw: line, time, truncated, ...targetOf(target, method) });
      if (this.open.length > MAX_OPEN_REQUESTS) events.push(this.unresolved(this.open.shift()!));
      return events;
    }
    if ((m = /^process_request: trans (?:Host|IP) \S+ (\S+) for (\d+)$/s.exec(message))) {
      const request = this.open.find((p) => p.fd === Number(m![2]));
      if (request) Object.assign(request, targetOf(m[1]!, 'GET'));
      return [];
    }
    if ((m = /^Proxying refused on filtered (url|domain) "(.*?)(?:"|$)/s.exec(message))) {
      const cut = truncated && !message.endsWith('"');
      const named = m[1] === 'url' ? targetOf(m[2]!) : { host: m[2]! };
      const request = this.take((p) => sameHost(p.host, named.host!, cut || p.truncated));
      const event: EgressEvent = {
        time,
        action: 'denied',
        reason: isIpLiteral(named.host!) ? 'ip_literal' : 'not_allowlisted',
        method: request?.method ?? (named.protocol === 'connect' ? 'CONNECT' : undefined),
        host: named.host!,
        port: named.port ?? request?.port ?? HTTPS,
        protocol: named.protocol ?? request?.protocol ?? 'connect',
        raw: line,
      };
      return [cut || request?.truncated ? { ...event, truncated: true } : event];
    }
    if ((m = /^Refused CONNECT method on port (\d+)/.exec(message))) {
      const port = Number(m[1]);
      const request = this.take((p) => p.method === 'CONNECT' && p.port === port);
      return [{ time, action: 'denied', reason: 'port_not_allowed', method: 'CONNECT', host: request?.host ?? '', port, protocol: 'connect', raw: line }];
    }
    if ((m = /^Established connection to host "(.*?)"/s.exec(message))) {
      return this.outcome(m[1]!, line, time, { action: 'allowed', reason: 'allowlisted' });
    }
    if ((m = /^opensock: Could not (retrieve address info|establish a connection) (?:for|to) (.*?)(?::\d+)?(?::|$)/s.exec(message))) {
      const host = m[2]!;
      const detail = message.replace(/^opensock: /, '');
      if (m[1] === 'establish a connection') return this.outcome(host, line, time, { action: 'failed', reason: 'upstream_failed', detail });
      if (this.rebound.delete(host.toLowerCase())) return []; // already reported as the floor's refusal
      return this.outcome(host, line, time, { action: 'failed', reason: 'resolve_failed', detail });
    }
    if ((m = /^(?:process_request: Bad Request on file descriptor|transparent: destination IP \S+ is local on socket fd) (\d+)/.exec(message))) {
      this.take((p) => p.fd === Number(m![1])); // malformed, never left the proxy: not egress
    }
    return [];
  }

  end(): EgressEvent[] {
    return this.open.splice(0).map((p) => this.unresolved(p)).filter(notCheckHost);
  }

  /** The resolver refused every address of `name`: the request waiting for it is denied. */
  private refusedByFloor(name: string, raw: string, when: string | undefined): EgressEvent[] {
    const host = name.toLowerCase().replace(/\.$/, '');
    const request = this.take((p) => p.host !== undefined && p.host.toLowerCase() === host);
    if (!request && this.rebound.has(host)) return []; // its A and AAAA answers, one request
    this.rebound.add(host);
    if (this.rebound.size > MAX_REBIND_NAMES) this.rebound.delete(this.rebound.values().next().value!);
    const event: EgressEvent = { action: 'denied', reason: 'private_address', host, raw };
    const time = when ?? request?.time;
    if (time !== undefined) event.time = time;
    if (request) Object.assign(event, { method: request.method, port: request.port, protocol: request.protocol });
    return [event];
  }

  private outcome(host: string, raw: string, time: string, verdict: Pick<EgressEvent, 'action' | 'reason' | 'detail'>): EgressEvent[] {
    const request = this.take((p) => sameHost(p.host, host, p.truncated));
    const protocol = request?.protocol ?? (request ? 'http' : undefined);
    const port = request?.port ?? (request && protocol === 'http' ? HTTP : undefined);
    const event: EgressEvent = { time, ...verdict, host, raw };
    if (request) event.method = request.method;
    if (port !== undefined) event.port = port;
    if (protocol !== undefined) event.protocol = protocol;
    return [event];
  }

  /** The latest open request that `fits`, removed from the open set. */
  private take(fits: (p: Pending) => boolean): Pending | undefined {
    for (let i = this.open.length - 1; i >= 0; i -= 1) {
      if (fits(this.open[i]!)) return this.open.splice(i, 1)[0];
    }
    return undefined;
  }

  private closeFd(fd: number): EgressEvent[] {
    const index = this.open.findIndex((p) => p.fd === fd);
    if (index === -1) return [];
    return [this.unresolved(this.open.splice(index, 1)[0]!)];
  }

  /** A request that ended with no outcome line: a CONNECT refused by ConnectPort (see the header). */
  private unresolved(p: Pending): EgressEvent {
    const base = { time: p.time, method: p.method, host: p.host ?? '', port: p.port, protocol: p.protocol, raw: p.raw, ...(p.truncated ? { truncated: true } : {}) };
    if (p.method === 'CONNECT' && p.protocol === 'connect') {
      return { ...base, action: 'denied', reason: 'port_not_allowed', detail: 'no connection followed the request' };
    }
    return { ...base, action: 'allowed', reason: 'no_outcome' };
  }
}

export function parseTinyproxyLog(text: string): EgressEvent[] {
  const parser = new TinyproxyLogParser();
  const events = text.split('\n').flatMap((line) => parser.push(line));
  return [...events, ...parser.end()];
}

export { denialAction, formatDenialSummary, summarizeDenials, type AllowlistFiles, type DenialSummary } from './refusals.js';
