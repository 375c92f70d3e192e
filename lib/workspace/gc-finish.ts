/**
 * gc's part of the workspace guard: a session whose `drydock run` died (kill -9, a crash, a reboot)
 * never compared the project with its start or quarantined what it created. Its saved start is in
 * the session directory; gc finishes it before that directory goes, once the agent is removed.
 */
import { errorMessage } from '../errors.js';
import { workspaceReportLines } from './report.js';
import { finishWorkspaceGuard, loadGuardStart, quarantineDirOf, type WorkspaceReport } from './session-guard.js';

export interface CrashedGuardReport {
  session: string;
  report?: WorkspaceReport;
  error?: string;
  /** What gc prints (stderr), naming the session. */
  lines: string[];
}

export function finishCrashedGuard(options: { session: string; sessionDir: string; stateDir: string }): CrashedGuardReport | undefined {
  try {
    const start = loadGuardStart(options.sessionDir);
    if (!start) return undefined;
    const report = finishWorkspaceGuard(start, { quarantineDir: quarantineDirOf(options.stateDir, options.session) });
    const lines = workspaceReportLines(report);
    return { session: options.session, report, lines: lines.length ? [`drydock: session ${options.session} ended without drydock run; in ${start.root} since it started:`, ...lines] : [] };
  } catch (error) {
    const message = `could not check the project of session ${options.session} for files it planted: ${errorMessage(error)}`;
    return { session: options.session, error: message, lines: [`drydock: ${message}`] };
  }
}
