/**
 * The live update of one running session: swap its egress files and have its sidecar reload and
 * confirm them (templates/egress/drydock-egress-reload), without touching the agent.
 *
 * It never fails open. The new generation was compiled and checked before this runs. Each file is
 * renamed into the mounted directory (the sidecar reads a whole old file or a whole new one), and
 * only a confirmed reload counts as applied. When the sidecar cannot apply it:
 *   - nothing was signalled (docker exec failed, the script refused): the previous files go back,
 *     and the proxy, which never re-read anything, keeps its previous filter;
 *   - the proxy was signalled but did not confirm: the previous files go back and are reloaded and
 *     confirmed by their own check host; if even that fails the sidecar is stopped (closed);
 *   - the change removed entries: keeping the previous, wider filter would keep what the user just
 *     removed, so the sidecar is stopped (closed) instead;
 *   - the proxy ended (a filter it could not read): the sidecar is down, closed.
 * Every outcome is one line for the user, and anything but `updated`/`unchanged` is exit 3.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Docker } from '../docker/client.js';
import { errorMessage } from '../errors.js';
import { writeFileAtomic, writeFilesAtomic } from '../fs-atomic.js';
import { checkHostOf, checkSessionEgress, renderSessionEgress, type SessionEgressFiles, type SessionEgressInput } from '../egress/session-egress.js';
import type { AllowEntry } from '../allowlist/types.js';
import { FILE_NAMES, SIDECAR_RELOAD } from '../names.js';
import { liveStateOf, readLiveState } from './state.js';
import { describeChange, entryChange, type EntryChange, type LiveTarget } from './plan.js';

export type LiveStatus = 'updated' | 'unchanged' | 'kept' | 'closed' | 'failed' | 'not-live';

export interface LiveOutcome {
  session: string;
  status: LiveStatus;
  change: EntryChange;
  /** One line: what changed, or what did not and why. */
  line: string;
  ms?: number;
}

export const isFailure = (o: LiveOutcome): boolean => o.status !== 'updated' && o.status !== 'unchanged';

/** A session's next generation, compiled and checked; throws (nothing written) if it fails a check. */
export function prepareGeneration(
  target: LiveTarget,
  entries: readonly AllowEntry[],
  options: Pick<SessionEgressInput, 'proxyLimits' | 'resolverServers'> & { generation?: string } = {},
): SessionEgressFiles {
  const generation = options.generation ?? randomBytes(6).toString('hex');
  const egress = renderSessionEgress({ sessionId: target.session, project: target.project, entries, observe: false, generation, proxyLimits: options.proxyLimits, resolverServers: options.resolverServers });
  const problems = checkSessionEgress(egress, false);
  if (problems.length > 0) throw new Error(`the new filter of ${target.session} fails its checks: ${problems.join('; ')}`);
  return egress;
}

const RELOAD_TIMEOUT_MS = 20_000;

type ReloadResult = 'confirmed' | 'not-signalled' | 'unknown' | 'ended';

async function reload(docker: Docker, sidecar: string, checkHost: string): Promise<{ result: ReloadResult; message: string }> {
  let run;
  try {
    run = await docker.execCaptured(sidecar, [SIDECAR_RELOAD, checkHost], { timeoutMs: RELOAD_TIMEOUT_MS });
  } catch (error) {
    return { result: 'not-signalled', message: errorMessage(error) };
  }
  const message = (run.stderr.trim() || run.stdout.trim()).split('\n').pop() ?? '';
  if (run.code === 0) return { result: 'confirmed', message };
  if (run.timedOut) return { result: 'unknown', message: `no answer from the sidecar within ${RELOAD_TIMEOUT_MS / 1000} s` };
  if (run.code === 4) return { result: 'ended', message };
  if (run.code === 2) return { result: 'unknown', message };
  // Exit 1 from the script says it refused before signalling; docker's own failures (paused,
  // not running, no such file: a sidecar image from before live updates) never reached the proxy.
  if ((run.code === 1 && message.startsWith('drydock-egress-reload:')) || run.code >= 125 || /Error response from daemon|is not running|is paused/i.test(run.stderr)) {
    return { result: 'not-signalled', message: message.replace(/^Error response from daemon:\s*/, '') };
  }
  return { result: 'unknown', message: message || `exit ${run.code}` };
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export interface ApplyRequest {
  docker: Docker;
  sessionDir: string;
  target: LiveTarget;
  egress: SessionEgressFiles;
  entries: readonly AllowEntry[];
  now?: () => number;
}

export async function applyGeneration(req: ApplyRequest): Promise<LiveOutcome> {
  const { docker, target, egress } = req;
  const now = req.now ?? Date.now;
  const id = target.session;
  const live = readLiveState(req.sessionDir);
  const after = req.entries.map((e) => e.canonical);
  if (!live) {
    return { session: id, status: 'not-live', change: { added: [], removed: [] }, line: `${id}: NOT updated: it was started before live updates; restart it (drydock stop ${id}, then drydock run) to use the new list` };
  }
  const change = entryChange(live.entries, after);
  if (change.added.length === 0 && change.removed.length === 0) return { session: id, status: 'unchanged', change, line: `${id}: no change` };

  const dir = join(req.sessionDir, FILE_NAMES.egressDir);
  const previous = Object.keys(egress.files).map((name) => ({ path: join(dir, name), content: readIfExists(join(dir, name)) }));
  const started = now();
  writeFilesAtomic(Object.entries(egress.files).map(([name, content]) => ({ path: join(dir, name), content, mode: 0o644 })));
  const applied = await reload(docker, target.sidecar, egress.checkHost);
  const ms = now() - started;
  const what = describeChange(change);
  if (applied.result === 'confirmed') {
    writeFileAtomic(join(req.sessionDir, FILE_NAMES.liveState), liveStateOf(egress.generation, req.entries));
    return { session: id, status: 'updated', change, ms, line: `${id}: ${what} (reload confirmed in ${(ms / 1000).toFixed(1)} s, agent untouched)` };
  }

  const restore = () => {
    writeFilesAtomic(previous.filter((p) => p.content !== undefined).map((p) => ({ path: p.path, content: p.content!, mode: 0o644 })));
    for (const p of previous) if (p.content === undefined) rmSync(p.path, { force: true });
  };
  const closed = async (why: string): Promise<LiveOutcome> => {
    try {
      const state = await docker.containerState(target.sidecar);
      if (state === 'running' || state === 'paused') await docker.stopContainer(target.sidecar);
      return { session: id, status: 'closed', change, ms, line: `${id}: NOT updated (${why}); its sidecar was stopped: the agent has no egress now (closed) — drydock stop ${id}, then drydock run again` };
    } catch (error) {
      return { session: id, status: 'failed', change, ms, line: `${id}: NOT updated (${why}) and its sidecar could not be stopped (${errorMessage(error)}): it may still allow what was removed — end it now: drydock stop ${id}` };
    }
  };

  restore();
  const state = await docker.containerState(target.sidecar).catch(() => 'unknown');
  if (applied.result === 'ended' || (state !== 'running' && state !== 'paused')) {
    return { session: id, status: 'closed', change, ms, line: `${id}: NOT updated: the sidecar stopped (${applied.message || state}): the agent has no egress now (closed) — drydock stop ${id}, then drydock run again` };
  }
  if (applied.result === 'unknown') {
    const back = await reload(docker, target.sidecar, checkHostOf(live.generation));
    if (back.result !== 'confirmed') return closed(`${applied.message}; the previous filter could not be confirmed either: ${back.message}`);
    if (change.removed.length > 0) return closed(`${applied.message}; it would keep ${change.removed.join(', ')}`);
    return { session: id, status: 'kept', change, ms, line: `${id}: NOT updated (${applied.message}): it keeps its previous filter (reloaded and confirmed); nothing new gets through` };
  }
  if (change.removed.length > 0) return closed(`${applied.message}; it would keep ${change.removed.join(', ')}`);
  return { session: id, status: 'kept', change, ms, line: `${id}: NOT updated (${applied.message}): it keeps its previous filter; nothing new gets through` };
}
