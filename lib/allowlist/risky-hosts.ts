/**
 * The one table of hosts that are a way out of the jail even when allowlisted on purpose: public
 * storage and user-content hosts (anything can be uploaded there or fetched from there) and
 * DNS-over-HTTPS resolvers (any name resolves through them, so data leaves in queries). Both
 * `egress suggest` (a warning above the suggested line) and doctor (a warning per allowlist entry
 * that overlaps a row) read it, so the two can never disagree. Pure.
 *
 * A row is written like an allowlist host, with one addition for region-style names:
 *   name.example      exactly that host
 *   *.name.example    any subdomain of it (not the name itself; list the apex as its own row)
 *   s3.*.amazonaws.com / s3-*.amazonaws.com   `*` inside the name stands for one label (or the rest
 *                     of one label), e.g. a cloud region
 */
export type RiskyHostKind = 'storage' | 'doh';

/** One host label of a row: a literal, any one label, or a label starting with a prefix. */
type LabelPattern = { literal: string } | { any: true } | { prefix: string };

export interface RiskyHost {
  /** The row as written, shown in warnings (`*.amazonaws.com (s3.amazonaws.com)`). */
  pattern: string;
  kind: RiskyHostKind;
  /** `*.` rows: one or more labels in front of `labels`. */
  subdomains: boolean;
  /** The fixed labels, right to left (TLD first). */
  labels: LabelPattern[];
}

/** Order matters only for which row a warning names: the first row an entry overlaps. */
const STORAGE = [
  'raw.githubusercontent.com', 'gist.githubusercontent.com', '*.githubusercontent.com', 'githubusercontent.com',
  'gist.github.com', 'codeload.github.com',
  'storage.googleapis.com', '*.storage.googleapis.com', 'firebasestorage.googleapis.com',
  's3.amazonaws.com', '*.s3.amazonaws.com', 's3.*.amazonaws.com', '*.s3.*.amazonaws.com', 's3-*.amazonaws.com', '*.s3-*.amazonaws.com',
  '*.blob.core.windows.net', '*.web.core.windows.net', '*.cloudfront.net', '*.r2.dev', '*.r2.cloudflarestorage.com',
  '*.digitaloceanspaces.com',
  'pastebin.com', 'www.pastebin.com', 'paste.ee', 'hastebin.com', 'www.hastebin.com', 'dpaste.com', 'dpaste.org',
  'transfer.sh', 'file.io', '0x0.st', 'termbin.com', 'ghostbin.co',
  'dropboxusercontent.com', '*.dropboxusercontent.com', 'drive.google.com', 'docs.google.com', 'cdn.discordapp.com',
  'webhook.site', 'requestbin.net', '*.pipedream.net',
  '*.ngrok.io', '*.ngrok-free.app', '*.trycloudflare.com', '*.workers.dev', '*.pages.dev',
  '*.github.io', '*.gitlab.io', '*.netlify.app', '*.vercel.app', '*.herokuapp.com',
];

const DOH = [
  'dns.google', 'dns.google.com', 'cloudflare-dns.com', '*.cloudflare-dns.com', 'mozilla.cloudflare-dns.com',
  'chrome.cloudflare-dns.com', 'security.cloudflare-dns.com', 'family.cloudflare-dns.com', 'one.one.one.one',
  'quad9.net', '*.quad9.net', 'dns.quad9.net', 'dns9.quad9.net', 'dns10.quad9.net', 'dns11.quad9.net',
  'doh.opendns.com', 'dns.adguard.com', 'dns.adguard-dns.com', 'nextdns.io', '*.nextdns.io', 'dns.nextdns.io',
  'doh.cleanbrowsing.org', 'doh.mullvad.net', 'dns.mullvad.net', 'doh.dns.sb', 'dns.alidns.com', 'doh.pub',
  'dns.controld.com', 'freedns.controld.com',
];

function row(pattern: string, kind: RiskyHostKind): RiskyHost {
  const subdomains = pattern.startsWith('*.');
  const rest = subdomains ? pattern.slice(2) : pattern;
  const labels = rest
    .split('.')
    .reverse()
    .map((label): LabelPattern => (label === '*' ? { any: true } : label.endsWith('*') ? { prefix: label.slice(0, -1) } : { literal: label }));
  return { pattern, kind, subdomains, labels };
}

export const RISKY_HOSTS: readonly RiskyHost[] = [...STORAGE.map((p) => row(p, 'storage')), ...DOH.map((p) => row(p, 'doh'))];

function labelMatches(pattern: LabelPattern, label: string): boolean {
  if ('literal' in pattern) return pattern.literal === label;
  if ('prefix' in pattern) return label.startsWith(pattern.prefix) && label.length > pattern.prefix.length;
  return label !== '';
}

/** Does this row match one host name? */
export function rowMatches(risky: RiskyHost, host: string): boolean {
  const labels = host.toLowerCase().split('.').reverse();
  const fixed = risky.labels.length;
  if (labels.length < fixed || !risky.labels.every((p, i) => labelMatches(p, labels[i]!))) return false;
  return risky.subdomains ? labels.length > fixed && labels.slice(fixed).every((l) => l !== '') : labels.length === fixed;
}

/** The first row a host falls under, if any. */
export function riskyHost(host: string): RiskyHost | undefined {
  return RISKY_HOSTS.find((r) => rowMatches(r, host));
}

/** An allowlist host pattern: `*.x` (wildcard) means any subdomain of x, not x itself. */
export interface HostPattern {
  host: string;
  wildcard: boolean;
}

/**
 * Does an allowlist host pattern allow at least one host this row matches? An exact host: the row
 * matches it. A wildcard `*.b`: some name `<labels>.b` fits the row, i.e. b's labels fit the row's
 * rightmost labels and the row still has room for at least one label in front of b.
 */
export function patternOverlaps(entry: HostPattern, risky: RiskyHost): boolean {
  if (!entry.wildcard) return rowMatches(risky, entry.host);
  const base = entry.host.toLowerCase().split('.').reverse();
  const fixed = risky.labels.length;
  const shared = Math.min(base.length, fixed);
  for (let i = 0; i < shared; i++) if (!labelMatches(risky.labels[i]!, base[i]!)) return false;
  return base.length < fixed || risky.subdomains;
}
