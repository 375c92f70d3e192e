/**
 * Packs one rule group's hosts into filter-line bodies: as many hosts per line as fit the budget,
 * written as few bytes as the regex allows. Pure and deterministic.
 *
 * Why bytes matter: tinyproxy runs every line against every request until one matches, and glibc
 * compiles each line into a DFA of about one node per pattern byte (~60 KB for a full line). At
 * 100,000 entries that was 4,800 lines and 300 MB, and a request's scan was slow mostly from cache
 * and TLB misses over that memory (perf: stalls on loads in re_search_internal). Fewer bytes per
 * host means fewer lines and less memory, which cuts both.
 *
 * The layout: hosts grouped by last label (`\.com` written once), and within a group the rest of
 * each name in a character trie, so that sorted names share their common prefixes, the way
 * front coding compresses a sorted word list:
 *   api.github, api.gitlab, apis.example  →  api(\.git(hub|lab)|s\.example)
 * A node whose continuations are all single characters becomes a bracket (`v[123]`), a name
 * that is a prefix of another makes the rest optional (`foo(bar)?`). Only `( ) | ? [ ]` and `\.`
 * are used, which mean the same in POSIX ERE and JavaScript.
 */

const escapeChar = (c: string): string => (c === '.' ? '\\.' : c);

/** `-` last in a bracket, so that it is a literal there in both dialects. */
const bracket = (chars: string[]): string => `[${chars.filter((c) => c !== '-').join('')}${chars.includes('-') ? '-' : ''}]`;

/** Runs of words in [start, hi) sharing the character at `depth`: [char, from, to] triples. */
function charRuns(words: readonly string[], start: number, hi: number, depth: number): Array<[string, number, number]> {
  const runs: Array<[string, number, number]> = [];
  for (let i = start; i < hi; ) {
    const c = words[i]![depth]!;
    let j = i + 1;
    while (j < hi && words[j]![depth] === c) j += 1;
    runs.push([c, i, j]);
    i = j;
  }
  return runs;
}

/**
 * Appends to `out` the trie of `words[lo..hi)` below depth `depth` (all share their first `depth`
 * characters; sorted, so a word that ends here comes first and each next character's words are
 * contiguous), rendered without building it: the regex for everything that may follow the shared
 * prefix. A word ending here makes that optional (`?`, in a group unless it is one atom).
 */
function renderSorted(words: readonly string[], lo: number, hi: number, depth: number, out: string[]): void {
  if (hi - lo === 1) {
    // One word left: the rest of it, literally (most of a line's bytes).
    out.push(words[lo]!.slice(depth).replaceAll('.', '\\.'));
    return;
  }
  const end = words[lo]!.length === depth;
  const start = end ? lo + 1 : lo;
  if (start === hi) return;
  const runs = charRuns(words, start, hi, depth);
  const isLeaf = ([, from, to]: [string, number, number]) => to - from === 1 && words[from]!.length === depth + 1;
  if (runs.length > 1 && runs.every(isLeaf)) {
    out.push(bracket(runs.map((r) => r[0])), end ? '?' : '');
    return;
  }
  const grouped = runs.length > 1 || (end && !isLeaf(runs[0]!));
  if (grouped) out.push('(');
  runs.forEach(([c, from, to], index) => {
    if (index > 0) out.push('|');
    out.push(escapeChar(c));
    renderSorted(words, from, to, depth + 1, out);
  });
  if (grouped) out.push(')');
  if (end) out.push('?');
}

/**
 * The byte length `renderSorted` would give, and its atom flag (as `length * 2 + atom`), without
 * building strings: the packer asks this many times per line and renders only the chosen run.
 */
function measureSorted(words: readonly string[], lo: number, hi: number, depth: number): number {
  if (hi - lo === 1) {
    const word = words[lo]!;
    const rest = word.length - depth;
    let dots = 0;
    for (let at = word.indexOf('.', depth); at !== -1; at = word.indexOf('.', at + 1)) dots += 1;
    return (rest + dots) * 2 + (rest <= 1 ? 1 : 0);
  }
  const end = words[lo]!.length === depth;
  const start = end ? lo + 1 : lo;
  if (start === hi) return 1;
  let runs = 0;
  let allLeaves = true;
  let alternativesLength = 0;
  let lastRestEmpty = false;
  for (let i = start; i < hi; ) {
    const c = words[i]![depth]!;
    let j = i + 1;
    while (j < hi && words[j]![depth] === c) j += 1;
    if (j - i !== 1 || words[i]!.length !== depth + 1) allLeaves = false;
    const rest = measureSorted(words, i, j, depth + 1) >> 1;
    alternativesLength += (c === '.' ? 2 : 1) + rest;
    lastRestEmpty = rest === 0;
    runs += 1;
    i = j;
  }
  let length: number;
  let atom: boolean;
  if (runs > 1 && allLeaves) [length, atom] = [2 + runs, true];
  else if (runs === 1) [length, atom] = [alternativesLength, lastRestEmpty];
  else [length, atom] = [alternativesLength + runs + 1, true];
  if (end) [length, atom] = [atom ? length + 1 : length + 3, false];
  return length * 2 + (atom ? 1 : 0);
}

/** Hosts split into last label and the rest, ordered by label, then rest (code units). */
interface Split {
  tlds: string[];
  rests: string[];
}

function splitHosts(hosts: readonly string[]): Split {
  const pairs = hosts.map((h) => {
    const dot = h.lastIndexOf('.');
    return [h.slice(dot + 1), h.slice(0, dot)] as const;
  });
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  pairs.sort((x, y) => cmp(x[0], y[0]) || cmp(x[1], y[1]));
  return { tlds: pairs.map((p) => p[0]), rests: pairs.map((p) => p[1]) };
}

/** Runs of one last label within [from, to). */
function labelRuns(split: Split, from: number, to: number): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (let start = from; start < to; ) {
    let end = start + 1;
    while (end < to && split.tlds[end] === split.tlds[start]) end += 1;
    runs.push([start, end]);
    start = end;
  }
  return runs;
}

const measureRange = (split: Split, from: number, to: number): number =>
  labelRuns(split, from, to).reduce((n, [s, e], i) => n + (i > 0 ? 1 : 0) + (measureSorted(split.rests, s, e, 0) >> 1) + 2 + split.tlds[s]!.length, 0);

/** `(trie of the names)\.tld` for each run of one last label, joined as alternatives. */
function renderRange(split: Split, from: number, to: number): string {
  // A run's root is never an end (every rest is non-empty), and its text has no top-level `|`.
  return labelRuns(split, from, to)
    .map(([s, e]) => {
      const out: string[] = [];
      renderSorted(split.rests, s, e, 0, out);
      return `${out.join('')}\\.${split.tlds[s]}`;
    })
    .join('|');
}

/**
 * Splits the hosts (in label-then-name order) into consecutive runs, each as long as fits `budget`
 * bytes once rendered, and renders them. The search gallops from the last run's size, then
 * bisects; the rendered body is checked against the budget again, whatever the measure said.
 * (Every run found fits; it is the longest that fits when the measure grows with the count, which
 * it does: one more name never makes a trie's text shorter.)
 */
export function packHosts(hosts: readonly string[], budget: number): string[] {
  const split = splitHosts(hosts);
  const bodies: string[] = [];
  let guess = 16;
  for (let i = 0; i < hosts.length; ) {
    const left = hosts.length - i;
    const fits = (k: number) => measureRange(split, i, i + k) <= budget;
    let lo = 0; // largest count known to fit
    let hi = left + 1; // smallest count known not to fit (or past the end)
    const start = Math.min(guess, left);
    // Lines of one group hold about as many hosts as the last: gallop up or down from there.
    if (fits(start)) {
      lo = start;
      for (let step = 1; lo + step <= left; step *= 2) {
        if (!fits(lo + step)) {
          hi = lo + step;
          break;
        }
        lo += step;
      }
    } else {
      hi = start;
      for (let step = 1; hi - step >= 1; step *= 2) {
        if (fits(hi - step)) {
          lo = hi - step;
          break;
        }
        hi -= step;
      }
    }
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (fits(mid)) lo = mid;
      else hi = mid;
    }
    const body = lo === 0 ? undefined : renderRange(split, i, i + lo);
    if (body === undefined || body.length > budget) throw new Error(`drydock: host too long for one filter line: ${split.rests[i]}.${split.tlds[i]}`);
    bodies.push(body);
    i += lo;
    guess = lo;
  }
  return bodies;
}
