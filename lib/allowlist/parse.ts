/**
 * The allowlist language: one entry per line, `#` comments. Pure: text in, entries and
 * diagnostics out. Every line of a file is checked so the user sees all problems at once.
 *
 *   github.com               CONNECT github.com:443 (https://github.com is the same)
 *   *.npmjs.org              CONNECT to any subdomain at any depth, NOT npmjs.org itself
 *   github.com:22            CONNECT to that port only
 *   http://deb.debian.org    plain HTTP on :80, and CONNECT :443
 *   private:registry.corp.example   as above, and the name may resolve to a private address
 */
import type { Diagnostic } from '../errors.js';
import { normalizeHost, printable, type Problem } from './host.js';
import { HTTP_PORT, HTTPS_PORT, type AllowEntry, type AllowRule, type ParseResult } from './types.js';

export interface Location {
  scheme: 'http' | 'https' | undefined;
  host: string;
  wildcard: boolean;
  port: number | undefined;
}

type LocationResult = ({ ok: true } & Location) | ({ ok: false } & Problem);

const fail = (message: string, fix: string): { ok: false } & Problem => ({ ok: false, message, fix });

const REGEX_FIX = 'write the plain host name (`example.com`, `*.example.com`); drydock builds the regexes itself';
/** The only regex form the older bash drydock wrote: `^api\.anthropic\.com$`. */
const LEGACY_REGEX = /^\^((?:[A-Za-z0-9_-]+\\\.)+[A-Za-z0-9_-]+)\$$/;
const REGEX_CHARS = /[\^$\\(){}|+]/;

/** `[::1]`, `[fe80::1%25eth0]:443`, `::ffff:1.2.3.4`, `fe80::1%eth0`: bracketed or with 2+ colons. */
function isIpv6Like(authority: string): boolean {
  if (authority.startsWith('[')) return /^\[[0-9a-f:.]*:[0-9a-f:.]*(%[^\]]*)?\]/i.test(authority);
  return /^[0-9a-f:.]*:[0-9a-f:.]*:[0-9a-f:.]*(%.*)?$/i.test(authority);
}

function parsePort(text: string): number | Problem {
  if (text === '') return { message: 'the port after `:` is empty', fix: 'write a port number, e.g. `example.com:8443`, or drop the `:`' };
  if (!/^[0-9]+$/.test(text)) return { message: `port \`${text}\` is not a number`, fix: 'write a port number between 1 and 65535' };
  const port = Number(text);
  if (port < 1 || port > 65535) return { message: `port ${text} is outside 1–65535`, fix: 'write a port number between 1 and 65535' };
  return port;
}

/**
 * `[scheme://]host[:port][/]` with every other URL feature rejected. Shared by entries and by
 * `allowlist check`, which passes `allowWildcard: false`.
 */
export function parseLocation(text: string, opts: { allowWildcard: boolean }): LocationResult {
  if (text === '') return fail('the entry is empty', 'write a host name such as `example.com`');
  if (/\s/.test(text)) {
    return fail(`whitespace inside the entry \`${text}\``, 'write one host per line; a comment starts with whitespace and `#`');
  }
  let rest = text;
  let scheme: Location['scheme'];
  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  if (schemeMatch) {
    const name = schemeMatch[1]!.toLowerCase();
    if (name !== 'http' && name !== 'https') {
      return fail(`scheme \`${name}://\` is not supported`, 'write `host` or `https://host` for HTTPS, `http://host` for plain HTTP');
    }
    scheme = name;
    rest = text.slice(schemeMatch[0].length);
  } else if (/^[A-Za-z][A-Za-z0-9+.-]*:\//.test(text)) {
    return fail(`\`${text}\` is not a valid URL`, 'write `https://host` or just `host`');
  }
  if (REGEX_CHARS.test(rest)) return fail(`\`${text}\` looks like a regular expression`, REGEX_FIX);

  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const tail = end === -1 ? '' : rest.slice(end);
  if (tail !== '' && tail !== '/') {
    if (/^\/?\?/.test(tail)) return fail(`\`${tail}\` (a URL query, or a regex \`?\`) is not allowed`, 'allow the whole host; the proxy cannot see paths or queries of HTTPS requests');
    if (/^\/?#/.test(tail)) return fail(`a fragment (\`${tail}\`) is not allowed`, 'for a comment, put whitespace before the `#`');
    return fail(`a path (\`${tail}\`) is not allowed`, 'allow the whole host; the proxy cannot see paths of HTTPS requests');
  }
  if (authority.includes('@')) return fail(`user info (\`${authority.slice(0, authority.lastIndexOf('@') + 1)}\`) is not allowed`, 'write just the host name');
  if (isIpv6Like(authority)) {
    return fail(`\`${authority}\` is an IPv6 address, not a host name`, 'allow the host name instead; drydock rejects IP addresses in every spelling');
  }
  if (authority.includes('[') || authority.includes(']')) return fail(`\`${text}\` looks like a regular expression`, REGEX_FIX);
  if (authority.includes('%')) {
    return fail(`percent-encoding in \`${authority}\` is not allowed`, 'write the host name in plain text (Unicode names are fine)');
  }
  const colon = authority.lastIndexOf(':');
  let port: number | undefined;
  if (colon !== -1) {
    const parsed = parsePort(authority.slice(colon + 1));
    if (typeof parsed !== 'number') return { ok: false, ...parsed };
    port = parsed;
  }
  const rawHost = colon === -1 ? authority : authority.slice(0, colon);
  const host = normalizeHost(rawHost, opts);
  if (!host.ok) return host;
  return { ok: true, scheme, host: host.host, wildcard: host.wildcard, port };
}

/** The entry text for a location: no scheme for HTTPS, default ports left out. */
export function canonicalEntry(loc: Pick<Location, 'host' | 'wildcard' | 'port'> & { http: boolean }): string {
  const name = `${loc.wildcard ? '*.' : ''}${loc.host}`;
  if (loc.http) return `http://${name}${loc.port === undefined || loc.port === HTTP_PORT ? '' : `:${loc.port}`}`;
  return `${name}${loc.port === undefined || loc.port === HTTPS_PORT ? '' : `:${loc.port}`}`;
}

function entryOf(loc: Location): Omit<AllowEntry, 'source'> {
  const { host, wildcard } = loc;
  const http = loc.scheme === 'http';
  const rules: AllowRule[] = http
    ? [
        { protocol: 'connect', host, wildcard, port: HTTPS_PORT },
        { protocol: 'http', host, wildcard, port: loc.port ?? HTTP_PORT },
      ]
    : [{ protocol: 'connect', host, wildcard, port: loc.port ?? HTTPS_PORT }];
  return { canonical: canonicalEntry({ host, wildcard, port: loc.port, http }), rules };
}

interface DetailedResult {
  entry?: Omit<AllowEntry, 'source'>;
  error?: Problem;
  warning?: Problem;
}

/**
 * The opt-in for destinations that really are private (an internal registry at 10.x): a visible
 * prefix on the entry itself, so the exception is where the name is, and `allowlist list` shows it.
 */
export const PRIVATE_PREFIX = 'private:';

function parseEntryDetailed(raw: string): DetailedResult {
  const text = raw.trim();
  if (text.slice(0, PRIVATE_PREFIX.length).toLowerCase() === PRIVATE_PREFIX) {
    const rest = text.slice(PRIVATE_PREFIX.length);
    if (rest.trim() === '' || rest.toLowerCase().startsWith(PRIVATE_PREFIX)) {
      return { error: { message: `\`${text}\` names no host after \`${PRIVATE_PREFIX}\``, fix: `write \`${PRIVATE_PREFIX}host\`, e.g. \`${PRIVATE_PREFIX}registry.corp.example\`` } };
    }
    if (/^\s/.test(rest)) return { error: { message: `whitespace after \`${PRIVATE_PREFIX}\` in \`${text}\``, fix: `write \`${PRIVATE_PREFIX}host\` with nothing in between` } };
    const inner = parseEntryDetailed(rest);
    if (!inner.entry) return inner;
    return { ...inner, entry: { ...inner.entry, canonical: `${PRIVATE_PREFIX}${inner.entry.canonical}`, private: true } };
  }
  if (text.startsWith('!') || text.startsWith('-')) {
    return {
      error: {
        message: `\`${text}\` tries to remove an entry, but the baseline is add-only: entries cannot be removed`,
        fix: 'delete the line; to allow less, use your own baseline via DRYDOCK_BASELINE',
      },
    };
  }
  const legacy = LEGACY_REGEX.exec(text);
  if (legacy) {
    const hostText = legacy[1]!.replace(/\\\./g, '.');
    const loc = parseLocation(hostText, { allowWildcard: false });
    if (!loc.ok) return { error: { message: `legacy regex \`${text}\`: ${loc.message}`, fix: loc.fix } };
    const entry = entryOf(loc);
    return { entry, warning: { message: `converted legacy regex \`${text}\` to \`${entry.canonical}\``, fix: `write \`${entry.canonical}\`` } };
  }
  if (text.startsWith('^') || text.endsWith('$')) return { error: { message: `\`${text}\` looks like a regular expression`, fix: REGEX_FIX } };
  const loc = parseLocation(text, { allowWildcard: true });
  if (!loc.ok) return { error: { message: loc.message, fix: loc.fix } };
  return { entry: entryOf(loc) };
}

/** One entry (no comment). A legacy `^a\.b$` line comes back as an entry plus a warning. */
export function parseEntry(raw: string): {
  entry?: Omit<AllowEntry, 'source'>;
  error?: { message: string; fix: string };
  warning?: string;
} {
  const r = parseEntryDetailed(raw);
  return {
    ...(r.entry ? { entry: r.entry } : {}),
    ...(r.error ? { error: { message: printable(r.error.message), fix: printable(r.error.fix) } } : {}),
    ...(r.warning ? { warning: `${r.warning.message} — ${r.warning.fix}` } : {}),
  };
}

/** The entry part of a line: whole-line comments and trailing ` # …` comments removed. */
export function stripComment(line: string): string {
  const trimmed = line.trim();
  if (trimmed.startsWith('#')) return '';
  const hash = trimmed.search(/\s#/);
  return (hash === -1 ? trimmed : trimmed.slice(0, hash)).trim();
}

/** Parse a whole file. `file` is only used for the diagnostics' FILE:LINE. */
export function parseAllowlist(text: string, file: string): ParseResult {
  const result: ParseResult = { entries: [], errors: [], warnings: [] };
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((line, index) => {
    const entryText = stripComment(line);
    if (entryText === '') return;
    const at = (p: Problem): Diagnostic => ({ file, line: index + 1, message: printable(p.message), fix: printable(p.fix) });
    const r = parseEntryDetailed(entryText);
    if (r.error) result.errors.push(at(r.error));
    if (r.warning) result.warnings.push(at(r.warning));
    if (r.entry) result.entries.push({ ...r.entry, source: { file, line: index + 1 } });
  });
  return result;
}
