/**
 * Loopback addresses for test upstreams. Each run takes a random 127.A.B.0/24 block so two suites
 * (the attack suite, the benchmark) running at once never fight over 127.0.0.2:443; the IP-literal
 * spellings are computed from the block, so "the upstream at that IP saw nothing" stays exact.
 */
import { randomInt } from 'node:crypto';

export interface LoopbackBlock {
  /** `127.A.B` */
  prefix: string;
  /** `127.A.B.<n>` */
  ip(n: number): string;
}

export function pickLoopbackBlock(): LoopbackBlock {
  const prefix = `127.${randomInt(100, 200)}.${randomInt(1, 255)}`;
  return { prefix, ip: (n) => `${prefix}.${n}` };
}

/** The ways inet_aton (and so getaddrinfo and tinyproxy) lets one IPv4 address be written. */
export interface Ipv4Spellings {
  dotted: string;
  /** One 32-bit number: 2130706434 */
  decimal: string;
  /** 0x7f000002 */
  hex: string;
  /** Every part in octal: 0177.0.0.02 */
  octal: string;
  /** a.b with b a 24-bit number: 127.2 for 127.0.0.2 */
  twoPart: string;
  /** a.b.c with c a 16-bit number */
  threePart: string;
  /** Every part in hex: 0x7f.0x0.0x0.0x2 */
  dottedHex: string;
  /** IPv4-mapped IPv6, dotted and hex: ::ffff:127.0.0.2, ::ffff:7f00:2 */
  mapped: string;
  mappedHex: string;
}

export function ipv4Spellings(ip: string): Ipv4Spellings {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not a dotted IPv4 address: ${ip}`);
  }
  const [a, b, c, d] = parts as [number, number, number, number];
  const value = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
  return {
    dotted: ip,
    decimal: String(value),
    hex: `0x${value.toString(16).padStart(8, '0')}`,
    octal: parts.map((p) => `0${p.toString(8)}`).join('.'),
    twoPart: `${a}.${(b << 16) + (c << 8) + d}`,
    threePart: `${a}.${b}.${(c << 8) + d}`,
    dottedHex: parts.map((p) => `0x${p.toString(16)}`).join('.'),
    mapped: `::ffff:${ip}`,
    mappedHex: `::ffff:${((a << 8) + b).toString(16)}:${((c << 8) + d).toString(16)}`,
  };
}
