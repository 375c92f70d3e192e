import { describe, expect, it } from 'vitest';
import { RISKY_HOSTS, patternOverlaps, riskyHost, rowMatches } from '../../lib/allowlist/risky-hosts.js';
import { broadHostWarning } from '../../lib/egress/suggest.js';
import { findRiskyEntries } from '../../lib/doctor/egress-checks.js';
import { parseAllowlist } from '../../lib/allowlist/parse.js';

/** A concrete host for a row: `*.` becomes `x.`, a one-label `*` becomes `eu-west-1`. */
const sample = (pattern: string): string =>
  pattern.replace(/^\*\./, 'x.').replace(/(^|\.)\*(\.|$)/g, '$1eu-west-1$2').replace(/-\*/g, '-eu-west-1');

describe('the one risky-host table', () => {
  it('holds what both old lists held (suggest and doctor), nothing dropped', () => {
    // From lib/egress/suggest.ts (USER_CONTENT, DOH) and lib/session/egress-checks.ts (STORAGE_HOSTS, DOH_HOSTS) before #10.
    const formerly = [
      'x.githubusercontent.com', 'gist.github.com', 'codeload.github.com', 'storage.googleapis.com', 'b.storage.googleapis.com',
      'firebasestorage.googleapis.com', 's3.amazonaws.com', 'b.s3.amazonaws.com', 's3.eu-west-1.amazonaws.com', 's3-eu-west-1.amazonaws.com',
      'b.s3.eu-west-1.amazonaws.com', 'a.blob.core.windows.net', 'a.web.core.windows.net', 'd1.cloudfront.net', 'a.r2.dev',
      'a.r2.cloudflarestorage.com', 'a.digitaloceanspaces.com', 'pastebin.com', 'www.pastebin.com', 'paste.ee', 'hastebin.com',
      'dpaste.com', 'dpaste.org', 'transfer.sh', 'file.io', 'dl.dropboxusercontent.com', 'drive.google.com', 'docs.google.com',
      'cdn.discordapp.com', 'a.ngrok.io', 'a.ngrok-free.app', 'a.trycloudflare.com', 'a.workers.dev', 'a.pages.dev', 'a.github.io',
      'a.gitlab.io', 'a.netlify.app', 'a.vercel.app', 'a.herokuapp.com', 'webhook.site', '0x0.st', 'termbin.com', 'ghostbin.co',
      'requestbin.net', 'a.pipedream.net', 'raw.githubusercontent.com', 'gist.githubusercontent.com',
      'dns.google', 'dns.google.com', 'cloudflare-dns.com', 'mozilla.cloudflare-dns.com', 'one.one.one.one', 'dns.quad9.net',
      'dns11.quad9.net', 'doh.opendns.com', 'dns.adguard.com', 'dns.adguard-dns.com', 'doh.cleanbrowsing.org', 'dns.nextdns.io',
      'doh.mullvad.net', 'dns.mullvad.net', 'doh.dns.sb', 'dns.alidns.com', 'doh.pub', 'dns.controld.com', 'freedns.controld.com',
    ];
    for (const host of formerly) {
      expect(riskyHost(host), host).toBeDefined();
      expect(broadHostWarning(host), host).toBeDefined();
      const loaded = parseAllowlist(host, 'list');
      expect(findRiskyEntries(loaded), host).toHaveLength(1);
    }
  });

  it('every row matches a host made from it, and suggest and doctor agree on it', () => {
    for (const r of RISKY_HOSTS) {
      const host = sample(r.pattern);
      expect(rowMatches(r, host), `${r.pattern} ~ ${host}`).toBe(true);
      expect(broadHostWarning(host), host).toBeDefined();
      expect(findRiskyEntries(parseAllowlist(host, 'list')), host).toHaveLength(1);
    }
  });

  it('a subdomain row does not match its apex; an exact row does not match subdomains', () => {
    expect(riskyHost('cloudfront.net')).toBeUndefined();
    expect(riskyHost('x.gist.github.com')).toBeUndefined();
    for (const host of ['github.com', 'registry.npmjs.org', 'sts.amazonaws.com', 'googleapis.com', 'amazonaws.com']) expect(riskyHost(host), host).toBeUndefined();
  });

  it('a wildcard entry overlaps a row when some host fits both', () => {
    const row = (p: string) => RISKY_HOSTS.find((r) => r.pattern === p)!;
    expect(patternOverlaps({ host: 'amazonaws.com', wildcard: true }, row('s3.*.amazonaws.com'))).toBe(true);
    expect(patternOverlaps({ host: 'us-east-1.amazonaws.com', wildcard: true }, row('s3.*.amazonaws.com'))).toBe(true);
    expect(patternOverlaps({ host: 's3.us-east-1.amazonaws.com', wildcard: true }, row('s3.*.amazonaws.com'))).toBe(false);
    expect(patternOverlaps({ host: 's3.us-east-1.amazonaws.com', wildcard: true }, row('*.s3.*.amazonaws.com'))).toBe(true);
    expect(patternOverlaps({ host: 'cloudfront.net', wildcard: true }, row('*.cloudfront.net'))).toBe(true);
    expect(patternOverlaps({ host: 'a.cloudfront.net', wildcard: true }, row('*.cloudfront.net'))).toBe(true);
    expect(patternOverlaps({ host: 'github.com', wildcard: true }, row('gist.github.com'))).toBe(true);
    expect(patternOverlaps({ host: 'gist.github.com', wildcard: true }, row('gist.github.com'))).toBe(false);
    expect(patternOverlaps({ host: 'npmjs.org', wildcard: true }, row('*.cloudfront.net'))).toBe(false);
  });
});
