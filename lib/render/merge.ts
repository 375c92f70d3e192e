/**
 * How compose combines `-f base -f overlay`, for the keys drydock writes: mappings merge key by
 * key, capability and option lists are unions, mounts merge by target, anything else the overlay
 * replaces. Used to check the invariants on what compose will actually run, not on each file alone.
 */
import type { BindMount, ComposeFile, ComposeNetwork, ComposeService } from './compose-types.js';

const MAPPINGS = new Set(['labels', 'environment', 'depends_on']);
const UNION_LISTS = new Set(['cap_add', 'cap_drop', 'security_opt', 'tmpfs', 'group_add', 'networks', 'ports']);

function mergeService(base: ComposeService, over: ComposeService): ComposeService {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over) as Array<[string, unknown]>) {
    const previous = merged[key];
    if (previous === undefined) {
      merged[key] = value;
    } else if (MAPPINGS.has(key)) {
      merged[key] = { ...(previous as object), ...(value as object) };
    } else if (UNION_LISTS.has(key)) {
      merged[key] = [...new Set([...(previous as unknown[]), ...(value as unknown[])])];
    } else if (key === 'volumes') {
      const byTarget = new Map<string, BindMount>();
      for (const mount of [...(previous as BindMount[]), ...(value as BindMount[])]) byTarget.set(mount.target, mount);
      merged[key] = [...byTarget.values()];
    } else {
      merged[key] = value;
    }
  }
  return merged as ComposeService;
}

export function mergeCompose(base: ComposeFile, overlay: ComposeFile): ComposeFile {
  const services: Record<string, ComposeService> = {};
  for (const name of new Set([...Object.keys(base.services), ...Object.keys(overlay.services)])) {
    services[name] = mergeService(base.services[name] ?? {}, overlay.services[name] ?? {});
  }
  const merged: ComposeFile = { services };
  if (base.networks || overlay.networks) {
    const networks: Record<string, ComposeNetwork> = {};
    for (const [name, net] of Object.entries({ ...base.networks })) networks[name] = { ...net };
    for (const [name, net] of Object.entries({ ...overlay.networks })) networks[name] = { ...networks[name], ...net };
    merged.networks = networks;
  }
  return merged;
}
