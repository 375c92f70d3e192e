/**
 * Network probes run INSIDE a container (the agent, a neighbour) as one bash script, one curl per
 * probe, and their results read back from its output. Pure: script text out, results in.
 */

export interface ProbeSpec {
  name: string;
  /** curl arguments (the URL included); -sS, a time limit and the result format are added. */
  curl: string[];
}

export interface ProbeResult {
  name: string;
  /** curl's exit code: 0 done, 6 name not resolved, 7 no connection, 28 timed out, 56 CONNECT refused… */
  exit: number;
  /** The proxy's answer to CONNECT (000 when there was no CONNECT). */
  connect: number;
  /** The final HTTP status (000 when none arrived). */
  code: number;
  /** Everything curl printed: the upstream's body, or curl's error. */
  text: string;
}

export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

const MARK = '@@probe';

/** A script that first prints when it started (ms since the epoch), then one line per probe. */
export function probeScript(probes: readonly ProbeSpec[], timeoutSeconds = 5): string {
  const lines = [
    'echo "first-command $(date +%s%3N)"',
    `probe() { name=$1; shift; out=$(curl -sS -m ${timeoutSeconds} -w '\\n${MARK} %{http_connect} %{http_code}' "$@" 2>&1); rc=$?; printf '%s\\t%s\\t%s\\n' "$name" "$rc" "$(printf '%s' "$out" | tr '\\n\\t' '  ')"; }`,
    ...probes.map((p) => `probe ${shellQuote(p.name)} ${p.curl.map(shellQuote).join(' ')}`),
  ];
  return lines.join('\n');
}

export function parseProbes(output: string): Map<string, ProbeResult> {
  const results = new Map<string, ProbeResult>();
  for (const line of output.split('\n')) {
    const [name, exit, text] = line.split('\t');
    if (name === undefined || exit === undefined || text === undefined || !/^\d+$/.test(exit)) continue;
    const codes = new RegExp(`${MARK} (\\d{3}) (\\d{3})`).exec(text);
    results.set(name, {
      name,
      exit: Number(exit),
      connect: codes ? Number(codes[1]) : 0,
      code: codes ? Number(codes[2]) : 0,
      text: text.replace(new RegExp(`\\s*${MARK}.*$`), '').trim(),
    });
  }
  return results;
}

/** The `first-command <ms>` line of a probe script's output. */
export function firstCommandAt(output: string): number | undefined {
  const match = /^first-command (\d{13})$/m.exec(output);
  return match ? Number(match[1]) : undefined;
}

/** Shorthand for assertions: the named result, or a thrown error listing what came back. */
export function pick(results: Map<string, ProbeResult>, name: string): ProbeResult {
  const result = results.get(name);
  if (!result) throw new Error(`no probe result "${name}"; got: ${[...results.keys()].join(', ') || 'nothing'}`);
  return result;
}
