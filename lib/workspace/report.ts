/**
 * What the user is told about the workspace: one banner line at the start, and at the end a short
 * list, one line per path, like the refusal summary. Every path was named by the agent, so each is
 * shown with control characters made visible: a file name cannot garble the terminal.
 */
import { printable } from '../allowlist/host.js';
import type { WorkspaceReport } from './session-guard.js';

export const GUARD_OFF_WARNING =
  'workspace guard OFF (--no-workspace-guard): the agent can rewrite .git/config, .git/hooks and auto-run files that your host runs';

export function guardBannerLine(options: { enabled: boolean; protectedPaths: readonly string[] }): string {
  if (!options.enabled) return `drydock: WARNING: ${GUARD_OFF_WARNING}`;
  if (options.protectedPaths.length === 0) return 'drydock: workspace guard: nothing to protect yet (no git dir, no auto-run files); new ones are quarantined at the end';
  const shown = options.protectedPaths.slice(0, 6).map(printable).join(', ');
  const more = options.protectedPaths.length > 6 ? ` and ${options.protectedPaths.length - 6} more` : '';
  return `drydock: workspace guard: read-only for the agent: ${shown}${more}`;
}

/** The end-of-session list; [] when the session left nothing worth a look. */
export function workspaceReportLines(report: WorkspaceReport): string[] {
  const quarantined = new Map(report.quarantined.map((q) => [q.path, q]));
  const createdDirs = report.changes.filter((c) => c.change === 'created').map((c) => c.path);
  const insideCreated = (path: string) => createdDirs.some((d) => path !== d && path.startsWith(`${d}/`));
  const rows: string[] = [];
  for (const change of report.changes) {
    if (insideCreated(change.path)) continue;
    const q = quarantined.get(change.path);
    const below = report.changes.filter((c) => c.path.startsWith(`${change.path}/`)).length;
    const what = `${printable(change.path)}${below ? ` (and ${below} inside)` : ''}`;
    const detail = change.scripts?.length ? ` — scripts: ${change.scripts.map(printable).join(', ')}` : '';
    const fate = q?.movedTo ? ` — quarantined to ${printable(q.movedTo)}` : q?.error ? ` — could NOT be quarantined (${printable(q.error)}): remove it before you open the folder` : '';
    rows.push(`  ${change.change.padEnd(8)} ${what}${detail}${fate}`);
  }
  for (const p of report.planted) {
    rows.push(
      p.kind === 'symlink-out'
        ? `  symlink  ${printable(p.path)} → ${printable(p.detail)} (leads out of the project)`
        : `  ${p.kind.padEnd(8)} ${printable(p.path)} (mode ${p.detail}) — clear it: chmod u-s,g-s '${printable(p.path)}'`,
    );
  }
  if (rows.length === 0 && report.incomplete.length === 0) return [];
  const lines = rows.length ? ['drydock: the session created or changed files your host may run — review them before you run anything here:', ...rows] : [];
  for (const note of report.incomplete) lines.push(`drydock: workspace report incomplete: ${note}`);
  return lines;
}
