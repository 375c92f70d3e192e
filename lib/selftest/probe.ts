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
  /** Seconds a connect may take before it is cut off (an on-link address nobody owns waits for ARP; checks.ts decides whether the silence was long enough). */
  connectTimeout: number;
}

/**
 * `bash -c SCRIPT probe PROXY_HOST PROXY_PORT CANARY TIMEOUT [WHAT IP PORT]…`. Sections start with
 * `@name`; connect results are `@connect WHAT EXIT T0 [@start T1] [@done T2] MESSAGE`, with bash's
 * $EPOCHREALTIME: T0 just before `timeout` was started, T1 just before the connect call, T2 when it
 * was answered. They bound how long a cut-off connect was really outstanding (at least TIMEOUT −
 * (T1 − T0): timeout's timer starts after T0), so a busy machine that started a connect late can
 * never pass for a silent address. The connects run in parallel, so the whole probe takes about
 * one connect timeout.
 */
export const PROBE_SCRIPT = [
  'proxy_host=$1 proxy_port=$2 canary=$3 limit=$4; shift 4',
  'echo @route4; cat /proc/net/route 2>/dev/null || echo @missing',
  'echo @route6; if [ -e /proc/net/ipv6_route ]; then cat /proc/net/ipv6_route; else echo @missing; fi',
  'echo @resolve; getent hosts "$proxy_host" || true',
  'connect() { local t0 out rc; t0=$EPOCHREALTIME; out=$(timeout "$limit" bash -c \'echo "@start $EPOCHREALTIME"; exec 3<>"/dev/tcp/$0/$1" && echo "@done $EPOCHREALTIME"\' "$2" "$3" 2>&1); rc=$?; echo "@connect $1 $rc $t0 ${out//$\'\\n\'/ }"; }',
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

/** One connect's end, and its clock readings in ms (absent when the probe did not print them). */
export interface ProbeConnect {
  exit: number;
  message: string;
  /** Before `timeout` was started. */
  beforeMs?: number;
  /** Just before the connect call, inside the timed process. */
  startMs?: number;
  /** When the connect was answered (connected). */
  doneMs?: number;
}

export interface ProbeOutput {
  route4?: string;
  route6?: string;
  resolve?: string;
  canary?: string;
  connects: Map<string, ProbeConnect>;
  /** The script ran to its end (a cut-off probe proves nothing). */
  complete: boolean;
}

export function parseProbeOutput(stdout: string): ProbeOutput {
  const sections = new Map<string, string[]>();
  const connects = new Map<string, ProbeConnect>();
  let current: string | undefined;
  let complete = false;
  for (const line of stdout.split('\n')) {
    const connect = /^@connect (\S+) (\d+) ?(.*)$/.exec(line);
    if (connect) {
      connects.set(connect[1]!, parseConnect(Number(connect[2]), connect[3] ?? ''));
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

/** $EPOCHREALTIME (seconds, a locale's decimal point) in ms. */
const epochMs = (text: string | undefined): number | undefined => (text === undefined ? undefined : Number(text.replace(',', '.')) * 1000);
const EPOCH = '(\\d+[.,]\\d+)';

/** `T0 @start T1 [@done T2] MESSAGE` → the readings, and the message without them. */
function parseConnect(exit: number, rest: string): ProbeConnect {
  const before = new RegExp(`^${EPOCH}(?: |$)`).exec(rest);
  let message = before ? rest.slice(before[0].length) : rest;
  const take = (marker: string): number | undefined => {
    const m = new RegExp(`(?:^| )@${marker} ${EPOCH}(?: |$)`).exec(message);
    if (!m) return undefined;
    message = `${message.slice(0, m.index)} ${message.slice(m.index + m[0].length)}`.trim();
    return epochMs(m[1]);
  };
  const startMs = take('start');
  const doneMs = take('done');
  return { exit, message: message.trim(), beforeMs: epochMs(before?.[1]), startMs, doneMs };
}
