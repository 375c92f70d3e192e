/**
 * Reading a compose document loosely (pure): the list or mapping forms drydock writes and
 * `compose config` prints. Shared by the invariants of the session, the holder and the limits.
 */
export type Block = Record<string, unknown>;

/** A mapping, or undefined for anything else (a list, a scalar, null). */
export function block(value: unknown): Block | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Block) : undefined;
}

/** A list of strings, a single string as a one-item list, anything else as none. */
export function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
}

/** The same strings in the same order. */
export function sameSequence(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Service networks as names, from the list form or the mapping form. */
export function networkNames(service: Block): string[] {
  const value = service.networks;
  return Array.isArray(value) ? value.map(String) : Object.keys(block(value) ?? {});
}
