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

/**
 * A script that first prints when it started (ms since the epoch), then one line per probe:
 * name, curl's exit code, "<connect> <http>" codes, and the body or error (cut to 400 chars).
 * The probes run concurrently (a refusal by silence costs the whole time limit); each result
 * line is one short write, so lines do not interleave.
 */
export function probeScript(probes: readonly ProbeSpec[], timeoutSeconds = 5): string {
  const lines = [
    'echo "first-command $(date +%s%3N)"',
    'probe() {',
    '  local name=$1 out rc codes; shift; out=$(mktemp)',
    `  codes=$(curl -sS -m ${timeoutSeconds} -o "$out" -w '%{http_connect} %{http_code}' "$@" 2>"$out.err"); rc=$?`,
    `  printf '%s\\t%s\\t%s\\t%s\\n' "$name" "$rc" "$codes" "$(cat "$out" "$out.err" | tr '\\n\\t' '  ' | cut -c1-400)"`,
    '  rm -f "$out" "$out.err"',
    '}',
    ...probes.map((p) => `probe ${shellQuote(p.name)} ${p.curl.map(shellQuote).join(' ')} &`),
    'wait',
  ];
  return lines.join('\n');
}

export function parseProbes(output: string): Map<string, ProbeResult> {
  const results = new Map<string, ProbeResult>();
  for (const line of output.split('\n')) {
    const [name, exit, codes, text = ''] = line.split('\t');
    const parsedCodes = /^(\d{3}) (\d{3})$/.exec(codes ?? '');
    if (name === undefined || exit === undefined || !/^\d+$/.test(exit) || !parsedCodes) continue;
    results.set(name, { name, exit: Number(exit), connect: Number(parsedCodes[1]), code: Number(parsedCodes[2]), text: text.trim() });
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
