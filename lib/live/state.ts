/**
 * `<session>/live.json`: which filter generation a session's sidecar was given last and which
 * entries it holds, so a live change can say per session what changed (`+host`, `-host`). Written
 * by the first render and after every confirmed live change; never read by the sidecar.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AllowEntry } from '../allowlist/types.js';
import { FILE_NAMES } from '../names.js';

export interface LiveState {
  generation: string;
  /** Canonical entry texts, in source order. */
  entries: string[];
}

export function liveStateOf(generation: string, entries: readonly Pick<AllowEntry, 'canonical'>[]): string {
  const state: LiveState = { generation, entries: entries.map((e) => e.canonical) };
  return `${JSON.stringify(state, null, 2)}\n`;
}

/** The session's live state, or undefined when it has none (a session rendered before live reload). */
export function readLiveState(sessionDir: string): LiveState | undefined {
  try {
    const value = JSON.parse(readFileSync(join(sessionDir, FILE_NAMES.liveState), 'utf8')) as Partial<LiveState>;
    if (typeof value.generation !== 'string' || !Array.isArray(value.entries)) return undefined;
    return { generation: value.generation, entries: value.entries.filter((e): e is string => typeof e === 'string') };
  } catch {
    return undefined;
  }
}
