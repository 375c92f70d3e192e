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
  /** The control: an owned address (the sidecar's, on the session network) that must answer. */
  control: { ip: string; port: number };
  targets: readonly ProbeTarget[];
  /** Seconds the connects get to start before the first look at the socket table. */
  settle: number;
  /** Seconds between the two looks (checks.ts decides whether that was long enough). */
  window: number;
}

/**
 * `bash -c SCRIPT probe PROXY_HOST PROXY_PORT CANARY SETTLE WINDOW`, and on stdin (probeStdin) the
 * addresses only an inspect of the running session knows: `CONTROL_IP CONTROL_PORT`, then one
 * `WHAT IP PORT` line per target. The script reads the routes and the proxy's name first, so the
 * exec's start and those reads overlap with drydock's inspect; then it reads stdin (no input:
 * `@no-input`, and it ends without `@end`), starts the connects and asks the canary while they start.
 *
 * Sections start with `@name`; a connect that ended prints `@connect WHAT EXIT MESSAGE` (the
 * control's is waited for, under `timeout 3`; the targets' are not). The evidence for silence is
 * the kernel's own: the namespace's socket table (/proc/net/tcp) read twice, `@tcp a|b T`
 * … `@tcp-end a|b T` with bash's $EPOCHREALTIME around each read, SETTLE seconds after the connects
 * were started and WINDOW seconds apart. A socket still in SYN_SENT in both reads was unanswered
 * for at least the time between them, however late any process of the probe got to run.
 * Connects still waiting at the end are killed (each is its own process group: `set -m`).
 */
export const PROBE_SCRIPT = [
  // Job control: each connect runs in its own process group, so it can be ended whole (below).
  'set -m; proxy_host=$1 proxy_port=$2 canary=$3 settle=$4 window=$5; shift 5',
  'echo @route4; cat /proc/net/route 2>/dev/null || echo @missing',
  'echo @route6; if [ -e /proc/net/ipv6_route ]; then cat /proc/net/ipv6_route; else echo @missing; fi',
  'echo @resolve; getent hosts "$proxy_host" || true',
  'IFS=" " read -r control_ip control_port || { echo @no-input; exit 0; }',
  'connect() { local err rc; err=$(bash -c \'exec 3<>"/dev/tcp/$0/$1"\' "$2" "$3" 2>&1); rc=$?; echo "@connect $1 $rc ${err//$\'\\n\'/ }"; }',
  'while IFS=" " read -r what ip port; do connect "$what" "$ip" "$port" & done',
  '( err=$(timeout 3 bash -c \'exec 3<>"/dev/tcp/$0/$1"\' "$control_ip" "$control_port" 2>&1); rc=$?; echo "@connect @control $rc ${err//$\'\\n\'/ }" ) & control=$!',
  // The canary's round trip to the proxy is the connects' time to start (SETTLE adds to it).
  'canary_out=$(timeout 3 bash -c \'exec 3<>"/dev/tcp/$0/$1" || exit 9; printf "CONNECT %s:443 HTTP/1.1\\r\\nHost: %s:443\\r\\n\\r\\n" "$2" "$2" >&3; IFS= read -r line <&3; printf "%s" "${line%$\'\\r\'}"\' "$proxy_host" "$proxy_port" "$canary" 2>&1)',
  'echo @canary; printf "%s\\n" "$canary_out"',
  'look() { echo "@tcp $1 $EPOCHREALTIME"; cat /proc/net/tcp; echo "@tcp-end $1 $EPOCHREALTIME"; }',
  'sleep "$settle"; look a; sleep "$window"; look b',
  'wait "$control"',
  'echo @end',
  // An exec does not end with its container, and a connect still waiting keeps the exec's output
  // open: every connect's process group goes now, so the exec ends and nothing lingers in the holder.
  'for job in $(jobs -p); do kill -KILL -- "-$job" 2>/dev/null; done; exit 0',
].join('\n');

export function probeArgs(input: Pick<ProbeInput, 'proxyHost' | 'proxyPort' | 'canary' | 'settle' | 'window'>): string[] {
  return ['probe', input.proxyHost, String(input.proxyPort), input.canary, String(input.settle), String(input.window)];
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const WHAT = /^[a-z0-9@.:-]+$/;

/**
 * The probe's stdin: the control, then the targets, one line each. Addresses come from the engine's
 * inspect: anything that is not a plain IPv4 address or a port is refused here (a bug or a lying
 * engine must not become extra words on a line), and the checks then miss that target and fail.
 */
export function probeStdin(input: Pick<ProbeInput, 'control' | 'targets'>): string {
  const port = (p: number) => Number.isInteger(p) && p > 0 && p < 65536;
  const lines = [`${IPV4.test(input.control.ip) ? input.control.ip : '0.0.0.0'} ${port(input.control.port) ? input.control.port : 1}`];
  for (const t of input.targets) if (WHAT.test(t.what) && IPV4.test(t.ip) && port(t.port)) lines.push(`${t.what} ${t.ip} ${t.port}`);
  return `${lines.join('\n')}\n`;
}

/** One connect that ended: bash's exit code and what it said. */
export interface ProbeConnect {
  exit: number;
  message: string;
}

/** One row of /proc/net/tcp: addresses as `a.b.c.d:port`, the state as the kernel's number (1 ESTABLISHED, 2 SYN_SENT, …). */
export interface TcpSocket {
  local: string;
  remote: string;
  state: number;
  inode: string;
}

/** One read of the socket table, between two clock readings (ms). */
export interface TcpLook {
  startMs?: number;
  endMs?: number;
  sockets: TcpSocket[];
}

export interface ProbeOutput {
  route4?: string;
  route6?: string;
  resolve?: string;
  canary?: string;
  connects: Map<string, ProbeConnect>;
  /** The control's connect (`@control`). */
  control?: ProbeConnect;
  looks: Map<string, TcpLook>;
  /** The script ran to its end (a cut-off probe proves nothing). */
  complete: boolean;
}

/** $EPOCHREALTIME (seconds, a locale's decimal point) in ms. */
const epochMs = (text: string | undefined): number | undefined => (text === undefined ? undefined : Number(text.replace(',', '.')) * 1000);

/** /proc/net/tcp writes an IPv4 address as the little-endian hex of its 32 bits, the port as big-endian hex. */
function tcpAddress(hex: string): string {
  const [ip, port] = hex.split(':');
  const bytes = [0, 2, 4, 6].map((i) => parseInt(ip!.slice(i, i + 2), 16)).reverse();
  return `${bytes.join('.')}:${parseInt(port!, 16)}`;
}

const TCP_ROW = /^\s*\d+:\s+([0-9A-Fa-f]{8}:[0-9A-Fa-f]{4})\s+([0-9A-Fa-f]{8}:[0-9A-Fa-f]{4})\s+([0-9A-Fa-f]{2})\s+\S+\s+\S+\s+\S+\s+\d+\s+\d+\s+(\d+)/;

export function parseProbeOutput(stdout: string): ProbeOutput {
  const sections = new Map<string, string[]>();
  const connects = new Map<string, ProbeConnect>();
  const looks = new Map<string, TcpLook>();
  let control: ProbeConnect | undefined;
  let current: string | undefined;
  let look: TcpLook | undefined;
  let complete = false;
  for (const line of stdout.split('\n')) {
    // Connects end at any moment, so their lines may land inside another section.
    const connect = /^@connect (\S+) (\d+) ?(.*)$/.exec(line);
    if (connect) {
      const result = { exit: Number(connect[2]), message: (connect[3] ?? '').trim() };
      if (connect[1] === '@control') control = result;
      else connects.set(connect[1]!, result);
      continue;
    }
    const lookStart = /^@tcp (a|b) (\d+[.,]\d+)$/.exec(line);
    if (lookStart) {
      current = undefined;
      look = { startMs: epochMs(lookStart[2]), sockets: [] };
      looks.set(lookStart[1]!, look);
      continue;
    }
    const lookEnd = /^@tcp-end (a|b) (\d+[.,]\d+)$/.exec(line);
    if (lookEnd) {
      if (look && looks.get(lookEnd[1]!) === look) look.endMs = epochMs(lookEnd[2]);
      look = undefined;
      continue;
    }
    if (look) {
      const row = TCP_ROW.exec(line);
      if (row) look.sockets.push({ local: tcpAddress(row[1]!), remote: tcpAddress(row[2]!), state: parseInt(row[3]!, 16), inode: row[4]! });
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
  return { route4: text('route4'), route6: text('route6'), resolve: text('resolve'), canary: text('canary'), connects, control, looks, complete };
}
