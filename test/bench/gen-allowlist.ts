/**
 * A deterministic, realistic allowlist of any size for the benchmark: half exact hosts, half
 * `*.` wildcards, a sprinkling of plain-HTTP and per-port entries as real lists have them. The
 * same (size, seed) always gives the same text, so two runs of the bench compile the same filter.
 *
 * Every registrable domain carries a number, so no two entries overlap (nothing is subsumed and
 * the compiled filter really holds `size` entries) and no wildcard lands on a public suffix from
 * the PSL's private section (`*.github.io`-like names would be rejected by the parser).
 */

/** mulberry32: tiny, fast, good enough to pick words; NOT for anything secret. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'acme', 'alpha', 'apex', 'aqua', 'arc', 'atlas', 'aurora', 'axis', 'beacon', 'bit', 'blue', 'bolt',
  'bright', 'byte', 'cargo', 'cedar', 'cell', 'chart', 'cinder', 'cipher', 'civic', 'clear', 'cloud',
  'cobalt', 'code', 'comet', 'core', 'craft', 'crest', 'crypt', 'cube', 'dash', 'data', 'delta',
  'dock', 'drift', 'echo', 'edge', 'ember', 'epoch', 'falcon', 'fern', 'field', 'flare', 'flow',
  'flux', 'forge', 'frame', 'fuse', 'gate', 'gear', 'glade', 'grid', 'harbor', 'hatch', 'helix',
  'hive', 'hub', 'iron', 'jade', 'jet', 'kernel', 'kite', 'lab', 'lake', 'lane', 'leaf', 'lens',
  'light', 'link', 'loop', 'lumen', 'lynx', 'maple', 'matrix', 'mesa', 'mint', 'mode', 'moss',
  'nexus', 'node', 'north', 'nova', 'oak', 'orbit', 'pact', 'peak', 'pixel', 'pine', 'pivot',
  'planet', 'point', 'polar', 'port', 'prism', 'pulse', 'quant', 'quartz', 'radar', 'rail', 'range',
  'relay', 'ridge', 'river', 'rock', 'root', 'route', 'sage', 'scale', 'scope', 'shard', 'shift',
  'signal', 'silver', 'slate', 'solar', 'spark', 'sphere', 'spring', 'stack', 'star', 'stone',
  'stream', 'summit', 'swift', 'sync', 'tide', 'timber', 'token', 'trail', 'true', 'tunnel', 'unit',
  'vale', 'vault', 'vector', 'verge', 'vertex', 'vista', 'volt', 'wave', 'wire', 'yard', 'zen', 'zone',
];
const SUBDOMAINS = [
  'api', 'cdn', 'static', 'assets', 'registry', 'download', 'files', 'auth', 'login', 'mirror',
  'packages', 'repo', 'objects', 'media', 'edge', 'ws', 'events', 'uploads', 'docs', 'git',
];
const TLDS = ['com', 'com', 'com', 'org', 'net', 'io', 'dev', 'co.uk', 'de', 'app', 'cloud', 'ai'];

export type GeneratedKind = 'exact' | 'wildcard' | 'http' | 'port';

export interface GeneratedEntry {
  /** The allowlist line as a user would write it. */
  line: string;
  kind: GeneratedKind;
  /** A concrete host the entry allows (for a wildcard, one of its subdomains). */
  sampleHost: string;
  /** The port a request to sampleHost uses (443 for CONNECT, 80 for plain HTTP). */
  port: number;
  /** The entry's unique label (`<word><word><i>`): lets the bench find it in a compiled line fast. */
  token: string;
}

export interface GeneratedAllowlist {
  text: string;
  entries: GeneratedEntry[];
}

export interface GenerateOptions {
  size: number;
  seed?: number;
  /** One entry in this many is `http://host` (plain HTTP too). Default 20. */
  httpEvery?: number;
  /** One entry in this many is `host:8443`. Default 50. */
  portEvery?: number;
}

const pick = <T>(random: () => number, list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;

/** The registrable domain of entry i: two words and a number, unique per i. */
function domainFor(random: () => number, i: number): { token: string; domain: string } {
  const token = `${pick(random, WORDS)}${pick(random, WORDS)}${i}`;
  return { token, domain: `${token}.${pick(random, TLDS)}` };
}

export function generateAllowlist(options: GenerateOptions): GeneratedAllowlist {
  const { size, seed = 7, httpEvery = 20, portEvery = 50 } = options;
  const random = seededRandom(seed);
  const entries: GeneratedEntry[] = [];
  for (let i = 0; i < size; i += 1) {
    const { token, domain } = domainFor(random, i);
    const sub = pick(random, SUBDOMAINS);
    if (i % 2 === 1) {
      // Wildcards: half over the registrable domain, half over a subdomain of it.
      const base = random() < 0.5 ? domain : `${sub}.${domain}`;
      entries.push({ line: `*.${base}`, kind: 'wildcard', sampleHost: `${pick(random, SUBDOMAINS)}.${base}`, port: 443, token });
    } else if (i % httpEvery === 0) {
      entries.push({ line: `http://${sub}.${domain}`, kind: 'http', sampleHost: `${sub}.${domain}`, port: 80, token });
    } else if (i % portEvery === 2) {
      entries.push({ line: `${sub}.${domain}:8443`, kind: 'port', sampleHost: `${sub}.${domain}`, port: 8443, token });
    } else {
      entries.push({ line: `${sub}.${domain}`, kind: 'exact', sampleHost: `${sub}.${domain}`, port: 443, token });
    }
  }
  const header = `# generated by test/bench/gen-allowlist.ts: ${size} entries, seed ${seed}\n`;
  return { text: header + entries.map((e) => e.line).join('\n') + '\n', entries };
}

/**
 * The naive filter the issue compares against: one anchored regex per rule, in list order, the
 * way the older bash drydock wrote them. Only for contrast; drydock never emits this.
 */
export function naiveFilter(entries: readonly GeneratedEntry[]): string {
  const esc = (host: string) => host.replace(/\./g, '\\.');
  const lines: string[] = [];
  for (const e of entries) {
    const host = e.line.replace(/^http:\/\//, '').replace(/:\d+$/, '');
    const port = e.kind === 'port' ? 8443 : 443;
    const hostRe = host.startsWith('*.') ? `([-a-z0-9_]+\\.)+${esc(host.slice(2))}` : esc(host);
    lines.push(`^${hostRe}\\.?:${port}$`);
    if (e.kind === 'http') lines.push(`^http://${hostRe}\\.?(:80)?(/|$)`);
  }
  return `${lines.join('\n')}\n`;
}
