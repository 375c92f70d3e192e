/**
 * The thin shell of the kubernetes target's render: load and compile the allowlists with the very
 * code the compose render uses (so the ConfigMap carries the same bytes), build the objects, check
 * names, invariants and schemas, then write every file in one atomic step. Any failure before the
 * write leaves the output directory as it was.
 *
 * The agent-side Pods (agent, probe) pin the proxy Service's ClusterIP in /etc/hosts, and only the
 * cluster knows it once the Service exists: `run` renders them after applying the proxy side;
 * `render` writes them only when given that address (--proxy-ip).
 */
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { Document } from 'yaml';
import { randomBytes } from 'node:crypto';
import { loadAllowlistsOrThrow } from '../allowlist/sources.js';
import type { AllowEntry } from '../allowlist/types.js';
import { checkSessionEgress, renderSessionEgress } from '../egress/session-egress.js';
import { ExternalError, UsageError, formatDiagnostic } from '../errors.js';
import { writeFilesAtomic } from '../fs-atomic.js';
import { HTTPS_PORT } from '../names.js';
import { CONTAINED_SETTINGS, requireSettings, type Settings } from '../settings.js';
import { checkKubernetesInvariants } from './invariants.js';
import { agentPod, probePod, proxySideObjects, type KubernetesObject, type KubernetesSessionSpec } from './manifests.js';
import { K8S_FILE_NAMES, assertKubernetesSessionId, namespaceName } from './names.js';
import { validateKubernetesObjects } from './validate.js';

export interface KubernetesRenderRequest {
  settings: Settings;
  observe: boolean;
  sessionId: string;
  /** The filter generation (hex; default: random), as in the compose render. */
  generation?: string;
}

/** Kubernetes has no docker.sock to hand out: dood is refused, with the way to get a jail. */
export function assertContainedMode(settings: Settings): void {
  requireSettings(settings, 'mode');
  if (settings.mode !== 'contain') {
    throw new UsageError('--target kubernetes runs contained sessions only (dood mounts a Docker socket, which a cluster Pod does not have)', {
      hint: 'drop --mode dood (and DRYDOCK_MODE), or use --target compose',
    });
  }
}

export interface KubernetesSession {
  spec: KubernetesSessionSpec;
  namespace: string;
  egressImagePinned: boolean;
  allowlist: { sources: Array<{ path: string; kind: string; exists: boolean; entries: number }>; effectiveEntries: number };
  /** Allowlist warnings, one `FILE:LINE: …` line each, for the caller to print on stderr. */
  warnings: string[];
}

/**
 * The TCP ports the proxy may connect out on: those the user's entries name (not the reload check
 * host's, which tinyproxy answers itself). A NetworkPolicy rule with an empty port list allows
 * every port, so an allowlist naming none gets 443, as tinyproxy.conf gets its one ConnectPort
 * (the empty filter denies everything anyway).
 */
export function policyPorts(entries: readonly AllowEntry[]): number[] {
  const ports = [...new Set(entries.flatMap((entry) => entry.rules.map((rule) => rule.port)))].sort((a, b) => a - b);
  return ports.length > 0 ? ports : [HTTPS_PORT];
}

/** Everything the manifests are made of, from the environment and the allowlists. Throws on bad input. */
export function kubernetesSession(req: KubernetesRenderRequest): KubernetesSession {
  const { settings } = req;
  assertContainedMode(settings);
  requireSettings(settings, ...CONTAINED_SETTINGS, 'agentImage', 'limits');
  assertKubernetesSessionId(req.sessionId);
  const loaded = loadAllowlistsOrThrow({ files: settings.allowlists });
  // The very files the compose sidecar gets (lib/render/session-files.ts makes the same calls).
  const egress = renderSessionEgress({
    sessionId: req.sessionId, project: settings.project, entries: loaded.entries, observe: req.observe,
    generation: req.generation ?? randomBytes(6).toString('hex'),
    proxyLimits: { maxClients: settings.limits.egress.maxClients, idleTimeoutSeconds: settings.limits.egress.idleTimeoutSeconds },
  });
  const problems = checkSessionEgress(egress, req.observe);
  if (problems.length > 0) throw new ExternalError(`the compiled egress filter fails its checks: ${problems.join('; ')}`, { hint: 'this is a drydock bug: nothing was written; please report it' });
  const spec: KubernetesSessionSpec = {
    sessionId: req.sessionId,
    project: settings.project,
    observe: req.observe,
    agentImage: settings.images.agent,
    egressImage: settings.images.egress,
    egressFiles: egress.files,
    proxyPorts: policyPorts(loaded.entries),
    limits: settings.limits,
    userEnv: { ...settings.env },
  };
  return {
    spec,
    namespace: namespaceName(req.sessionId),
    egressImagePinned: settings.images.egressPinned,
    allowlist: {
      sources: loaded.sources.map((s) => ({ path: s.path, kind: s.kind, exists: s.exists, entries: s.entries.length })),
      effectiveEntries: loaded.entries.length,
    },
    warnings: [
      ...loaded.warnings.map((d) => formatDiagnostic(d)),
      // The proxy's NetworkPolicy refuses private addresses for every name: say so, never widen it.
      ...loaded.entries.filter((e) => e.private).map((e) => `${e.source.file}:${e.source.line}: \`${e.canonical}\` opens nothing on --target kubernetes: the proxy's NetworkPolicy refuses private addresses for every name (a policy cannot opt one name in)`),
    ],
  };
}

export function assertProxyAddress(address: string): string {
  if (isIP(address) === 0) {
    throw new UsageError(`--proxy-ip: "${address}" is not an IP address`, {
      hint: 'give the proxy Service\'s ClusterIP: kubectl -n NAMESPACE get service drydock-egress -o jsonpath={.spec.clusterIP}',
    });
  }
  return address;
}

/** Multi-document YAML, 1.1 quoting (kubectl's YAML reader would take an unquoted `false` for a bool). */
export function manifestYaml(objects: readonly KubernetesObject[], header: string): string {
  const docs = objects.map((object, i) => {
    const doc = new Document(object, { version: '1.1' });
    if (i === 0) doc.commentBefore = header.split('\n').map((line) => ` ${line}`).join('\n');
    return doc.toString({ lineWidth: 0 });
  });
  return docs.join('---\n');
}

export interface KubernetesDocuments {
  proxy: KubernetesObject[];
  probe?: KubernetesObject[];
  agent?: KubernetesObject[];
}

/** The objects, checked: names and schemas (exit 2 or 3), then the jail's invariants (exit 3). */
export function checkedDocuments(spec: KubernetesSessionSpec, proxyAddress?: string): KubernetesDocuments {
  const docs: KubernetesDocuments = { proxy: proxySideObjects(spec) };
  if (proxyAddress !== undefined) {
    docs.probe = [probePod(spec, proxyAddress)];
    docs.agent = [agentPod(spec, proxyAddress)];
  }
  const all = [...docs.proxy, ...(docs.probe ?? []), ...(docs.agent ?? [])];
  validateKubernetesObjects(all, `session ${spec.sessionId} (kubernetes)`);
  const violations = checkKubernetesInvariants({
    objects: all,
    sessionId: spec.sessionId,
    ports: spec.observe ? 'any' : spec.proxyPorts,
    proxyAddress,
  });
  if (violations.length > 0) {
    throw new ExternalError(`the rendered kubernetes session breaks its invariants: ${violations.map((v) => v.message).join('; ')}`, {
      hint: 'this is a drydock bug: nothing was written or applied; please report it',
    });
  }
  return docs;
}

function header(spec: KubernetesSessionSpec, what: string, next: string): string {
  return [
    `drydock session ${spec.sessionId}: ${what}. Generated by drydock render --target kubernetes; do not edit.`,
    `Namespace ${namespaceName(spec.sessionId)}. ${next}`,
  ].join('\n');
}

export interface WrittenManifests {
  proxy: string;
  probe?: string;
  agent?: string;
}

/** Writes the checked documents into `outDir`, all files in one atomic step. */
export function writeManifests(spec: KubernetesSessionSpec, docs: KubernetesDocuments, outDir: string): WrittenManifests {
  const dir = resolve(outDir);
  const files: WrittenManifests = { proxy: join(dir, K8S_FILE_NAMES.proxy) };
  const writes = [{ path: files.proxy, content: manifestYaml(docs.proxy, header(spec, 'the proxy side', 'Applied first; the agent side waits for the proxy Pod to be Ready.')) }];
  if (docs.probe) {
    files.probe = join(dir, K8S_FILE_NAMES.probe);
    writes.push({ path: files.probe, content: manifestYaml(docs.probe, header(spec, 'the NetworkPolicy probe', 'Must end Succeeded, logging "drydock-probe: enforced", before the agent is applied.')) });
  }
  if (docs.agent) {
    files.agent = join(dir, K8S_FILE_NAMES.agent);
    writes.push({ path: files.agent, content: manifestYaml(docs.agent, header(spec, 'the agent', 'Applied last.')) });
  }
  writeFilesAtomic(writes);
  return files;
}
