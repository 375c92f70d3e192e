/**
 * `drydock doctor`: sections of pass/warn/fail lines, each non-pass with its fix. Exit 1 when any
 * check fails. Without an engine it still answers (the engine-dependent sections say they were not
 * checked), and `--json` is always one valid document. The checks live in lib/doctor/. With
 * `--session ID` it also runs the jail self-test of that running session.
 */
import { existsSync } from 'node:fs';
import type { CommandContext, CommandResult } from '../context.js';
import type { Section } from '../doctor/checks.js';
import { canWrite, dirsSection, egressSection, engineSections, formatReport } from '../doctor/sections.js';
import { Docker } from '../docker/client.js';
import { processRunner, type CommandRunner } from '../docker/runner.js';
import { ExitCode } from '../errors.js';
import { resolveSettings } from '../settings.js';
import { sessionSelfTestSection } from '../doctor/session-section.js';
import { validateSessionId } from '../session/id.js';

export interface DoctorOptions {
  project?: string;
  /** Also run the jail self-test of this running session. */
  session?: string;
  json?: boolean;
}

export interface DoctorDeps {
  runner?: CommandRunner;
  /** Is this directory writable? (default: access(2) with W_OK) */
  writable?: (dir: string) => boolean;
  /** Does this path exist? (default: existsSync; used for the dood socket) */
  pathExists?: (path: string) => boolean;
}

export async function doctor(opts: DoctorOptions, ctx: CommandContext, deps: DoctorDeps = {}): Promise<CommandResult> {
  if (opts.session !== undefined) validateSessionId(opts.session);
  const settings = resolveSettings({ env: ctx.env, cwd: ctx.cwd, project: opts.project });
  const docker = new Docker(deps.runner ?? processRunner(settings.env));
  const engine = await engineSections(docker, settings, deps.pathExists ?? existsSync);
  const sections: Section[] = [
    ...engine.sections,
    dirsSection(settings, deps.writable ?? canWrite),
    egressSection(settings, engine.sessions),
  ];
  if (opts.session !== undefined) sections.push(await sessionSelfTestSection(docker, opts.session));
  const ok = sections.every((s) => s.checks.every((c) => c.status !== 'fail'));
  if (!ctx.json) ctx.out(formatReport(sections));
  return { exitCode: ok ? ExitCode.Ok : ExitCode.Negative, data: { ok, sections } };
}
