/**
 * The script the throw-away probe Pod runs (bash, in the sidecar image): does the cluster enforce
 * the agent's NetworkPolicy? It prints exactly one verdict line and exits with its code:
 *   0 `drydock-probe: enforced`       its proxy answered, the API server did not
 *   1 `drydock-probe: not-enforced`   it reached the API server directly: policies are ignored
 *   2 `drydock-probe: inconclusive`   it could not reach its own proxy, or had nothing to test
 * Only verdict 0 lets a session start. The control connection to the proxy is what makes a
 * failed direct connection mean something: a probe whose network is simply broken is not taken
 * for an enforcing cluster. The direct target is the API server's Service address, which the
 * kubelet gives every Pod and which every Pod reaches when no policy stops it.
 */
export const PROBE_VERDICTS = {
  enforced: 'drydock-probe: enforced',
  notEnforced: 'drydock-probe: not-enforced',
  inconclusive: 'drydock-probe: inconclusive',
} as const;

/** Seconds each connection attempt may take; a dropped SYN is what enforcement usually looks like. */
export const PROBE_CONNECT_TIMEOUT_S = 5;

export const PROBE_SCRIPT = [
  'set -u',
  `connects() { timeout ${PROBE_CONNECT_TIMEOUT_S} bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }`,
  'if ! connects "$1" "$2"; then',
  `  echo "${PROBE_VERDICTS.inconclusive} cannot reach its proxy $1:$2"; exit 2`,
  'fi',
  'api_host="${KUBERNETES_SERVICE_HOST:-}"; api_port="${KUBERNETES_SERVICE_PORT:-443}"',
  'if [ -z "$api_host" ]; then',
  `  echo "${PROBE_VERDICTS.inconclusive} no KUBERNETES_SERVICE_HOST to test against"; exit 2`,
  'fi',
  'if connects "$api_host" "$api_port"; then',
  `  echo "${PROBE_VERDICTS.notEnforced} connected to $api_host:$api_port directly"; exit 1`,
  'fi',
  `echo "${PROBE_VERDICTS.enforced} proxy reachable, $api_host:$api_port not"`,
].join('\n');
