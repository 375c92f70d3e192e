/**
 * `drydock allowlist compile | check | list`. Thin: load (the only I/O), then the pure parts.
 * `check` stays light: no yaml, ajv or tldts unless a wildcard entry needs the public-suffix list.
 */
import { resolve } from 'node:path';
import type { CommandContext, CommandResult } from '../context.js';
import { ExitCode, UsageError, formatDiagnostic } from '../errors.js';
import { resolveSettings } from '../settings.js';
import { compileFilter } from '../allowlist/compile.js';
import { effectiveRules, type EffectiveRules } from '../allowlist/effective.js';
import { describeRequest, findAllowingEntry, parseTarget, suggestLine } from '../allowlist/match.js';
import { privateEntryFor } from '../allowlist/private.js';
import { assertNoErrors, loadAllowlists, type LoadedAllowlists } from '../allowlist/sources.js';
import type { AllowEntry, SourceRef } from '../allowlist/types.js';

const at = (s: SourceRef): string => `${s.file}:${s.line}`;

function load(opts: { project?: string }, ctx: CommandContext): { project: string; projectFile: string; loaded: LoadedAllowlists } {
  const settings = resolveSettings({ env: ctx.env, cwd: ctx.cwd, project: opts.project });
  const { project } = settings;
  const loaded = loadAllowlists({ files: settings.allowlists });
  // Warnings first, even when errors follow: a converted legacy line is worth knowing about.
  for (const warning of loaded.warnings) ctx.err(`warning: ${formatDiagnostic(warning)}`);
  return { project, projectFile: settings.allowlists.project, loaded: assertNoErrors(loaded) };
}

export async function compile(opts: { project?: string; out?: string }, ctx: CommandContext): Promise<CommandResult> {
  const { loaded } = load(opts, ctx);
  const compiled = compileFilter(loaded.entries);
  const out = opts.out === undefined ? undefined : resolve(ctx.cwd, opts.out);
  if (out) {
    // Imported here, not at the top: it loads node:crypto, which `check` (timed at start-up) never needs.
    const { writeFileAtomic } = await import('../fs-atomic.js');
    writeFileAtomic(out, compiled.filter);
    ctx.err(`wrote ${out}: ${compiled.lineCount} filter lines from ${compiled.entryCount} entries (CONNECT ports ${compiled.connectPorts.join(', ') || 'none'})`);
  } else {
    ctx.out(compiled.filter);
  }
  const { filter: _filter, ...summary } = compiled;
  return { exitCode: ExitCode.Ok, data: { ...summary, out: out ?? null } };
}

export async function check(
  opts: { host: string; http?: boolean; project?: string; json?: boolean },
  ctx: CommandContext,
): Promise<CommandResult> {
  const target = parseTarget(opts.host, { http: opts.http });
  if (!target.ok) throw new UsageError(`cannot check \`${opts.host}\`: ${target.message}`, { hint: target.fix });
  const { req } = target;
  const { projectFile, loaded } = load(opts, ctx);
  const entry = findAllowingEntry(loaded.entries, req);
  const base = { host: req.host, port: req.port, protocol: req.protocol };
  if (entry) {
    const privateBy = privateEntryFor(loaded.entries, req.host);
    if (!ctx.json) {
      const privately = privateBy ? `; may resolve to a private address (\`${privateBy.canonical}\`, ${at(privateBy.source)})` : '';
      ctx.out(`allowed by \`${entry.canonical}\` (${at(entry.source)})${privately}`);
    }
    return {
      exitCode: ExitCode.Ok,
      data: { allowed: true, ...base, entry: entry.canonical, source: entry.source, private: privateBy !== undefined, ...(privateBy ? { privateEntry: privateBy.canonical, privateSource: privateBy.source } : {}) },
    };
  }
  const suggestion = suggestLine(req);
  if (!ctx.json) {
    ctx.out(`denied: no entry allows ${describeRequest(req)} — add this line to ${projectFile}: \`${suggestion}\``);
  }
  return { exitCode: ExitCode.Negative, data: { allowed: false, ...base, suggestion, file: projectFile } };
}

/** Why an entry adds nothing (or less) to the compiled filter: a wildcard entry covers it. */
function coverageNote(entry: AllowEntry, dropped: EffectiveRules['dropped']): string | undefined {
  const covered = dropped.get(entry);
  if (!covered) return undefined;
  const by = [...new Set(covered.map((d) => `\`${d.coveredBy.canonical}\` (${at(d.coveredBy.source)})`))].join(', ');
  const all = covered.length === entry.rules.length;
  return `${all ? 'covered' : 'partly covered'} by ${by}${all ? '; not compiled separately' : ''}`;
}

const PRIVATE_NOTE = 'may resolve to a private address';

export async function list(opts: { project?: string; json?: boolean }, ctx: CommandContext): Promise<CommandResult> {
  const { project, loaded } = load(opts, ctx);
  const { dropped } = effectiveRules(loaded.entries);
  const entries = loaded.entries.map((entry) => {
    const notes = [coverageNote(entry, dropped), entry.private ? PRIVATE_NOTE : undefined].filter((n) => n !== undefined);
    const note = notes.length > 0 ? notes.join('; ') : undefined;
    return { entry: entry.canonical, source: entry.source, rules: entry.rules, private: entry.private === true, ...(note ? { note } : {}) };
  });
  const data = {
    project,
    sources: loaded.sources.map((s) => ({ path: s.path, kind: s.kind, exists: s.exists, entries: s.entries.length })),
    entries,
    duplicates: loaded.duplicates.map((d) => ({ entry: d.entry.canonical, source: d.entry.source, first: d.first.source })),
  };
  if (!ctx.json) {
    const lines: string[] = [];
    for (const source of loaded.sources) {
      lines.push(`# ${source.kind}: ${source.path}${source.exists ? '' : ' (absent)'}`);
      for (const e of entries.filter((x) => x.source.file === source.path)) {
        lines.push(`${e.entry.padEnd(40)} ${at(e.source)}${e.note ? `  (${e.note})` : ''}`);
      }
    }
    for (const d of loaded.duplicates) lines.push(`# ${d.entry.canonical} at ${at(d.entry.source)} repeats ${at(d.first.source)}`);
    ctx.out(lines.join('\n'));
  }
  return { exitCode: ExitCode.Ok, data };
}
