/**
 * "Is this name a public suffix?" via tldts (ICANN and private PSL sections). tldts is ~200 KB of
 * data, so it is loaded synchronously on first use only: a list without wildcard entries (and the
 * `allowlist check` path for such a list) never pays for it. `createRequire` keeps esbuild from
 * pulling it into the start-up chunk; at run time it resolves from the package's node_modules.
 */
import { createRequire } from 'node:module';

type Tldts = typeof import('tldts');

let tldts: Tldts | undefined;

function load(): Tldts {
  tldts ??= createRequire(import.meta.url)('tldts') as Tldts;
  return tldts;
}

/** True when `host` itself is a public suffix, e.g. `com`, `co.uk`, `github.io`, `s3.amazonaws.com`. */
export function isPublicSuffix(host: string): boolean {
  return load().getPublicSuffix(host, { allowPrivateDomains: true }) === host;
}

/** For tests and benchmarks: whether tldts has been loaded in this process. */
export function publicSuffixListLoaded(): boolean {
  return tldts !== undefined;
}
