/**
 * `drydock allowlist add|remove`: the edit of one user list, as text in and text out. Pure.
 *
 * The entries given are checked by the allowlist parser itself, each reported at the FILE:LINE it
 * would have in the list; the whole new text is parsed again before it is accepted. Comments,
 * blank lines, order and line endings of the file are kept: `add` appends canonical lines,
 * `remove` deletes exactly the lines holding that entry. Any error means no new text at all.
 * The baseline is add-only: an entry that comes from it cannot be removed here.
 */
import type { Diagnostic } from '../errors.js';
import { findAllowingEntry } from './match.js';
import { parseAllowlist, parseEntry, stripComment } from './parse.js';
import type { AllowEntry, AllowRule } from './types.js';

export interface EditedList {
  path: string;
  /** The file's text, or undefined when it does not exist yet. */
  text: string | undefined;
}

/** The other sources of the entries in effect (baseline, the other user list), for messages. */
export interface OtherSource {
  path: string;
  kind: 'baseline' | 'user' | 'project';
  entries: readonly AllowEntry[];
}

export interface ListEditRequest {
  op: 'add' | 'remove';
  /** The entries as given on the command line. */
  entries: readonly string[];
  list: EditedList;
  others: readonly OtherSource[];
}

export interface ListEditOutcome {
  entry: string;
  change: 'added' | 'removed' | 'unchanged';
  /** Why nothing changed, or what still allows a removed entry. */
  note?: string;
}

export type ListEditResult =
  | { ok: true; text: string; changed: boolean; outcomes: ListEditOutcome[]; warnings: string[] }
  | { ok: false; diagnostics: Diagnostic[] };

interface Line {
  content: string;
  eol: string;
}

function splitLines(text: string): { bom: string; lines: Line[] } {
  const bom = text.startsWith('\uFEFF') ? '\uFEFF' : '';
  const parts = text.slice(bom.length).split(/(\r\n|\n|\r)/);
  const lines: Line[] = [];
  for (let i = 0; i < parts.length; i += 2) lines.push({ content: parts[i]!, eol: parts[i + 1] ?? '' });
  // A final newline leaves one empty piece with no ending: it is not a line of the file.
  if (lines.length > 0 && lines[lines.length - 1]!.content === '' && lines[lines.length - 1]!.eol === '') lines.pop();
  return { bom, lines };
}

const joinLines = (bom: string, lines: readonly Line[]): string => bom + lines.map((l) => l.content + l.eol).join('');
const at = (e: AllowEntry): string => `${e.source.file}:${e.source.line}`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The argument as one entry, or the parser's own message at the line it would have. */
function parseArgument(raw: string, index: number, file: string, line: number): { canonical?: string; rules?: AllowRule[]; error?: Diagnostic; warning?: string } {
  const label = `argument ${index + 1} \`${raw}\``;
  if (/[\r\n]/.test(raw)) return { error: { file, line, message: `${label}: one entry per argument, without line breaks`, fix: 'pass each entry as its own argument' } };
  if (stripComment(raw) !== raw.trim()) return { error: { file, line, message: `${label}: a comment is not an entry`, fix: 'give the entry alone; comments can be added by editing the file' } };
  const parsed = parseEntry(raw);
  if (parsed.error || !parsed.entry) {
    return { error: { file, line, message: `${label}: ${parsed.error?.message ?? 'not an entry'}`, fix: parsed.error?.fix } };
  }
  return { canonical: parsed.entry.canonical, rules: parsed.entry.rules, warning: parsed.warning };
}

export function planListEdit(req: ListEditRequest): ListEditResult {
  const file = req.list.path;
  const current = parseAllowlist(req.list.text ?? '', file);
  if (current.errors.length > 0) {
    const n = current.errors.length;
    return { ok: false, diagnostics: current.errors.map((d) => ({ ...d, fix: `${d.fix ? `${d.fix}; ` : ''}the list has ${plural(n, 'error')}: fix ${n === 1 ? 'it' : 'them'} before changing it with drydock` })) };
  }
  const { bom, lines } = splitLines(req.list.text ?? '');
  const diagnostics: Diagnostic[] = [];
  const warnings: string[] = [];
  const outcomes: ListEditOutcome[] = [];
  const eol = lines.find((l) => l.eol !== '')?.eol ?? '\n';
  const next = lines.map((l) => ({ ...l }));
  if (next.length > 0 && next[next.length - 1]!.eol === '') next[next.length - 1]!.eol = eol;
  const remove = new Set<number>();
  const seen = new Set<string>();

  req.entries.forEach((raw, index) => {
    const arg = parseArgument(raw, index, file, req.op === 'add' ? next.length + 1 : 0);
    if (arg.error) return void diagnostics.push(arg.error);
    const canonical = arg.canonical!;
    if (arg.warning) warnings.push(arg.warning);
    if (seen.has(canonical)) return;
    seen.add(canonical);
    const inList = current.entries.filter((e) => e.canonical === canonical);
    if (req.op === 'add') {
      if (inList[0]) return void outcomes.push({ entry: canonical, change: 'unchanged', note: `already listed at ${at(inList[0])}` });
      const elsewhere = req.others.flatMap((s) => (s.kind === 'user' || s.kind === 'baseline' ? s.entries : [])).find((e) => e.canonical === canonical);
      if (elsewhere) return void outcomes.push({ entry: canonical, change: 'unchanged', note: `already allowed by ${at(elsewhere)}` });
      next.push({ content: canonical, eol });
      outcomes.push({ entry: canonical, change: 'added' });
      return;
    }
    if (inList.length === 0) {
      const owner = req.others.flatMap((s) => s.entries.map((e) => ({ s, e }))).find(({ e }) => e.canonical === canonical);
      if (owner?.s.kind === 'baseline') {
        return void diagnostics.push({ file: owner.e.source.file, line: owner.e.source.line, message: `argument ${index + 1} \`${raw}\`: this entry is in the baseline, which is add-only: drydock cannot remove it`, fix: 'to allow less than the baseline, point DRYDOCK_BASELINE at a baseline of your own' });
      }
      if (owner) {
        return void diagnostics.push({ file, line: 0, message: `argument ${index + 1} \`${raw}\`: not in this list; it is listed at ${at(owner.e)}`, fix: owner.s.kind === 'user' ? 'remove it from the global list: add --global' : 'name that list: --project NAME' });
      }
      return void diagnostics.push({ file, line: 0, message: `argument ${index + 1} \`${raw}\`: not listed here, so there is nothing to remove`, fix: '`drydock allowlist list` shows every entry with its file and line' });
    }
    for (const e of inList) remove.add(e.source.line - 1);
    const remaining = [...current.entries.filter((e) => e.canonical !== canonical), ...req.others.flatMap((s) => s.entries)];
    const still = arg.rules!.map((rule) => findAllowingEntry(remaining, { host: rule.host, port: rule.port, protocol: rule.protocol })).find((e) => e !== undefined);
    outcomes.push({ entry: canonical, change: 'removed', ...(!arg.rules![0]!.wildcard && still ? { note: `still allowed by \`${still.canonical}\` (${at(still)})` } : {}) });
  });
  if (diagnostics.length > 0) return { ok: false, diagnostics };

  const kept = next.filter((_, i) => !remove.has(i));
  const text = joinLines(bom, kept);
  // The new text must be a list the parser accepts as a whole, with exactly the intended entries.
  const check = parseAllowlist(text, file);
  if (check.errors.length > 0) return { ok: false, diagnostics: check.errors };
  const changed = outcomes.some((o) => o.change !== 'unchanged');
  return { ok: true, text: changed ? text : (req.list.text ?? ''), changed, outcomes, warnings };
}
