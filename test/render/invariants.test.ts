/**
 * Each invariant is shown to bite: the rendered session has no violations, and removing (or, for
 * the negatives, adding) exactly one property yields exactly that one violation. Every mutation
 * touches one service or network block, so a property elsewhere in the file cannot mask it.
 */
import { describe, expect, it } from 'vitest';
import type { ComposeFile, ComposeService } from '../../lib/render/compose-types.js';
import { checkContainedInvariants, checkDoodInvariants } from '../../lib/render/invariants.js';
import { mergeCompose } from '../../lib/render/merge.js';
import { renderOverlay } from '../../lib/render/overlay.js';
import { testSpec } from './spec.js';

function merged(mode: 'contain' | 'dood', observe = false): ComposeFile {
  const { base, overlay } = renderOverlay(testSpec({ mode, observe, dockerSocketGid: 999 }));
  return mergeCompose(base, overlay);
}

const codes = (violations: Array<{ code: string }>) => violations.map((v) => v.code);
const agentOf = (doc: ComposeFile): ComposeService => doc.services.drydock!;
const sidecarOf = (doc: ComposeFile): ComposeService => doc.services['drydock-egress']!;
const holderOf = (doc: ComposeFile): ComposeService => doc.services['drydock-netns']!;

type Mutation = [name: string, code: string, mutate: (doc: ComposeFile) => void];

const containedMutations: Mutation[] = [
  ['internal network loses internal: true', 'internal-network-not-internal', (d) => void delete d.networks!.drydock_internal!.internal],
  ['internal network is internal: false', 'internal-network-not-internal', (d) => void (d.networks!.drydock_internal!.internal = false)],
  ['internal network gives the host an address', 'internal-network-host-reachable', (d) => void delete d.networks!.drydock_internal!.driver_opts],
  ['internal network loses its explicit name', 'internal-network-name', (d) => void delete d.networks!.drydock_internal!.name],
  ['egress network is not external', 'egress-network-external', (d) => void delete d.networks!.drydock_egress!.external],
  ['agent also joins the NAT bridge', 'agent-networks', (d) => void (agentOf(d).networks = ['drydock_egress'])],
  ['agent on the host network', 'agent-networks', (d) => void (agentOf(d).network_mode = 'host')],
  ['agent in the sidecar\'s namespace', 'agent-networks', (d) => void (agentOf(d).network_mode = 'service:drydock-egress')],
  ['agent with a network of its own', 'agent-networks', (d) => void (delete agentOf(d).network_mode, (agentOf(d).networks = ['drydock_internal']))],
  ['holder missing', 'netns-holder', (d) => void delete d.services['drydock-netns']],
  ['holder also on the NAT bridge', 'netns-networks', (d) => void holderOf(d).networks!.push('drydock_egress')],
  ['holder on the host network', 'netns-networks', (d) => void ((holderOf(d).networks = []), (holderOf(d).network_mode = 'host'))],
  ['holder from another image', 'netns-image', (d) => void (holderOf(d).image = 'debian:bookworm')],
  ['holder as root', 'netns-user', (d) => void (holderOf(d).user = '0:0')],
  ['holder keeps its capabilities', 'netns-cap-drop', (d) => void delete holderOf(d).cap_drop],
  ['holder may gain privileges', 'netns-no-new-privileges', (d) => void (holderOf(d).security_opt = [])],
  ['holder writable', 'netns-read-only', (d) => void delete holderOf(d).read_only],
  ['holder runs the proxy', 'netns-command', (d) => void delete holderOf(d).entrypoint],
  ['holder runs something else', 'netns-command', (d) => void (holderOf(d).command = ['bash'])],
  ['holder mounts the host', 'netns-fields', (d) => void (holderOf(d).volumes = [{ type: 'bind', source: '/', target: '/host' }])],
  ['holder adds a capability', 'netns-fields', (d) => void (holderOf(d).cap_add = ['NET_ADMIN'])],
  ['holder names a resolver for the agent', 'netns-fields', (d) => void ((holderOf(d) as Record<string, unknown>).dns = ['8.8.8.8'])],
  ['holder maps a name for the agent', 'netns-fields', (d) => void ((holderOf(d) as Record<string, unknown>).extra_hosts = ['api.anthropic.com:1.2.3.4'])],
  ['holder sets a sysctl', 'netns-fields', (d) => void (holderOf(d).sysctls = { 'net.ipv4.ip_forward': 1 })],
  ['holder without limits', 'netns-limits', (d) => void delete holderOf(d).pids_limit],
  ['holder without its role label', 'labels', (d) => void (holderOf(d).labels!['drydock.role'] = 'egress')],
  ['holder publishes a port', 'ports', (d) => void ((holderOf(d) as Record<string, unknown>).ports = ['8888:8888'])],
  ['sidecar only on the internal network', 'sidecar-networks', (d) => void (sidecarOf(d).networks = ['drydock_internal'])],
  ['sidecar only on the NAT bridge', 'sidecar-networks', (d) => void (sidecarOf(d).networks = ['drydock_egress'])],
  ['sidecar gains a capability', 'sidecar-cap-add', (d) => void (sidecarOf(d).cap_add = ['NET_ADMIN'])],
  ['sidecar keeps its capabilities', 'sidecar-cap-drop', (d) => void delete sidecarOf(d).cap_drop],
  ['agent keeps its capabilities', 'agent-cap-drop', (d) => void delete agentOf(d).cap_drop],
  ['non-root agent gains CHOWN', 'agent-nonroot-cap-add', (d) => void (agentOf(d).cap_add = ['CHOWN'])],
  ['agent runs as the image\'s USER', 'agent-user', (d) => void delete agentOf(d).user],
  ['agent user by name', 'agent-user', (d) => void (agentOf(d).user = 'agent')],
  ['agent runs as root without --allow-root', 'agent-root', (d) => void (agentOf(d).user = '0:0')],
  ['agent mounts the host\'s home', 'agent-mounts', (d) => void agentOf(d).volumes!.push({ type: 'bind', source: '/root', target: '/root' })],
  ['agent may gain privileges', 'agent-no-new-privileges', (d) => void (agentOf(d).security_opt = [])],
  ['sidecar may gain privileges', 'sidecar-no-new-privileges', (d) => void delete sidecarOf(d).security_opt],
  ['sidecar is privileged', 'privileged', (d) => void (sidecarOf(d).privileged = true)],
  ['agent is privileged', 'privileged', (d) => void (agentOf(d).privileged = true)],
  ['sidecar runs as root', 'sidecar-user', (d) => void delete sidecarOf(d).user],
  ['sidecar root filesystem writable', 'sidecar-read-only', (d) => void delete sidecarOf(d).read_only],
  // The mounts stay read-only: a volume's read_only must not satisfy the service's.
  ['sidecar read_only only on its volumes', 'sidecar-read-only', (d) => void (sidecarOf(d).read_only = false)],
  ['sidecar without a /tmp tmpfs', 'sidecar-tmpfs', (d) => void (sidecarOf(d).tmpfs = sidecarOf(d).tmpfs!.filter((t) => !t.startsWith('/tmp')))],
  ['sidecar without a healthcheck', 'sidecar-healthcheck', (d) => void delete sidecarOf(d).healthcheck],
  ['sidecar healthcheck disabled', 'sidecar-healthcheck', (d) => void (sidecarOf(d).healthcheck!.disable = true)],
  ['sidecar healthcheck that tests nothing', 'sidecar-healthcheck', (d) => void (sidecarOf(d).healthcheck!.test = ['CMD', 'true'])],
  ['sidecar filter mount writable', 'sidecar-mounts', (d) => void delete sidecarOf(d).volumes![0]!.read_only],
  ['sidecar without its config mount', 'sidecar-mounts', (d) => void sidecarOf(d).volumes!.shift()],
  ['sidecar without the address floor\'s resolv.conf', 'sidecar-mounts', (d) => void sidecarOf(d).volumes!.pop()],
  ['sidecar resolv.conf from the host (Docker\'s resolvers, no floor)', 'sidecar-resolv-conf', (d) => void (sidecarOf(d).volumes!.at(-1)!.source = '/etc/resolv.conf')],
  ['sidecar resolv.conf from another session', 'sidecar-resolv-conf', (d) => void (sidecarOf(d).volumes!.at(-1)!.source = '../other/resolv.conf')],
  ['sidecar without the resolver\'s port-53 sysctl', 'sidecar-sysctls', (d) => void delete sidecarOf(d).sysctls],
  ['sidecar sets another sysctl', 'sidecar-sysctls', (d) => void (sidecarOf(d).sysctls = { ...sidecarOf(d).sysctls, 'net.ipv4.ip_forward': 1 })],
  ['sidecar opens every port to its user', 'sidecar-sysctls', (d) => void (sidecarOf(d).sysctls = { 'net.ipv4.ip_unprivileged_port_start': 0 })],
  ['sidecar mounts docker.sock', 'sidecar-mounts', (d) => void sidecarOf(d).volumes!.push({ type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock' })],
  ['agent starts before the sidecar is healthy', 'agent-depends-on', (d) => void (agentOf(d).depends_on!['drydock-egress'] = { condition: 'service_started' })],
  ['agent without depends_on', 'agent-depends-on', (d) => void delete agentOf(d).depends_on],
  ['agent without HTTPS_PROXY', 'agent-proxy-env', (d) => void delete agentOf(d).environment!.HTTPS_PROXY],
  ['agent http_proxy points elsewhere', 'agent-proxy-env', (d) => void (agentOf(d).environment!.http_proxy = 'http://proxy.test:8888')],
  ['agent bypasses the proxy for everything', 'agent-no-proxy', (d) => void (agentOf(d).environment!.NO_PROXY = '*')],
  ['agent without a telemetry default', 'agent-telemetry-defaults', (d) => void delete agentOf(d).environment!.DISABLE_TELEMETRY],
  ['agent mounts docker.sock', 'agent-mounts', (d) => void agentOf(d).volumes!.push({ type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock' })],
  ['agent without the workspace', 'agent-workspace', (d) => void (agentOf(d).volumes = [])],
  // The workspace guard's mounts sit under /workspace; a writable one must be a path of the project itself.
  ['agent mounts a host dir writable under /workspace', 'agent-mounts', (d) => void agentOf(d).volumes!.push({ type: 'bind', source: '/home/user/.ssh', target: '/workspace/.git' })],
  ['agent mount climbs out of /workspace', 'agent-mounts', (d) => void agentOf(d).volumes!.push({ type: 'bind', source: '/etc', target: '/workspace/../etc', read_only: true })],
  ['sidecar publishes the proxy port', 'ports', (d) => void (sidecarOf(d).ports = ['8888:8888'])],
  ['agent without labels', 'labels', (d) => void delete agentOf(d).labels],
  ['sidecar without drydock.session', 'labels', (d) => void delete sidecarOf(d).labels!['drydock.session']],
  ['sidecar without drydock.observe', 'labels', (d) => void delete sidecarOf(d).labels!['drydock.observe']],
  ['sidecar labelled as the agent', 'labels', (d) => void (sidecarOf(d).labels!['drydock.role'] = 'agent')],
  ['internal network without labels', 'labels', (d) => void delete d.networks!.drydock_internal!.labels],
  ['an extra service', 'unexpected-service', (d) => void (d.services.extra = { image: 'x' })],
];

const doodMutations: Mutation[] = [
  ['a sidecar appears', 'dood-services', (d) => void (d.services['drydock-egress'] = { image: 'drydock-egress:latest' })],
  ['an internal network appears', 'dood-networks', (d) => void (d.networks = { drydock_internal: { internal: true } })],
  ['the agent joins a network', 'dood-networks', (d) => void (agentOf(d).networks = ['default'])],
  ['the agent leaves the host network', 'dood-host-network', (d) => void delete agentOf(d).network_mode],
  ['docker.sock is not mounted', 'dood-socket', (d) => void (agentOf(d).volumes = agentOf(d).volumes!.filter((v) => !v.source.endsWith('docker.sock')))],
  ['a filter is mounted', 'dood-filter-mount', (d) => void agentOf(d).volumes!.push({ type: 'bind', source: './egress-filter', target: '/etc/drydock/egress-filter', read_only: true })],
  ['proxy variables are set', 'dood-proxy-env', (d) => void (agentOf(d).environment = { HTTPS_PROXY: 'http://x:8888' })],
  ['NO_PROXY is set', 'dood-proxy-env', (d) => void (agentOf(d).environment = { no_proxy: 'localhost' })],
  ['telemetry defaults are set', 'dood-telemetry', (d) => void (agentOf(d).environment = { DISABLE_TELEMETRY: '1' })],
  ['agent keeps its capabilities', 'agent-cap-drop', (d) => void delete agentOf(d).cap_drop],
  ['non-root agent gains FOWNER', 'agent-nonroot-cap-add', (d) => void (agentOf(d).cap_add = ['FOWNER'])],
  ['agent runs as root without --allow-root', 'agent-root', (d) => void (agentOf(d).user = '0:0')],
  ['agent may gain privileges', 'agent-no-new-privileges', (d) => void delete agentOf(d).security_opt],
  ['agent is privileged', 'privileged', (d) => void (agentOf(d).privileged = true)],
  ['agent without drydock.mode', 'labels', (d) => void delete agentOf(d).labels!['drydock.mode']],
];

describe('contained-mode invariants', () => {
  it('hold for the rendered session, with and without --observe', () => {
    expect(checkContainedInvariants(merged('contain'))).toEqual([]);
    expect(checkContainedInvariants(merged('contain', true))).toEqual([]);
  });

  it('are scoped to their block: the agent has its home mount while the sidecar must not', () => {
    const doc = merged('contain');
    expect(agentOf(doc).volumes!.some((v) => v.target === '/home/agent')).toBe(true);
    expect(sidecarOf(doc).cap_add).toBeUndefined();
    expect(sidecarOf(doc).volumes!.every((v) => v.read_only === true)).toBe(true);
  });

  it('let a root agent keep exactly its five capabilities, only when asked for (--allow-root)', () => {
    const root = testSpec({ agent: { ...testSpec().agent, user: '0:0', root: true } });
    const { base, overlay } = renderOverlay(root);
    const doc = mergeCompose(base, overlay);
    expect(agentOf(doc).cap_add).toEqual(['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETGID', 'SETUID']);
    expect(codes(checkContainedInvariants(doc))).toEqual(['agent-root']);
    expect(checkContainedInvariants(doc, { rootAgent: true })).toEqual([]);
    agentOf(doc).cap_add!.push('NET_RAW');
    expect(codes(checkContainedInvariants(doc, { rootAgent: true }))).toEqual(['agent-cap-add']);
  });

  it('accept the telemetry variables missing only when DRYDOCK_TELEMETRY=on asked for it', () => {
    const { base, overlay } = renderOverlay(testSpec({ agent: { ...testSpec().agent, telemetryDefaults: false } }));
    const doc = mergeCompose(base, overlay);
    expect(agentOf(doc).environment!.DISABLE_TELEMETRY).toBeUndefined();
    expect(codes(checkContainedInvariants(doc))).toEqual(['agent-telemetry-defaults']);
    expect(checkContainedInvariants(doc, { telemetryDefaults: false })).toEqual([]);
  });

  it.each(containedMutations)('%s → exactly %s', (_name, code, mutate) => {
    const doc = structuredClone(merged('contain'));
    mutate(doc);
    expect(codes(checkContainedInvariants(doc))).toEqual([code]);
  });

  it('finds a dood render wrong as a contained one', () => {
    expect(codes(checkContainedInvariants(merged('dood')))).toContain('agent-networks');
  });
});

describe('dood-mode invariants', () => {
  it('hold for the rendered session', () => {
    expect(checkDoodInvariants(merged('dood'))).toEqual([]);
  });

  it.each(doodMutations)('%s → exactly %s', (_name, code, mutate) => {
    const doc = structuredClone(merged('dood'));
    mutate(doc);
    expect(codes(checkDoodInvariants(doc))).toEqual([code]);
  });

  it('finds a contained render wrong as a dood one', () => {
    expect(codes(checkDoodInvariants(merged('contain')))).toEqual(
      expect.arrayContaining(['dood-services', 'dood-networks', 'dood-host-network', 'dood-socket', 'dood-proxy-env', 'dood-telemetry']),
    );
  });
});

describe('workspace guard mounts', () => {
  it('a writable git dir of the project and read-only paths under /workspace keep the invariants', () => {
    const spec = testSpec({ mode: 'contain', observe: false });
    spec.workspaceMounts = [
      { type: 'bind', source: '/work/demo/.git', target: '/workspace/.git' },
      { type: 'bind', source: '/work/demo/.git/config', target: '/workspace/.git/config', read_only: true },
      { type: 'bind', source: '/state/sessions/s/workspace-guard-empty', target: '/workspace/.git/hooks', read_only: true },
    ];
    const { base, overlay } = renderOverlay(spec);
    expect(checkContainedInvariants(mergeCompose(base, overlay))).toEqual([]);
  });
});
