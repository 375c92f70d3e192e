/**
 * Parsing of `docker ps -a --format '{{json .}}'` and `docker network ls --format '{{json .}}'`
 * (one JSON object per line). Pure: the adapter runs the command, this turns its text into records.
 */

export type Labels = Record<string, string>;

export interface ContainerRecord {
  id: string;
  name: string;
  image: string;
  /** `running`, `exited`, `created`, `restarting`, `paused`, `dead`, `removing` (docker's words). */
  state: string;
  status: string;
  /** From `CreatedAt` ("2024-05-01 10:00:00 +0000 UTC"); undefined when docker left it out. */
  createdAtMs?: number;
  labels: Labels;
}

export interface NetworkRecord {
  id: string;
  name: string;
  driver: string;
  internal: boolean;
  labels: Labels;
}

/**
 * The `Labels` column is `k=v,k2=v2`. A value could itself hold a comma; drydock's own labels never
 * do, and a pair without `=` is glued back to the value before it so nothing is silently invented.
 */
export function parseLabelList(text: string | undefined): Labels {
  const labels: Labels = {};
  if (!text) return labels;
  let lastKey: string | undefined;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) {
      lastKey = part.slice(0, eq);
      labels[lastKey] = part.slice(eq + 1);
    } else if (lastKey !== undefined) {
      labels[lastKey] += `,${part}`;
    }
  }
  return labels;
}

function jsonLines(stdout: string, what: string): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = [];
  for (const [index, line] of stdout.split('\n').entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`${what}: line ${index + 1} is not JSON: ${line.slice(0, 120)}`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new Error(`${what}: line ${index + 1} is not a JSON object`);
    }
    rows.push(value as Record<string, unknown>);
  }
  return rows;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

/** `Names` may list several names (links); the container's own name is the first. */
export function parseContainerListing(stdout: string): ContainerRecord[] {
  return jsonLines(stdout, 'docker ps').map((row) => ({
    id: str(row.ID),
    name: str(row.Names).split(',')[0] ?? '',
    image: str(row.Image),
    state: str(row.State).toLowerCase() || stateFromStatus(str(row.Status)),
    status: str(row.Status),
    createdAtMs: parseListingTime(str(row.CreatedAt)),
    labels: parseLabelList(str(row.Labels)),
  }));
}

/** `docker ps`'s Go-formatted time: `2006-01-02 15:04:05 -0700 MST`. */
export function parseListingTime(text: string): number | undefined {
  const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.\d+)? ([+-]\d\d)(\d\d)\b/.exec(text);
  if (!match) return undefined;
  const ms = Date.parse(`${match[1]}T${match[2]}${match[3]}:${match[4]}`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Old engines leave `State` out of `docker ps`; `Status` ("Up 3 minutes", "Exited (0) …") still says it. */
function stateFromStatus(status: string): string {
  if (/^up\b/i.test(status)) return /\(paused\)/i.test(status) ? 'paused' : 'running';
  if (/^exited\b/i.test(status)) return 'exited';
  if (/^created\b/i.test(status)) return 'created';
  if (/^restarting\b/i.test(status)) return 'restarting';
  if (/^removal in progress\b/i.test(status)) return 'removing';
  if (/^dead\b/i.test(status)) return 'dead';
  return 'unknown';
}

export function parseNetworkListing(stdout: string): NetworkRecord[] {
  return jsonLines(stdout, 'docker network ls').map((row) => ({
    id: str(row.ID),
    name: str(row.Name),
    driver: str(row.Driver),
    internal: str(row.Internal) === 'true',
    labels: parseLabelList(str(row.Labels)),
  }));
}

export { mergeTimestampedStreams } from './log-stream.js';
