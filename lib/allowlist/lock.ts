/**
 * One `drydock allowlist add|remove` at a time per config directory: the edit of a list and the
 * live update of the sessions it affects happen under one lock file, so two concurrent adds both
 * land (each reads the list the other wrote) and never race each other's filter swap.
 *
 * The lock is a file created with O_EXCL holding the owner's pid and host. A lock whose owner is
 * known dead (same host, no such pid) is taken over; any other is waited for, then reported.
 */
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { ExternalError } from '../errors.js';

export interface LockOptions {
  /** Give up after this long (default 60 s: a live update of many sessions takes seconds). */
  timeoutMs?: number;
  pid?: number;
  host?: string;
  sleep?: (ms: number) => Promise<void>;
}

export interface HeldLock {
  path: string;
  release(): void;
}

function ownerAlive(text: string, host: string): boolean {
  const [pidText, owner] = text.trim().split(/\s+/, 2);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || owner !== host) return true; // not ours to judge: wait
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireLock(path: string, opts: LockOptions = {}): Promise<HeldLock> {
  const pid = opts.pid ?? process.pid;
  const host = opts.host ?? hostname();
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; ; attempt += 1) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      try {
        writeSync(fd, `${pid} ${host}\n`);
      } finally {
        closeSync(fd);
      }
      return { path, release: () => rmSync(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder = '';
    try {
      holder = readFileSync(path, 'utf8');
    } catch {
      continue; // released between our create and our read: try again at once
    }
    // Written but not yet filled in by its owner: wait like for any live holder.
    if (holder !== '' && !ownerAlive(holder, host)) {
      // Take a dead owner's lock over by renaming it away: of several takers only one rename wins.
      const stale = `${path}.stale.${pid}`;
      try {
        renameSync(path, stale);
        // Another taker may have replaced the dead lock with its own just before our rename:
        // then that one is live and goes back (link fails if a third lock exists by now).
        if (readFileSync(stale, 'utf8') !== holder) linkSync(stale, path);
      } catch {
        // another taker got there first
      }
      rmSync(stale, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new ExternalError(`another drydock allowlist command holds ${path} (${holder.trim() || 'owner unknown'})`, {
        hint: `wait for it to finish; if no drydock is running, remove ${path}`,
      });
    }
    await sleep(Math.min(50 + attempt * 10, 250));
  }
}
