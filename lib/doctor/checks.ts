/**
 * Doctor's engine-side checks, as pure functions of what the engine said. Each non-pass check
 * carries the fix; lib/doctor/sections.ts gathers the facts, the command prints.
 */
import type { EngineProbe } from '../docker/client.js';
import { describeCompose, type ComposeFlavour } from '../docker/compose.js';
import { COMPOSE_HINT, DOCKER_CLI_HINT, ENGINE_HINT } from '../docker/failure.js';
import type { NetworkRecord } from '../docker/listing.js';
import { LABELS } from '../names.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface Check {
  status: CheckStatus;
  name: string;
  detail: string;
  fix?: string;
}

export interface Section {
  name: string;
  checks: Check[];
}

export const pass = (name: string, detail: string): Check => ({ status: 'pass', name, detail });
export const warn = (name: string, detail: string, fix: string): Check => ({ status: 'warn', name, detail, fix });
export const fail = (name: string, detail: string, fix: string): Check => ({ status: 'fail', name, detail, fix });

/** `target`: which engine the CLI talks to, as the user configured it (settings.engine.target). */
export function engineChecks(probe: EngineProbe, target: string): Check[] {
  if (!probe.cliFound) return [fail('docker CLI', 'not found on PATH', DOCKER_CLI_HINT)];
  const cli = pass('docker CLI', probe.clientVersion ? `client ${probe.clientVersion}` : 'present');
  if (!probe.info) {
    return [cli, fail('engine', `unreachable via ${target}: ${probe.error ?? 'no answer'}`, ENGINE_HINT)];
  }
  const os = probe.info.operatingSystem ? ` on ${probe.info.operatingSystem}` : '';
  return [cli, pass('engine', `server ${probe.info.serverVersion || 'unknown version'}${os} via ${target}`)];
}

export function composeChecks(flavour: ComposeFlavour): Check[] {
  if (flavour.kind === 'none') return [fail('compose', flavour.reason, COMPOSE_HINT)];
  const note = flavour.kind === 'v1' ? " (Debian's standalone docker-compose; supported)" : '';
  return [pass('compose', `${describeCompose(flavour)}${note}`)];
}

export interface ImageFacts {
  role: 'agent' | 'sidecar';
  image: string;
  /** Whether it is drydock's default (which drydock or the user builds from templates/). */
  isDefault: boolean;
  exists?: boolean;
  /** drydock's own sidecar image, built from other templates (lib/egress/image.ts). */
  stale?: boolean;
  error?: string;
  buildHint: string;
}

export function imageCheck(facts: ImageFacts): Check {
  const name = `${facts.role} image`;
  if (facts.error) return fail(name, `${facts.image}: ${facts.error}`, ENGINE_HINT);
  if (facts.exists && facts.stale) {
    return warn(name, `${facts.image} was built from other templates (another drydock version, or by hand); \`drydock run\` rebuilds it before the next session`, 'nothing to do, or rebuild it now by running a session');
  }
  if (facts.exists) return pass(name, `${facts.image} is present`);
  if (facts.role === 'sidecar' && facts.isDefault) {
    return warn(name, `${facts.image} is missing; \`drydock run\` builds it on first use`, facts.buildHint);
  }
  if (facts.isDefault) return warn(name, `${facts.image} is missing`, facts.buildHint);
  return fail(name, `${facts.image} is not on the engine; \`drydock run\` will refuse to start`, `docker pull ${facts.image} (or unset the variable that names it)`);
}

export function capabilityChecks(securityOptions: readonly string[]): Check[] {
  const checks: Check[] = [];
  if (securityOptions.includes('rootless')) {
    checks.push(
      warn(
        'rootless engine',
        'the engine runs rootless: contained mode needs an engine that can create internal (no-route) networks and a NAT bridge',
        'check with `docker network create --internal drydock-probe && docker network rm drydock-probe`, or use a rootful engine',
      ),
    );
  }
  if (securityOptions.includes('userns')) {
    checks.push(
      warn(
        'user namespaces',
        'userns remapping is on: files the agent writes in /workspace are owned by remapped uids on the host',
        'expect to chown files after a session, or run the session on an engine without userns-remap',
      ),
    );
  }
  if (!checks.length) {
    checks.push(pass('engine capabilities', `rootful engine${securityOptions.length ? ` (${securityOptions.join(', ')})` : ''}`));
  }
  return checks;
}

/**
 * Docker's default address pools give 15 /16s from 172.17.0.0/12 and 16 /20s from 192.168.0.0/16:
 * 31 bridge networks in all, the default `bridge` included. Daemons with custom pools may have more;
 * this is a conservative estimate, so it only ever warns.
 */
export const DEFAULT_POOL_SIZE = 31;
export const LOW_POOL_HEADROOM = 5;

export function networkPoolCheck(networks: readonly NetworkRecord[]): Check {
  const bridges = networks.filter((n) => n.driver === 'bridge');
  const sessions = bridges.filter((n) => n.labels[LABELS.session]).length;
  const left = DEFAULT_POOL_SIZE - bridges.length;
  const detail =
    `${bridges.length} bridge networks exist (${sessions} of them drydock session networks); about ${Math.max(left, 0)} ` +
    `of the ${DEFAULT_POOL_SIZE} default address pools are left, and each contained session takes one`;
  if (left < LOW_POOL_HEADROOM) {
    return warn(
      'address pool',
      detail,
      'reap leftovers with `drydock gc` and `docker network prune`, or give the daemon more room: "default-address-pools" in daemon.json (e.g. {"base":"10.210.0.0/16","size":24})',
    );
  }
  return pass('address pool', detail);
}

export function egressNetworkCheck(networks: readonly NetworkRecord[], name: string): Check {
  const shared = networks.find((n) => n.name === name);
  if (!shared) return pass('shared egress network', `${name} does not exist yet; \`drydock run\` creates it`);
  if (shared.internal) {
    return fail('shared egress network', `${name} is an internal network: the sidecar could reach nothing`, `docker network rm ${name} (drydock recreates it as a NAT bridge)`);
  }
  return pass('shared egress network', `${name} exists (${shared.driver})`);
}

/**
 * dood sessions bind-mount the host's /var/run/docker.sock. An engine reached only through another
 * socket (DOCKER_HOST=unix:///elsewhere) cannot be handed to a dood agent that way.
 */
export function doodSocketCheck(socketExists: boolean, target: string, socket: string): Check {
  if (socketExists) return pass('dood socket', `${socket} exists`);
  return warn(
    'dood socket',
    `${socket} does not exist (engine reached via ${target}): dood sessions, which mount it, cannot start`,
    'use contained mode (the default), or point DOCKER_HOST at the engine\'s unix socket (unix:///path/docker.sock): dood mounts that socket',
  );
}

export const notChecked = (what: string): Check =>
  warn(what, 'not checked: the engine is unreachable', 'fix the ENGINE section first');

/**
 * Engines before 23.0.11, 25.0.4 and 26.0.0 forward DNS queries from an `internal: true` network
 * to the host's resolver when that resolver is on loopback (CVE-2024-29018): a DNS exfiltration
 * path out of the jail that no proxy setting closes. Version strings we cannot read are not judged.
 */
export function internalDnsCheck(serverVersion: string): Check {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(serverVersion);
  if (!m) return warn('internal-network DNS', `cannot read the engine version "${serverVersion}"`, 'use Docker Engine 26.0.0 or later (or 25.0.4+, 23.0.11+)');
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const cmp = (a: number[], b: number[]) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;
  const v = [major, minor, patch];
  const fixed =
    cmp(v, [26, 0, 0]) >= 0 ||
    (major === 25 && cmp(v, [25, 0, 4]) >= 0) ||
    (major === 23 && cmp(v, [23, 0, 11]) >= 0);
  if (fixed) return pass('internal-network DNS', `engine ${serverVersion} does not forward DNS out of internal networks`);
  return warn(
    'internal-network DNS',
    `engine ${serverVersion} can forward the agent's DNS queries out of its internal network when the host resolver is on loopback (CVE-2024-29018): a DNS exfiltration path`,
    'upgrade to Docker Engine 26.0.0 or later (or 25.0.4+, 23.0.11+); see docs/security.md',
  );
}
