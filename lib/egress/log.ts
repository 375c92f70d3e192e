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
 */
import type { Protocol } from '../allowlist/types.js';
import { describeRequest } from '../allowlist/match.js';
import { HTTP_PORT, HTTPS_PORT } from '../names.js';
import { suggestionFor } from './suggest.js';
import { isCheckHost } from './check-host.js';

export interface EgressEvent {
  time?: string;
  action: 'denied' | 'allowed';
  host: string;
  port?: number;
  protocol?: Protocol;
  reason: string;
  raw: string;
  /** The host may be incomplete: its log line was cut at tinyproxy's 800-byte limit. */
  truncated?: boolean;
}

export interface DenialSummary {
  host: string;
  port: number;
  protocol: Protocol;
  count: number;
  /** The allowlist line that would allow it, or a `# cannot be allowed: …` comment saying why not. */
  suggestion: string;
}

/** tinyproxy's longest line, newline excluded (STRING_LENGTH 800 minus the NUL and the newline). */
export const MAX_LOG_LINE = 798;
const HTTPS = HTTPS_PORT;
const HTTP = HTTP_PORT;

const LINE = /^\s*([A-Z]+)\s+([A-Z][a-z]{2}\s+\d+\s+\d\d:\d\d:\d\d(?:\.\d+)?)\s+\[\d+\]:\s(.*)$/;

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
 * Incremental, so `egress log --follow` can feed it line by line. `push` returns the events that
 * line settled; `end` settles what is still open.
 */
export class TinyproxyLogParser {
  private readonly open: Pending[] = [];

  push(rawLine: string): EgressEvent[] {
    return this.read(rawLine).filter(notCheckHost);
  }

  private read(rawLine: string): EgressEvent[] {
    // Tolerate the RFC 3339 stamp `docker logs -t` puts in front, and a CR from a copied file.
    const line = rawLine.replace(/^\d{4}-\d\d-\d\dT\S+\s+/, '').replace(/\r$/, '');
    const match = LINE.exec(line);
    if (!match) return [];
    const time = match[2]!;
    const message = match[3]!;
    const truncated = Buffer.byteLength(line) >= MAX_LOG_LINE;
    let m: RegExpExecArray | null;

    if ((m = /^Connect \(file descriptor (\d+)\):/.exec(message))) return this.closeFd(Number(m[1]));
    if ((m = /^Request \(file descriptor (\d+)\): (.*)$/.exec(message))) {
      const events = this.closeFd(Number(m[1]));
      const requestLine = m[2]!;
      const space = requestLine.indexOf(' ');
      const method = space === -1 ? requestLine : requestLine.slice(0, space);
      const target = space === -1 ? '' : (requestLine.slice(space).trimStart().split(' ', 1)[0] ?? '');
      this.open.push({ fd: Number(m[1]), method, raw: line, time, truncated, ...targetOf(target, method) });
      return events;
    }
    if ((m = /^process_request: trans (?:Host|IP) \S+ (\S+) for (\d+)$/.exec(message))) {
      const request = this.open.find((p) => p.fd === Number(m![2]));
      if (request) Object.assign(request, targetOf(m[1]!, 'GET'));
      return [];
    }
    if ((m = /^Proxying refused on filtered (url|domain) "(.*?)(?:"|$)/.exec(message))) {
      const cut = truncated && !message.endsWith('"');
      const named = m[1] === 'url' ? targetOf(m[2]!) : { host: m[2]! };
      const request = this.take((p) => sameHost(p.host, named.host!, cut || p.truncated));
      const event: EgressEvent = {
        time,
        action: 'denied',
        host: named.host!,
        port: named.port ?? request?.port ?? HTTPS,
        protocol: named.protocol ?? request?.protocol ?? 'connect',
        reason: 'not in the allowlist',
        raw: line,
      };
      return [cut || request?.truncated ? { ...event, truncated: true } : event];
    }
    if ((m = /^Refused CONNECT method on port (\d+)/.exec(message))) {
      const port = Number(m[1]);
      const request = this.take((p) => p.method === 'CONNECT' && p.port === port);
      return [{ time, action: 'denied', host: request?.host ?? '', port, protocol: 'connect', reason: `CONNECT to port ${port} is not allowed`, raw: line }];
    }
    if ((m = /^Established connection to host "(.*?)"/.exec(message))) {
      return this.allowed(m[1]!, line, time, 'connection established');
    }
    if ((m = /^opensock: Could not (?:retrieve address info|establish a connection) (?:for|to) (.*?)(?::\d+)?(?::|$)/.exec(message))) {
      return this.allowed(m[1]!, line, time, `allowed, but the upstream was unreachable (${message.replace(/^opensock: /, '')})`);
    }
    if ((m = /^(?:process_request: Bad Request on file descriptor|transparent: destination IP \S+ is local on socket fd) (\d+)/.exec(message))) {
      this.take((p) => p.fd === Number(m![1])); // malformed, never left the proxy: not egress
    }
    return [];
  }

  end(): EgressEvent[] {
    return this.open.splice(0).map((p) => this.unresolved(p)).filter(notCheckHost);
  }

  private allowed(host: string, raw: string, time: string, reason: string): EgressEvent[] {
    const request = this.take((p) => sameHost(p.host, host, p.truncated));
    const protocol = request?.protocol ?? (request ? 'http' : undefined);
    const port = request?.port ?? (request && protocol === 'http' ? HTTP : undefined);
    const event: EgressEvent = { time, action: 'allowed', host, reason, raw };
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
    const base = { time: p.time, host: p.host ?? '', port: p.port, protocol: p.protocol, raw: p.raw, ...(p.truncated ? { truncated: true } : {}) };
    if (p.method === 'CONNECT' && p.protocol === 'connect') {
      return { ...base, action: 'denied', reason: `CONNECT to port ${p.port} is not allowed (no connection followed the request)` };
    }
    return { ...base, action: 'allowed', reason: 'request (no outcome logged)' };
  }
}

export function parseTinyproxyLog(text: string): EgressEvent[] {
  const parser = new TinyproxyLogParser();
  const events = text.split('\n').flatMap((line) => parser.push(line));
  return [...events, ...parser.end()];
}

/** Denials that name a host, folded per host (case-insensitive) + port + protocol. */
export function summarizeDenials(events: readonly EgressEvent[]): DenialSummary[] {
  const byKey = new Map<string, DenialSummary>();
  for (const event of events) {
    if (event.action !== 'denied' || event.host === '') continue;
    const host = event.host.toLowerCase();
    const port = event.port ?? HTTPS;
    const protocol = event.protocol ?? 'connect';
    const key = `${protocol} ${host} ${port}`;
    const seen = byKey.get(key);
    if (seen) {
      seen.count += 1;
      continue;
    }
    const suggestion = suggestionFor({ host, port, protocol }, { truncated: event.truncated === true });
    byKey.set(key, { host, port, protocol, count: 1, suggestion: suggestion.text });
  }
  return [...byKey.values()].sort(
    (a, b) => b.count - a.count || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0) || a.port - b.port || a.protocol.localeCompare(b.protocol),
  );
}

/** What to do about one refused destination: the line to add, or why none can allow it. */
export function denialAction(summary: DenialSummary): string {
  return summary.suggestion.startsWith('#') ? summary.suggestion.replace(/^#\s*/, '') : `to allow, add: ${summary.suggestion}`;
}

/** The human summary printed after a session and by `drydock egress log`; '' when nothing was refused. */
export interface AllowlistFiles {
  /** The list that applies to every project, e.g. ~/.config/drydock/egress-allowlist. */
  global: string;
  /** The session's project list, e.g. ~/.config/drydock/egress-allowlist-myapp. */
  project?: string;
}

export function formatDenialSummary(summaries: readonly DenialSummary[], files?: AllowlistFiles): string {
  if (summaries.length === 0) return '';
  const shown = summaries.map((s) => ({ s, what: describeRequest(s) }));
  const width = Math.min(60, Math.max(...shown.map((x) => x.what.length)));
  const n = summaries.length;
  const lines = [`The egress proxy refused ${n} destination${n === 1 ? '' : 's'} (403):`];
  for (const { s, what } of shown) {
    const count = `${s.count}×`.padStart(5);
    lines.push(`  ${what.padEnd(width)} ${count}  ${denialAction(s)}`);
  }
  lines.push(
    files
      ? `Add a line to ${files.project ?? `${files.global}-<project>`} (this project) or ${files.global} (every project),`
      : 'Add a line to ~/.config/drydock/egress-allowlist (every project) or egress-allowlist-<project> (one project),',
    'then start a new session. `drydock allowlist check HOST[:PORT]` tells whether a host is allowed, and by which line.',
  );
  return `${lines.join('\n')}\n`;
}
