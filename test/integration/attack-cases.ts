/**
 * The attack table: one row per raw request, with the verdict drydock's compiled filter must give
 * on a real tinyproxy. The allowlist under test is ALLOWLIST below (plus the shipped baseline).
 *
 * Every name a denied row uses either resolves (in the proxy's private /etc/hosts) to the `evil`
 * upstream — so a filter slip would show up as a connection there — or cannot resolve at all
 * (`.invalid`), and every row's status is exact: a 500 ("could not connect") where a 403 was
 * expected means the filter let the request through and only name resolution stopped it.
 */
import type { Ipv4Spellings, LoopbackBlock } from './harness/loopback.js';
import { ipv4Spellings } from './harness/loopback.js';

export const ALLOWLIST = ['allowed.test', 'allowed.test:8443', '*.wild.test', 'http://plain.test', ''].join('\n');

export interface AttackCase {
  /** What the row tries. */
  name: string;
  /** The request, byte for byte. */
  request: string;
  verdict: 'allowed' | 'denied';
  /** allowed: `upstream:port` that must be reached (and nothing else). */
  reaches?: string;
  /** denied: the proxy's exact status (403 filter / ConnectPort, 400 malformed). */
  status?: number;
}

const LABEL63 = 'l'.repeat(63);
/** ~200 bytes, valid DNS (labels ≤ 63): a deep subdomain of the wildcard. */
export const LONG_WILD = `${[LABEL63, LABEL63, LABEL63].join('.')}.wild.test`;
/** 585 bytes: over tinyproxy's 511-byte filter-line buffer; resolvable only in the test's hosts file. */
export const HUGE_WILD = `${Array(9).fill('b'.repeat(63)).join('.')}.wild.test`;
/** Over 800 bytes: the refusal's log line is cut before the closing quote. */
export const HUGE_EVIL = `allowed.test.${'x'.repeat(900)}.evil.test`;

/** The names the proxy can resolve: everything a denied row names goes to `evil`. */
export function hostsFor(block: LoopbackBlock): Record<string, string> {
  const evil = block.ip(9);
  const hosts: Record<string, string> = {
    'allowed.test': block.ip(2),
    'allowed.test.': block.ip(2),
    'plain.test': block.ip(3),
    'a.wild.test': block.ip(4),
    'deep.er.a.wild.test': block.ip(4),
    [LONG_WILD]: block.ip(4),
    [HUGE_WILD]: block.ip(4),
    'api.allowed.test': block.ip(5),
    'wild.test': block.ip(6),
  };
  for (const name of [
    'evil.test', 'xallowed.test', 'allowed.test.evil.test', 'allowed-test.evil.test', 'allowedxtest', 'allowed.testx',
    'allowed.test..', 'evil.test.', 'notwild.test', 'xwild.test', 'a.wild.test.evil.test', 'wild.test.evil.test', 'a.wildxtest',
    'a..wild.test', '.wild.test', 'allowed%2etest', 'plain%2etest', 'tinyproxy.stats', 'plainxtest', 'plain.test.evil.test',
  ]) {
    hosts[name] = evil;
  }
  return hosts;
}

const connect = (target: string, headers: string[] = [], method = 'CONNECT', version = ' HTTP/1.1'): string =>
  `${method} ${target}${version}\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;
const get = (url: string, headers: string[] = [], method = 'GET'): string =>
  `${method} ${url} HTTP/1.1\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;

const allow = (name: string, request: string, reaches: string): AttackCase => ({ name, request, verdict: 'allowed', reaches });
const deny = (name: string, request: string, status = 403): AttackCase => ({ name, request, verdict: 'denied', status });

function ipLiteralCases(label: string, ip: Ipv4Spellings, kind: 'connect' | 'http'): AttackCase[] {
  const spellings: Array<[string, string]> = [
    ['dotted', ip.dotted], ['decimal', ip.decimal], ['hex', ip.hex], ['octal', ip.octal],
    ['two-part', ip.twoPart], ['three-part', ip.threePart], ['dotted hex', ip.dottedHex],
    ['IPv4-mapped IPv6', `[${ip.mapped}]`], ['IPv4-mapped IPv6 (hex)', `[${ip.mappedHex}]`],
  ];
  return spellings.map(([how, text]) =>
    kind === 'connect'
      ? deny(`IP literal (${how}) of ${label}: CONNECT ${text}:443`, connect(`${text}:443`, [`Host: ${text}:443`]))
      : deny(`IP literal (${how}) of ${label}: GET http://${text}/`, get(`http://${text}/`, [`Host: ${text}`])),
  );
}

export function attackCases(block: LoopbackBlock): AttackCase[] {
  return [
    // --- what must keep working ------------------------------------------------------------
    allow('exact host, CONNECT 443', connect('allowed.test:443', ['Host: allowed.test:443']), 'allowed:443'),
    allow('exact host, uppercase', connect('ALLOWED.TEST:443'), 'allowed:443'),
    allow('exact host, mixed case', connect('Allowed.Test:443'), 'allowed:443'),
    allow('exact host, one trailing dot (the same FQDN)', connect('allowed.test.:443'), 'allowed:443'),
    allow('per-host port: allowed.test:8443', connect('allowed.test:8443'), 'allowed:8443'),
    allow('CONNECT with a mismatched Host header goes where the request line says', connect('allowed.test:443', ['Host: evil.test:443']), 'allowed:443'),
    allow('CONNECT with two spaces after the method', 'CONNECT  allowed.test:443 HTTP/1.1\r\n\r\n', 'allowed:443'),
    // tinyproxy splits the request line with sscanf("%[^ ] %[^ ] …"): a tab there is a separator.
    allow('CONNECT with a tab before the target', connect('\tallowed.test:443'), 'allowed:443'),
    allow('http:// entry also allows CONNECT 443', connect('plain.test:443'), 'plain:443'),
    allow('wildcard: one-label subdomain', connect('a.wild.test:443'), 'wild:443'),
    allow('wildcard: deep subdomain', connect('deep.er.a.wild.test:443'), 'wild:443'),
    allow('wildcard: uppercase subdomain', connect('A.WILD.TEST:443'), 'wild:443'),
    allow('wildcard: ~200-byte subdomain', connect(`${LONG_WILD}:443`), 'wild:443'),
    allow('wildcard: 585-byte subdomain (over 511 bytes)', connect(`${HUGE_WILD}:443`), 'wild:443'),
    allow('plain HTTP, absolute URI', get('http://plain.test/x', ['Host: plain.test']), 'plain:80'),
    allow('plain HTTP, explicit :80', get('http://plain.test:80/x'), 'plain:80'),
    allow('plain HTTP, no path', get('http://plain.test'), 'plain:80'),
    allow('plain HTTP, uppercase scheme and host', get('HTTP://PLAIN.TEST/'), 'plain:80'),
    allow('plain HTTP, absolute URI allowed + Host denied: the URI decides', get('http://plain.test/', ['Host: evil.test']), 'plain:80'),
    allow('plain HTTP, `@evil.test` in the path only', get('http://plain.test/@evil.test/'), 'plain:80'),
    allow('plain HTTP, 900-byte path', get(`http://plain.test/${'p'.repeat(900)}`), 'plain:80'),
    allow('transparent: relative request + Host: plain.test', get('/', ['Host: plain.test']), 'plain:80'),
    allow('transparent: Host in uppercase', get('/', ['Host: PLAIN.TEST']), 'plain:80'),

    // --- suffix, prefix and dot tricks -----------------------------------------------------
    deny('prefix: xallowed.test', connect('xallowed.test:443')),
    deny('suffix: allowed.test.evil.test', connect('allowed.test.evil.test:443')),
    deny('suffix: allowed-test.evil.test', connect('allowed-test.evil.test:443')),
    deny('suffix: allowed.testx', connect('allowed.testx:443')),
    deny('dot as a wildcard: allowedXtest', connect('allowedXtest:443')),
    deny('subdomain of an exact entry: api.allowed.test', connect('api.allowed.test:443')),
    deny('two trailing dots', connect('allowed.test..:443')),
    deny('denied host with a trailing dot', connect('evil.test.:443')),
    deny('plain HTTP, dot as a wildcard: plainXtest', get('http://plainXtest/')),
    deny('plain HTTP, suffix: plain.test.evil.test', get('http://plain.test.evil.test/')),

    // --- wildcards -------------------------------------------------------------------------
    deny("wildcard's apex: wild.test", connect('wild.test:443')),
    deny("wildcard's sibling: xwild.test", connect('xwild.test:443')),
    deny("wildcard's sibling: notwild.test", connect('notwild.test:443')),
    deny('wildcard as a prefix: a.wild.test.evil.test', connect('a.wild.test.evil.test:443')),
    deny('wildcard as a prefix: wild.test.evil.test', connect('wild.test.evil.test:443')),
    deny('wildcard, dot as a wildcard: a.wildXtest', connect('a.wildXtest:443')),
    deny('wildcard, empty label: a..wild.test', connect('a..wild.test:443')),
    deny('wildcard, leading dot: .wild.test', connect('.wild.test:443')),
    deny('wildcard host smuggled after a path: evil.test:443/.wild.test:443', connect('evil.test:443/.wild.test:443')),
    deny('wildcard on a port it does not name: a.wild.test:8443', connect('a.wild.test:8443')),
    deny('wildcard over plain HTTP (CONNECT-only entry)', get('http://a.wild.test/')),

    // --- ports -----------------------------------------------------------------------------
    deny('CONNECT to a port no entry names (ConnectPort refuses)', connect('allowed.test:22')),
    deny('CONNECT to port 80 of an http:// host', connect('plain.test:80')),
    deny('CONNECT to another host\'s port: plain.test:8443', connect('plain.test:8443')),
    deny('port written twice: allowed.test:443:443', connect('allowed.test:443:443')),
    deny('port with a leading zero: allowed.test:0443', connect('allowed.test:0443')),
    deny('port with a plus sign: allowed.test:+443', connect('allowed.test:+443')),
    deny('port with trailing junk: allowed.test:443abc', connect('allowed.test:443abc')),
    deny('port out of range: allowed.test:65979', connect('allowed.test:65979')),
    deny('CONNECT without a port', connect('allowed.test')),
    deny('plain HTTP to a non-80 port of an http:// host', get('http://plain.test:8080/')),
    deny('plain HTTP to port 443 of an http:// host', get('http://plain.test:443/')),
    deny('plain HTTP, port with a leading zero: :0080', get('http://plain.test:0080/')),
    deny('plain HTTP to an https-only host', get('http://allowed.test/')),
    deny('plain HTTP to an https-only host on its CONNECT port', get('http://allowed.test:8443/')),
    deny('CONNECT method with an absolute http:// URI (plain request to :443)', connect('http://plain.test:443/')),

    // --- userinfo and URL-syntax tricks ------------------------------------------------------
    deny('userinfo: a@allowed.test@evil.test', connect('a@allowed.test@evil.test:443')),
    deny('userinfo: allowed.test@evil.test', connect('allowed.test@evil.test:443')),
    deny('userinfo with port: allowed.test:443@evil.test:443', connect('allowed.test:443@evil.test:443')),
    deny('userinfo naming the denied host first: evil.test@allowed.test', connect('evil.test@allowed.test:443')),
    deny('http userinfo: http://allowed.test@evil.test/', get('http://allowed.test@evil.test/')),
    deny('http userinfo: http://allowed.test:80@evil.test/', get('http://allowed.test:80@evil.test/')),
    deny('http userinfo on an http host: http://plain.test@evil.test/', get('http://plain.test@evil.test/')),
    deny('http userinfo on an http host: http://plain.test:80@evil.test/', get('http://plain.test:80@evil.test/')),
    deny('fragment before @: http://plain.test#@evil.test/', get('http://plain.test#@evil.test/')),
    deny('query before @: http://plain.test?@evil.test/', get('http://plain.test?@evil.test/')),
    deny('backslash before @: http://plain.test\\@evil.test/', get('http://plain.test\\@evil.test/')),
    deny('percent-encoded dot: allowed%2etest', connect('allowed%2etest:443')),
    deny('percent-encoded dot over plain HTTP: plain%2etest', get('http://plain%2etest/')),
    deny('percent-encoded letter: %61llowed.test', connect('%61llowed.test:443')),

    // --- whitespace and control bytes --------------------------------------------------------
    deny('tab before the port', connect('allowed.test\t:443')),
    deny('space before the port (malformed)', connect('allowed.test :443'), 400),
    deny('two targets on one request line (malformed)', connect('evil.test:443 allowed.test:443'), 400),
    deny('carriage return inside the target', connect('evil.test:443\rallowed.test:443')),
    deny('Host header with a trailing tab (transparent)', get('/', ['Host: plain.test\t'])),

    // --- newlines: tinyproxy keeps a folded Host header's newline in the URL it filters ----------
    // With `$` closing the lines, REG_NEWLINE let `$` match before that newline: the first rows
    // passed the filter and failed only at name resolution (500). `\'` closes them at the end.
    deny('obs-fold with a bare LF: Host: plain.test<LF> x.evil.test', get('/', ['Host: plain.test\n x.evil.test'])),
    deny('obs-fold with a bare LF and a tab', get('/', ['Host: plain.test\n\tx.evil.test'])),
    deny('obs-fold, every line ended by a bare LF', 'GET / HTTP/1.1\nHost: plain.test\n x.evil.test\n\n'),
    deny('obs-fold with CRLF: Host: plain.test<CRLF> x.evil.test', get('/', ['Host: plain.test\r\n x.evil.test'])),
    deny('obs-fold after a wildcard host (CONNECT-only entry)', get('/', ['Host: a.wild.test\n x.evil.test'])),
    deny('lowercase `connect` + a folded Host', connect('allowed.test:443', ['Host: allowed.test\n x.evil.test'], 'connect')),
    // tinyproxy reads the port from `plain.test:80<LF> x.evil.test` and drops the rest: it goes
    // where the header names, an allowed host.
    allow('obs-fold after the port: the fold is dropped with the port', get('/', ['Host: plain.test:80\n x.evil.test']), 'plain:80'),
    // A LF ends the request line, so a CONNECT target cannot hold one: tinyproxy refuses these.
    deny('LF inside a CONNECT target (malformed)', 'CONNECT allowed.test:443\nevil.test:443 HTTP/1.1\r\n\r\n', 400),
    deny('LF inside a CONNECT target, denied host first (malformed)', 'CONNECT evil.test:443\nallowed.test:443 HTTP/1.1\r\n\r\n', 400),
    deny('CRLF inside a CONNECT target (malformed)', 'CONNECT allowed.test:443\r\n.evil.test:443 HTTP/1.1\r\n\r\n', 400),

    // --- IP literals and IPv6 ----------------------------------------------------------------
    ...ipLiteralCases('allowed.test', ipv4Spellings(block.ip(2)), 'connect'),
    ...ipLiteralCases('plain.test', ipv4Spellings(block.ip(3)), 'http'),
    deny('IPv6 loopback: CONNECT [::1]:443', connect('[::1]:443')),
    deny('IPv6 loopback without brackets: CONNECT ::1:443', connect('::1:443')),
    deny('IPv6 loopback over plain HTTP', get('http://[::1]/')),
    deny('the proxy itself: CONNECT 127.0.0.1', connect('127.0.0.1:443')),

    // --- absolute URI vs Host, relative (transparent) requests ----------------------------------
    deny('absolute URI denied + Host allowed', get('http://evil.test/', ['Host: plain.test'])),
    deny('CONNECT denied + Host allowed', connect('evil.test:443', ['Host: allowed.test:443'])),
    deny('transparent: Host denied', get('/', ['Host: evil.test'])),
    deny('transparent: Host of an https-only host', get('/', ['Host: allowed.test'])),
    deny('transparent: Host on a non-80 port', get('/', ['Host: plain.test:8080'])),
    deny('transparent: Host with userinfo', get('/', ['Host: plain.test@evil.test'])),
    deny('transparent: `@host` glued onto the path', get('@evil.test/', ['Host: plain.test'])),
    deny('transparent: no Host header (would be the proxy itself)', get('/'), 400),
    // The one request the filter cannot tell apart: tinyproxy builds `http://plain.test/x.evil.test:80/`
    // from this Host header, which the plain.test line matches. It fails closed only because the
    // resolver refuses a name with a `/` (500, nothing reached): docs/security.md, residual gaps.
    deny('transparent: Host with a `/` passes the filter, but names no host (500)', get('/', ['Host: plain.test/x.evil.test']), 500),
    deny('lowercase `connect` (transparent path) + Host', connect('allowed.test:443', ['Host: allowed.test'], 'connect')),
    deny('lowercase `connect` on an http host + Host', connect('plain.test:80', ['Host: plain.test'], 'connect')),
    deny('lowercase `connect`, no Host', connect('allowed.test:443', [], 'connect'), 400),
    deny('mixed-case `Connect`, no Host', connect('allowed.test:443', [], 'Connect'), 400),
    deny('https:// absolute URI (not CONNECT) + Host', get('https://allowed.test/', ['Host: allowed.test'])),
    deny('ftp:// absolute URI, no Host', get('ftp://allowed.test/'), 400),
    deny('HTTP/0.9 request to a denied host', 'GET http://evil.test/\r\n\r\n'),
    deny("tinyproxy's stats page", get('http://tinyproxy.stats/')),

    // --- very long names ---------------------------------------------------------------------
    deny('520-byte label in front of an exact entry', connect(`${'a'.repeat(520)}.allowed.test:443`)),
    deny('allowed.test + 900 bytes + .evil.test (log line cut at 800)', connect(`${HUGE_EVIL}:443`)),
    deny('900-byte name that cannot resolve (.invalid)', connect(`${'q'.repeat(900)}.invalid:443`)),
  ];
}
