/**
 * Where allowlist entries come from, in order: the baseline (shipped, or `$DRYDOCK_BASELINE`,
 * which replaces it), the user's global list, the user's per-project list. The only I/O of the
 * allowlist code; `readFile` is injected so tests need no files.
 */
import { readFileSync } from 'node:fs';
import { UsageError, type Diagnostic } from '../errors.js';
import type { AllowlistPaths } from '../settings.js';
import { parseAllowlist } from './parse.js';
import type { AllowEntry } from './types.js';

export interface AllowlistSource {
  path: string;
  kind: 'baseline' | 'user' | 'project';
  exists: boolean;
  entries: AllowEntry[];
}

export interface LoadedAllowlists {
  sources: AllowlistSource[];
  /** Every entry once, in source order; a repeated entry keeps its first source. */
  entries: AllowEntry[];
  /** Later occurrences of an entry already listed (same canonical text), for `allowlist list`. */
  duplicates: Array<{ entry: AllowEntry; first: AllowEntry }>;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

export interface LoadOptions {
  /** Where each source is (settings.allowlists). */
  files: AllowlistPaths;
  /** Returns the file's text, or undefined when it does not exist. May throw for other failures. */
  readFile?: (path: string) => string | undefined;
}

export function readFileIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export function allowlistPaths(files: AllowlistPaths): Array<Pick<AllowlistSource, 'path' | 'kind'>> {
  return [
    { path: files.baseline, kind: 'baseline' },
    { path: files.global, kind: 'user' },
    { path: files.project, kind: 'project' },
  ];
}

/** Reads and parses every source. Never throws for bad input: problems come back as diagnostics. */
export function loadAllowlists(opts: LoadOptions): LoadedAllowlists {
  const readFile = opts.readFile ?? readFileIfExists;
  const result: LoadedAllowlists = { sources: [], entries: [], duplicates: [], errors: [], warnings: [] };
  const seen = new Map<string, AllowEntry>();
  for (const { path, kind } of allowlistPaths(opts.files)) {
    let text: string | undefined;
    try {
      text = readFile(path);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      result.errors.push({ file: path, line: 0, message: `cannot read the allowlist (${reason})`, fix: 'make it a readable file, or remove it' });
      result.sources.push({ path, kind, exists: true, entries: [] });
      continue;
    }
    if (text === undefined) {
      if (kind === 'baseline') {
        // Fail closed: without its baseline the jail would have no defined policy.
        result.errors.push({
          file: path,
          line: 0,
          message: 'the egress baseline is missing',
          fix: 'reinstall drydock, or point DRYDOCK_BASELINE at an existing file',
        });
      }
      result.sources.push({ path, kind, exists: false, entries: [] });
      continue;
    }
    const parsed = parseAllowlist(text, path);
    if (kind === 'baseline') parsed.entries = refusePrivateInBaseline(parsed.entries, result.errors);
    result.errors.push(...parsed.errors);
    result.warnings.push(...parsed.warnings);
    result.sources.push({ path, kind, exists: true, entries: parsed.entries });
    for (const entry of parsed.entries) {
      const first = seen.get(entry.canonical);
      if (first) {
        result.duplicates.push({ entry, first });
      } else {
        seen.set(entry.canonical, entry);
        result.entries.push(entry);
      }
    }
  }
  return result;
}

/**
 * The baseline applies to every project, so it may not open private addresses for anyone: a
 * `private:` entry belongs in the user's own list, where the user sees it.
 */
function refusePrivateInBaseline(entries: AllowEntry[], errors: Diagnostic[]): AllowEntry[] {
  for (const entry of entries.filter((e) => e.private)) {
    errors.push({
      ...entry.source,
      message: `\`${entry.canonical}\`: the baseline cannot let a name resolve to a private address`,
      fix: 'move the line to your own allowlist (~/.config/drydock/egress-allowlist or the per-project one)',
    });
  }
  return entries.filter((e) => !e.private);
}

/** Throws one UsageError (exit 2) carrying every error diagnostic, if there are any. */
export function assertNoErrors(loaded: LoadedAllowlists): LoadedAllowlists {
  if (loaded.errors.length > 0) {
    const n = loaded.errors.length;
    throw new UsageError(`the egress allowlist has ${n} error${n === 1 ? '' : 's'}`, {
      diagnostics: loaded.errors,
      hint: 'fix the lines above; each says what is wrong and how to fix it',
    });
  }
  return loaded;
}

/** `loadAllowlists`, but any error becomes one UsageError (exit 2) carrying every diagnostic. */
export function loadAllowlistsOrThrow(opts: LoadOptions): LoadedAllowlists {
  return assertNoErrors(loadAllowlists(opts));
}
