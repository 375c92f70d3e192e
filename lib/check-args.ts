/**
 * The argument shapes `allowlist check` takes on its fast path (lib/check-fast.ts). Pure. Anything
 * else — another flag, `--project=NAME`, `--help`, a second host — is undefined, and the full CLI
 * (commander) handles it as always.
 */
export interface CheckArgs {
  host: string;
  http: boolean;
  json: boolean;
  project?: string;
}

export function parseCheckArgs(args: readonly string[]): CheckArgs | undefined {
  if (args[0] !== 'allowlist' || args[1] !== 'check') return undefined;
  let host: string | undefined;
  let project: string | undefined;
  let http = false;
  let json = false;
  for (let i = 2; i < args.length; i += 1) {
    const arg = args[i] as string;
    const next = args[i + 1];
    if (arg === '--http') http = true;
    else if (arg === '--json') json = true;
    else if (arg === '--project' && next !== undefined && !next.startsWith('-')) {
      project = next;
      i += 1;
    } else if (arg.startsWith('-') || host !== undefined) return undefined;
    else host = arg;
  }
  return host === undefined ? undefined : { host, http, json, ...(project === undefined ? {} : { project }) };
}
