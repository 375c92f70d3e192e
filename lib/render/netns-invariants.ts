/**
 * What must hold of the network-namespace holder (lib/render/netns-holder.ts) in a merged contained
 * session: the agent shares its namespace, so whatever network the holder has, the agent has.
 * On the session network only; drydock's own image (the sidecar's), so the self-test's probe runs
 * trusted tools; nothing that could change the namespace or give the holder a way to act (no
 * capabilities, mounts, ports, sysctls, DNS or host entries, writable filesystem).
 */
import { INTERNAL_NETWORK_KEY, NETNS_SERVICE, SIDECAR_USER } from '../names.js';
import { NETNS_HOLDER_COMMAND } from './netns-holder.js';
import { block, networkNames, sameSequence, strings } from './compose-read.js';
import type { Violation } from './invariants.js';
import { NO_NEW_PRIVILEGES } from './overlay.js';

/**
 * Fields that would reach the agent through the shared namespace, or give the holder a way in or
 * out (`ports` and `network_mode` have their own checks).
 */
const FORBIDDEN_FIELDS = ['dns', 'dns_search', 'dns_opt', 'extra_hosts', 'hostname', 'domainname', 'mac_address', 'sysctls', 'expose',
  'volumes', 'volumes_from', 'devices', 'cap_add', 'privileged', 'pid', 'ipc', 'tmpfs', 'links', 'external_links'];

export function netnsHolderViolations(holderValue: unknown, expect: { sidecarImage: unknown }): Violation[] {
  const found: Violation[] = [];
  const require = (ok: boolean, code: string, message: string) => void (ok || found.push({ code, message }));
  const holder = block(holderValue);
  require(holder !== undefined, 'netns-holder', `${NETNS_SERVICE}: the agent's network namespace holder is missing`);
  if (!holder) return found;
  const nets = networkNames(holder);
  require(holder.network_mode === undefined && nets.length === 1 && nets[0] === INTERNAL_NETWORK_KEY, 'netns-networks', `${NETNS_SERVICE}: must be on ${INTERNAL_NETWORK_KEY} only (the agent shares its namespace)`);
  require(typeof holder.image === 'string' && holder.image === expect.sidecarImage, 'netns-image', `${NETNS_SERVICE}: must run the sidecar's image (the self-test's probe runs in it)`);
  require(String(holder.user ?? '') === SIDECAR_USER, 'netns-user', `${NETNS_SERVICE}: must run as ${SIDECAR_USER}`);
  require(strings(holder.cap_drop).includes('ALL'), 'netns-cap-drop', `${NETNS_SERVICE}: cap_drop must include ALL`);
  require(strings(holder.security_opt).includes(NO_NEW_PRIVILEGES), 'netns-no-new-privileges', `${NETNS_SERVICE}: security_opt must include ${NO_NEW_PRIVILEGES}`);
  require(holder.read_only === true, 'netns-read-only', `${NETNS_SERVICE}: must be read_only: true`);
  require(sameSequence(strings(holder.entrypoint), NETNS_HOLDER_COMMAND) && holder.command === undefined,
    'netns-command', `${NETNS_SERVICE}: must run only ${NETNS_HOLDER_COMMAND.join(' ')}`);
  const set = FORBIDDEN_FIELDS.filter((field) => {
    const value = holder[field];
    return value !== undefined && value !== null && value !== false && !(Array.isArray(value) && value.length === 0) && !(block(value) && Object.keys(block(value)!).length === 0);
  });
  require(set.length === 0, 'netns-fields', `${NETNS_SERVICE}: must not set ${set.join(', ')}`);
  require(holder.mem_limit !== undefined && holder.pids_limit !== undefined, 'netns-limits', `${NETNS_SERVICE}: needs mem_limit and pids_limit`);
  return found;
}
