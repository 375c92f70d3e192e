/**
 * Entries → the tinyproxy filter file (FilterType ere, FilterURLs Yes, FilterDefaultDeny Yes).
 * Pure and deterministic: the same entries, in any order, give byte-identical output.
 *
 * What tinyproxy 1.11 matches each line against (a case-insensitive POSIX ERE, as a substring):
 *   CONNECT          the request-URI as sent:           github.com:443
 *   absolute HTTP    the URL as sent:                   http://deb.debian.org/x, http://h:8080/
 *   relative HTTP    built from the Host header:        http://deb.debian.org:80/x
 * tinyproxy takes the destination host as everything before the first `/`, minus any `user@`,
 * minus `:port`. So every line is anchored at the start, and the host must be followed by nothing but an
 * optional trailing dot and the port (CONNECT: then the end; HTTP: then `/` or the end): that
 * rules out `github.com@evil.test:443`, `github.com.evil.test`, `:80@evil.test`, `?`, `#`, `\`.
 * One residue no filter line can tell apart: a relative request with `Host: deb.debian.org/x.evil`
 * becomes `http://deb.debian.org/x.evil:80/…`, which reads as an allowed URL with a path. tinyproxy
 * then resolves the literal name `deb.debian.org/x.evil`; glibc (verified, 2.36) and musl refuse
 * such a name without sending a DNS query, so the request fails with 500.
 *
 * Lines are packed: many hosts per alternation, grouped by last label and written as a trie of
 * their shared prefixes (pack.ts), each line at most 511 bytes (tinyproxy reads filter lines into
 * a 512-byte buffer and silently splits longer ones), because every request is matched against
 * every line in turn. The regexes use only GNU's buffer anchors `` \` `` and `\'`, `( ) | ? +`, `\.` and
 * bracket expressions of name characters, which mean the same in glibc's ERE and (with the anchors
 * read as ^ and $) JavaScript.
 */
import { effectiveRules, type RuleGroup } from './effective.js';
import { packHosts } from './pack.js';
import { HTTP_PORT, type AllowEntry, type Protocol } from './types.js';

export { packHosts };

export interface CompiledFilter {
  /** The filter file: `#` comment lines (tinyproxy skips them) and one regex per other line. */
  filter: string;
  /** Every port some CONNECT rule allows, ascending: the config's ConnectPort lines. */
  connectPorts: number[];
  /** Every port some plain-HTTP rule allows, ascending. */
  httpPorts: number[];
  /** Entries given to the compiler. */
  entryCount: number;
  /** Rules compiled, after merging duplicates and dropping those a wildcard covers. */
  ruleCount: number;
  /** Regex lines in the filter (comment lines not counted). */
  lineCount: number;
}

/**
 * Every line starts with GNU regex's start-of-buffer anchor, not `^`. tinyproxy compiles filter
 * lines with REG_NEWLINE, under which `^` may also match after any newline, so glibc tries every
 * position of the subject; `\`` lets it stop after position 0 (measured: the worst-case scan of a
 * 10,000-entry filter halves for CONNECT). It is stricter than `^`, so it can only deny more. The
 * sidecar is Debian (glibc); tests that evaluate lines as JavaScript read it as `^`.
 */
export const BUFFER_START = '\\`';

/**
 * Every line ends with GNU regex's end-of-buffer anchor, not `$`: under REG_NEWLINE `$` also
 * matches before any newline, so `Host: plain.test<LF> x.evil.test` (an obs-fold with a bare LF)
 * made the subject `http://plain.test<LF> x.evil.test:80/` pass an `http://plain.test` line and
 * fail only at name resolution. `\'` matches at the very end only. Stricter than `$`: it can only
 * deny more. Tests that evaluate lines as JavaScript read it as `$` without the `m` flag.
 */
export const BUFFER_END = "\\'";

/**
 * Bytes per regex line, newline excluded: tinyproxy 1.11 reads each line with
 * fgets(buf, 512), so 511 bytes arrive whole (the newline then reads as an empty line, which it
 * skips). Every byte counts: a request pays for every line it is matched against, and lines are
 * as few as the bytes allow (test/integration/filter-line-length.test.ts proves the full length
 * on a real tinyproxy).
 */
export const MAX_FILTER_LINE = 511;
/** One or more subdomain labels in front of a wildcard's base (never empty, never `@`/`:`/`/`). */
export const SUBDOMAINS = '([-a-z0-9_]+\\.)+';
const VALID_HOST = /^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/;

/** The fixed parts around one line's alternation for a group of rules. */
export function lineFrame(g: { protocol: Protocol; port: number; wildcard: boolean }): { head: string; tail: string } {
  const sub = g.wildcard ? SUBDOMAINS : '';
  if (g.protocol === 'connect') return { head: `${BUFFER_START}${sub}(`, tail: `)\\.?:${g.port}${BUFFER_END}` };
  const port = g.port === HTTP_PORT ? '(:80)?' : `:${g.port}`;
  return { head: `${BUFFER_START}http://${sub}(`, tail: `)\\.?${port}(/|${BUFFER_END})` };
}

function assertCompilable(group: RuleGroup): void {
  // The compiler is the only author of regexes: refuse anything a parser would not have produced.
  const badPort = !Number.isInteger(group.port) || group.port < 1 || group.port > 65535;
  const badHost = group.hosts.find((host) => !VALID_HOST.test(host));
  if (badPort || badHost !== undefined) {
    throw new Error(`drydock: refusing to compile an invalid rule: ${JSON.stringify({ ...group, hosts: [badHost ?? group.hosts[0]] })}`);
  }
}

const describeGroup = (g: { protocol: Protocol; port: number; wildcard: boolean }): string =>
  `# ${g.protocol === 'connect' ? 'CONNECT' : 'plain HTTP'} port ${g.port}, ${g.wildcard ? 'subdomains of' : 'exact hosts'}`;

export function compileFilter(entries: readonly AllowEntry[]): CompiledFilter {
  const { groups, ruleCount } = effectiveRules(entries);
  groups.forEach(assertCompilable);
  const lines: string[] = [
    '# drydock egress filter: generated by drydock, do not edit (change the allowlists and recompile).',
    `# ${entries.length} entries, ${ruleCount} rules. Deny by default: a request passes only if a line matches.`,
  ];
  let lineCount = 0;
  for (const group of groups) {
    const { head, tail } = lineFrame(group);
    lines.push(describeGroup(group));
    for (const body of packHosts(group.hosts, MAX_FILTER_LINE - head.length - tail.length)) {
      lines.push(`${head}${body}${tail}`);
      lineCount += 1;
    }
  }
  const ports = (p: Protocol) => [...new Set(groups.filter((g) => g.protocol === p).map((g) => g.port))].sort((a, b) => a - b);
  return {
    filter: `${lines.join('\n')}\n`,
    connectPorts: ports('connect'),
    httpPorts: ports('http'),
    entryCount: entries.length,
    ruleCount,
    lineCount,
  };
}
