/**
 * The probe that runs inside the agent's network namespace: a bash script (the sidecar image has
 * bash, `timeout`, `getent` and `cat`; the agent image is the user's and is not relied on) that only
 * READS the kernel's routing tables and makes the few connections the checks need, printing raw
 * sections. Every decision is made in checks.ts, from `parseProbeOutput`. Pure.
 *
 * Values reach the script as positional arguments, never spliced into its text.
 */

export interface ProbeTarget {
  /** Check name suffix: `unreachable:<what>`. */
  what: string;
  ip: string;
  port: number;
}

export interface ProbeInput {
  proxyHost: string;
  proxyPort: number;
  canary: string;
  targets: readonly ProbeTarget[];
  /** Seconds a connect may take before it counts as no answer (an on-link address nobody owns waits for ARP). */
  connectTimeout: number;
}

/**
 * `bash -c SCRIPT probe PROXY_HOST PROXY_PORT CANARY TIMEOUT [WHAT IP PORT]…`. Sections start with
 * `@name`; connect results are `@connect WHAT EXIT MESSAGE`. The connects run in parallel, so the
 * whole probe takes about one connect timeout.
 */
export const PROBE_SCRIPT = [
  'proxy_host=$1 proxy_port=$2 canary=$3 limit=$4; shift 4',
  'echo @route4; cat /proc/net/route 2>/dev/null || echo @missing',
  'echo @route6; if [ -e /proc/net/ipv6_route ]; then cat /proc/net/ipv6_route; else echo @missing; fi',
  'echo @resolve; getent hosts "$proxy_host" || true',
  'connect() { local out rc; out=$(timeout "$limit" bash -c \'exec 3<>"/dev/tcp/$0/$1"\' "$2" "$3" 2>&1); rc=$?; echo "@connect $1 $rc ${out//$\'\\n\'/ }"; }',
  'while [ $# -ge 3 ]; do connect "$1" "$2" "$3" & shift 3; done',
  'canary_out=$(timeout 3 bash -c \'exec 3<>"/dev/tcp/$0/$1" || exit 9; printf "CONNECT %s:443 HTTP/1.1\\r\\nHost: %s:443\\r\\n\\r\\n" "$2" "$2" >&3; IFS= read -r line <&3; printf "%s" "${line%$\'\\r\'}"\' "$proxy_host" "$proxy_port" "$canary" 2>&1)',
  'wait',
  'echo @canary; printf "%s\\n" "$canary_out"',
  'echo @end',
].join('\n');

export function probeArgs(input: ProbeInput): string[] {
  return [
    'probe', input.proxyHost, String(input.proxyPort), input.canary, String(input.connectTimeout),
    ...input.targets.flatMap((t) => [t.what, t.ip, String(t.port)]),
  ];
}

export interface ProbeOutput {
  route4?: string;
  route6?: string;
  resolve?: string;
  canary?: string;
  connects: Map<string, { exit: number; message: string }>;
  /** The script ran to its end (a cut-off probe proves nothing). */
  complete: boolean;
}

export function parseProbeOutput(stdout: string): ProbeOutput {
  const sections = new Map<string, string[]>();
  const connects = new Map<string, { exit: number; message: string }>();
  let current: string | undefined;
  let complete = false;
  for (const line of stdout.split('\n')) {
    const connect = /^@connect (\S+) (\d+) ?(.*)$/.exec(line);
    if (connect) {
      connects.set(connect[1]!, { exit: Number(connect[2]), message: connect[3] ?? '' });
      continue;
    }
    if (line === '@end') {
      complete = true;
      current = undefined;
      continue;
    }
    const header = /^@(route4|route6|resolve|canary)$/.exec(line);
    if (header) {
      current = header[1]!;
      sections.set(current, []);
      continue;
    }
    if (current) sections.get(current)!.push(line);
  }
  const text = (name: string): string | undefined => {
    const lines = sections.get(name);
    if (!lines) return undefined;
    const body = lines.join('\n').replace(/\n+$/, '');
    return body === '@missing' ? undefined : body;
  };
  return { route4: text('route4'), route6: text('route6'), resolve: text('resolve'), canary: text('canary'), connects, complete };
}
