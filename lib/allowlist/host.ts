/**
 * Host names as the allowlist accepts them: normalised (lowercase, one trailing dot dropped, IDN to
 * punycode) and validated strictly, because every accepted name ends up inside a regex the proxy
 * trusts. Pure; the public-suffix check loads tldts lazily (only for wildcard entries).
 */
import { domainToASCII, domainToUnicode } from 'node:url';
import { SELFTEST_CANARY_HOST } from '../names.js';
import { isPublicSuffix } from './public-suffix.js';

export interface Problem {
  message: string;
  fix: string;
}

export type HostResult = { ok: true; host: string; wildcard: boolean } | ({ ok: false } & Problem);

const MAX_LABEL = 63;
const MAX_NAME = 253;
const LABEL_CHARS = /^[a-z0-9_-]+$/;
const IP_FIX = 'allow the host name instead; drydock filters by name and rejects IP addresses in every spelling';

const fail = (message: string, fix: string): HostResult => ({ ok: false, message, fix });

/** Control characters would garble the terminal: show them as U+XXXX. */
// eslint-disable-next-line no-control-regex
export const printable = (text: string): string => text.replace(/[\x00-\x1f\x7f]/g, (c) => `U+${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`);
const showChar = (c: string): string => (printable(c) === c ? `\`${c}\`` : printable(c));

/**
 * WHATWG URL parsing (and so every HTTP client) reads a host whose last label is all digits or
 * `0x…` as an IPv4 address (`127.1`, `2130706433`, `0x7f000001`, `0177.0.0.1`), so such a name
 * can never mean a DNS name to us.
 */
export function endsInNumber(host: string): boolean {
  const last = host.split('.').pop() ?? '';
  return /^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/i.test(last);
}

function isValidPunycodeLabel(label: string): boolean {
  const decoded = domainToUnicode(label);
  return decoded !== '' && decoded !== label && domainToASCII(decoded) === label;
}

function toAscii(raw: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(raw)) return raw.toLowerCase();
  const ascii = domainToASCII(raw);
  return ascii === '' ? undefined : ascii;
}

/**
 * Normalise and validate `raw` (no scheme, no port). With `allowWildcard`, a leading `*.` makes it
 * a wildcard over the rest, which must not be a public suffix.
 */
export function normalizeHost(raw: string, opts: { allowWildcard: boolean }): HostResult {
  if (raw === '') return fail('the host name is empty', 'write a host name such as `example.com`');
  if (raw === '*' || raw === '*.') {
    return fail('a bare `*` would allow every host', 'list the hosts you need, or `*.example.com` for one domain');
  }
  const wildcard = raw.startsWith('*.');
  const body = wildcard ? raw.slice(2) : raw;
  if (body.includes('*')) {
    return fail(`\`*\` is only allowed as a leading \`*.\` (in \`${raw}\`)`, 'write `*.example.com` for any subdomain of example.com');
  }
  if (wildcard && !opts.allowWildcard) {
    return fail(`\`${raw}\` is a pattern, not a host`, 'give one host name, e.g. `registry.npmjs.org`');
  }
  const ascii = toAscii(body);
  if (ascii === undefined) {
    return fail(`\`${body}\` is not a valid internationalised host name`, 'check the spelling, or write its punycode (`xn--…`) form');
  }
  const host = ascii.endsWith('.') ? ascii.slice(0, -1) : ascii;
  if (endsInNumber(host)) return fail(`\`${body}\` is an IP address, not a host name`, IP_FIX);

  const labels = host.split('.');
  if (labels.some((l) => l === '')) {
    return fail(`\`${body}\` has an empty label (\`..\`, or a leading or doubled dot)`, 'remove the extra dot');
  }
  for (const label of labels) {
    if (!LABEL_CHARS.test(label)) {
      const bad = [...label].find((c) => !/[a-z0-9_-]/.test(c)) ?? '';
      return fail(`invalid character ${showChar(bad)} in host \`${printable(body)}\``, 'host names use only letters, digits, `-` and `_`');
    }
    if (label.startsWith('-') || label.endsWith('-')) {
      return fail(`label \`${label}\` in \`${body}\` starts or ends with \`-\``, 'check the spelling of the host name');
    }
    if (label.length > MAX_LABEL) {
      return fail(`label \`${label.slice(0, 20)}…\` is ${label.length} characters long (the limit is ${MAX_LABEL})`, 'check the host name');
    }
  }
  if (host.length > MAX_NAME) {
    return fail(`host name is ${host.length} characters long (the limit is ${MAX_NAME})`, 'check the host name');
  }
  if (labels[labels.length - 1] === 'localhost') {
    return fail(`\`${raw}\` is a loopback name: it would reach the proxy sidecar itself`, 'remove the line; nothing on the sidecar is meant to be reachable');
  }
  if (labels.length < 2) {
    return wildcard
      ? fail(`\`${raw}\` is a wildcard over a whole top-level domain`, 'list the hosts you need, or `*.example.com` for one domain')
      : fail(`\`${host}\` is a single-label name; it would resolve to an intranet host`, 'write the fully qualified name, e.g. `example.com`');
  }
  // Punycode labels must decode, and encode back to themselves. Node 20 and 22 answer an invalid
  // one with '' from domainToASCII; Node 24 hands it back unchanged from both directions, so
  // each label is decoded and re-encoded here (found by the unit tier on Node 24).
  if (labels.some((l) => l.startsWith('xn--') && !isValidPunycodeLabel(l))) {
    return fail(`\`${host}\` contains an invalid punycode (\`xn--\`) label`, 'write the name in Unicode or check the punycode');
  }
  if (wildcard ? SELFTEST_CANARY_HOST.endsWith(`.${host}`) : host === SELFTEST_CANARY_HOST) {
    return fail(`\`${raw}\` would allow drydock's self-test canary ${SELFTEST_CANARY_HOST}`, 'remove the line: every session start proves its jail by that name being refused');
  }
  if (wildcard && isPublicSuffix(host)) {
    return fail(
      `\`*.${host}\` is a wildcard over the public suffix \`${host}\`: it would match anyone's site`,
      `list the exact hosts you need, e.g. \`yourname.${host}\``,
    );
  }
  return { ok: true, host, wildcard };
}
