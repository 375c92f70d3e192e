/**
 * The harness runs tinyproxy with the config drydock renders, changed in exactly four directives:
 * where it listens (Listen, Port) and where it writes (LogFile, PidFile). Everything else — Filter,
 * FilterType, FilterURLs, FilterDefaultDeny, ConnectPort, LogLevel — is drydock's own text, so what
 * the attack suite proves is about the real config, not a look-alike.
 */

export interface ConfOverrides {
  listen: string;
  port: number;
  /** Absent: no LogFile line, so tinyproxy -d logs to stdout — a pipe, as in the sidecar. */
  logFile?: string;
  pidFile: string;
}

/** The directives the harness owns; tinyproxy reads directive names case-insensitively. */
export const REWRITTEN_DIRECTIVES = ['listen', 'port', 'logfile', 'pidfile'] as const;

const directiveOf = (line: string): string | undefined => /^\s*([A-Za-z]+)\b/.exec(line)?.[1]?.toLowerCase();

/**
 * Drop every line setting one of the four directives, then append the harness's values. Other
 * lines (comments included) are kept byte for byte and in order.
 */
export function rewriteTinyproxyConf(confText: string, overrides: ConfOverrides): string {
  for (const [name, value] of [['logFile', overrides.logFile ?? ''], ['pidFile', overrides.pidFile]] as const) {
    if (/["\n]/.test(value)) throw new Error(`rewriteTinyproxyConf: ${name} cannot contain a quote or a newline`);
  }
  const kept = confText
    .split('\n')
    .filter((line) => !(REWRITTEN_DIRECTIVES as readonly string[]).includes(directiveOf(line) ?? ''));
  while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
  return [
    ...kept,
    '# test harness: listen and write where the test says',
    `Listen ${overrides.listen}`,
    `Port ${overrides.port}`,
    ...(overrides.logFile === undefined ? [] : [`LogFile "${overrides.logFile}"`]),
    `PidFile "${overrides.pidFile}"`,
    '',
  ].join('\n');
}

/** The path of the `Filter "…"` directive, if the config has one (observe mode has none). */
export function filterPathOf(confText: string): string | undefined {
  for (const line of confText.split('\n')) {
    if (directiveOf(line) !== 'filter') continue;
    const match = /^\s*filter\s+(?:"([^"]*)"|(\S+))/i.exec(line);
    return match?.[1] ?? match?.[2];
  }
  return undefined;
}

/** Every value of a repeated directive, e.g. all `ConnectPort` numbers. */
export function directiveValues(confText: string, directive: string): string[] {
  const wanted = directive.toLowerCase();
  return confText
    .split('\n')
    .filter((line) => directiveOf(line) === wanted)
    .map((line) => line.trim().slice(directive.length).trim().replace(/^"(.*)"$/, '$1'));
}
