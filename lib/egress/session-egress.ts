/**
 * Everything a contained session's sidecar reads, from one set of entries: the compiled filter,
 * tinyproxy.conf and the refusal pages, for one filter GENERATION. Pure. Used for the first
 * render (`run`) and for every live change (`allowlist add|remove`), so both write the same files.
 *
 * A generation has its own check host, `drydock-reload-<hex>.invalid`: the filter allows it (plain
 * HTTP) and the config makes it tinyproxy's stats host, so the proxy answers a request for it
 * itself (200, no lookup, no connection) only once it uses this generation's config AND filter.
 * That is how a live reload is confirmed (templates/egress/drydock-egress-reload). The agent can
 * reach that name too; all it gets is tinyproxy's counters page. `.invalid` never resolves.
 */
import { compileFilter, BUFFER_END, BUFFER_START, MAX_FILTER_LINE, type CompiledFilter } from '../allowlist/compile.js';
import type { AllowEntry } from '../allowlist/types.js';
import { FILE_NAMES, SIDECAR_CONF_DIR } from '../names.js';
import { checkHostOf } from './check-host.js';
import { refusalPages } from './refusal-pages.js';
import { renderResolverConf } from './address-floor.js';
import { privateDomains } from '../allowlist/private.js';

export { checkHostOf, isCheckHost } from './check-host.js';
import { renderTinyproxyConf } from './tinyproxy-conf.js';

export interface SessionEgressInput {
  sessionId: string;
  project: string;
  /** The session's effective entries (baseline + global + project), already parsed and checked. */
  entries: readonly AllowEntry[];
  observe: boolean;
  /** 8–32 lowercase hex digits, new for every change (lib/live/apply.ts draws it). */
  generation: string;
  /** MaxClients and Timeout (settings.limits at `run`; the session's own at a live change). */
  proxyLimits?: { maxClients?: number; idleTimeoutSeconds?: number };
  /**
   * The address floor's upstream resolvers (the host's: floor-files.ts). Given, the files include
   * the sidecar resolver's config with this generation's `private:` domains (compose sidecars);
   * absent, no resolver config (the Kubernetes proxy Pod, whose floor is its NetworkPolicy).
   */
  resolverServers?: readonly string[];
}

export interface SessionEgressFiles {
  generation: string;
  checkHost: string;
  compiled: CompiledFilter;
  /** File name (inside the session's egress directory) → content. */
  files: Record<string, string>;
}

export function renderSessionEgress(input: SessionEgressInput): SessionEgressFiles {
  const checkHost = checkHostOf(input.generation);
  const check: AllowEntry = {
    canonical: `http://${checkHost}`,
    rules: [{ protocol: 'http', host: checkHost, wildcard: false, port: 80 }],
    source: { file: 'drydock (reload check)', line: 0 },
  };
  const compiled = compileFilter([...input.entries, check]);
  const pages = refusalPages({ sessionId: input.sessionId, project: input.project });
  const conf = renderTinyproxyConf({
    compiled,
    filterPath: `${SIDECAR_CONF_DIR}/${FILE_NAMES.filter}`,
    observe: input.observe,
    statHost: checkHost,
    ...input.proxyLimits,
    errorFiles: pages.map((page) => ({ status: page.status, path: `${SIDECAR_CONF_DIR}/${page.file}` })),
  });
  const files: Record<string, string> = { [FILE_NAMES.filter]: compiled.filter, [FILE_NAMES.tinyproxyConf]: conf };
  for (const page of pages) files[page.file] = page.content;
  if (input.resolverServers) {
    files[FILE_NAMES.resolverConf] = renderResolverConf({ privateDomains: privateDomains(input.entries), servers: input.resolverServers });
  }
  // The check entry is drydock's, not the user's: counts say what the user's lists gave.
  return { generation: input.generation, checkHost, compiled: { ...compiled, entryCount: input.entries.length }, files };
}

/**
 * What must hold before any sidecar sees a generation; a non-empty answer means nothing is written.
 * The compiler is trusted to write correct regexes (its property tests); this catches what would
 * make tinyproxy itself misread the file: a line over its 511-byte buffer, a line that does not
 * parse as a regex, a missing check line, a config that lost its deny-by-default lines.
 */
export function checkSessionEgress(egress: SessionEgressFiles, observe: boolean): string[] {
  const problems: string[] = [];
  const filter = egress.files[FILE_NAMES.filter] ?? '';
  const conf = egress.files[FILE_NAMES.tinyproxyConf] ?? '';
  const lines = filter.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  const regexes: RegExp[] = [];
  lines.forEach((line, index) => {
    if (Buffer.byteLength(line) > MAX_FILTER_LINE) problems.push(`filter line ${index + 1} is ${Buffer.byteLength(line)} bytes (tinyproxy reads at most 511)`);
    try {
      regexes.push(new RegExp(line.replaceAll(BUFFER_START, '^').replaceAll(BUFFER_END, '$'), 'i'));
    } catch (error) {
      problems.push(`filter line ${index + 1} is not a regular expression: ${String(error)}`);
    }
  });
  const url = `http://${egress.checkHost}/`;
  if (!regexes.some((re) => re.test(url))) problems.push(`the filter does not allow its check host ${egress.checkHost}`);
  if (!conf.includes(`\nStatHost "${egress.checkHost}"\n`)) problems.push('tinyproxy.conf does not name the check host');
  if (!observe) {
    for (const directive of ['FilterDefaultDeny Yes', 'FilterURLs Yes', `Filter "${SIDECAR_CONF_DIR}/${FILE_NAMES.filter}"`]) {
      if (!conf.split('\n').includes(directive)) problems.push(`tinyproxy.conf lacks \`${directive}\``);
    }
    if (!/^ConnectPort \d+$/m.test(conf)) problems.push('tinyproxy.conf has no ConnectPort line (tinyproxy would allow every CONNECT port)');
  }
  return problems;
}
