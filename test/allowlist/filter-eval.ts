/**
 * Evaluates a compiled filter the way tinyproxy does (each non-comment line a case-insensitive
 * regex, matched as a substring; any match allows), using JavaScript RegExp. The compiler keeps
 * to a subset of POSIX ERE that means the same in both; `assertEreSubset` checks the shape.
 */
import { HTTP_PORT, type EgressRequest } from '../../lib/allowlist/types.js';

/**
 * One filter line as the JavaScript regex that means what glibc's regexec means under tinyproxy's
 * flags (REG_EXTENDED | REG_ICASE | REG_NEWLINE): `` \` `` and `\'` are the start and end of the
 * whole subject, `^` and `$` also match after and before a newline, `.` matches no newline. So a
 * subject with a newline in it is judged here as the real proxy judges it.
 */
export function ereToJs(line: string): RegExp {
  let out = '';
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i]!;
    if (c === '\\') {
      const next = line[i + 1];
      i += 1;
      if (next === '`') out += '(?<![\\s\\S])';
      else if (next === "'") out += '(?![\\s\\S])';
      else out += `\\${next}`;
    } else if (c === '[') {
      const close = line.indexOf(']', i + 2);
      out += line.slice(i, close + 1);
      i = close;
    } else if (c === '^') out += '(?:^|(?<=\\n))';
    else if (c === '$') out += '(?:$|(?=\\n))';
    else if (c === '.') out += '[^\\n]';
    else out += c;
  }
  return new RegExp(out, 'i');
}

export function filterRegexes(filter: string): RegExp[] {
  return filter
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map(ereToJs);
}

export function filterAllows(regexes: readonly RegExp[], subject: string): boolean {
  return regexes.some((r) => r.test(subject));
}

/** Every spelling tinyproxy may match for this request (FilterURLs Yes). */
export function requestSubjects(req: EgressRequest): string[] {
  if (req.protocol === 'connect') return [`${req.host}:${req.port}`];
  const spellings = [`http://${req.host}:${req.port}/x`, `http://${req.host}:${req.port}`];
  // Port 80 may be left out of an absolute URL; transparent requests always carry it.
  if (req.port === HTTP_PORT) spellings.push(`http://${req.host}/`, `http://${req.host}`, `http://${req.host}/a/b?c#d`);
  return spellings;
}

const FRAME = /^\\`(http:\/\/)?(\(\[-a-z0-9_\]\+\\\.\)\+)?\((.*)\)\\\.\?(:[0-9]+\\'|\(:80\)\?\(\/\|\\'\)|:[0-9]+\(\/\|\\'\))$/;

/** Throws unless every regex line is one of the compiler's shapes over escaped host names. */
export function assertEreSubset(filter: string): void {
  for (const line of filter.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = FRAME.exec(line);
    if (!m) throw new Error(`unexpected filter line shape: ${line}`);
    // Escaped dots, groups, alternatives, `?`, and brackets of name characters (`-` last).
    const body = m[3]!.replace(/\[[a-z0-9_.]*-?\]/g, 'b');
    if (!/^[a-z0-9_\-|()?\\.]+$/.test(body) || /\\[^.]/.test(body) || /(^|[(|])\?/.test(body)) throw new Error(`unexpected alternation body: ${m[3]}`);
  }
}
