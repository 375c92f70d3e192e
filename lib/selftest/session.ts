/**
 * The start-up self-test of a contained session (`run`, before the agent's command; `doctor
 * --session ID`, for a running one). The probe is a `docker exec` into the session's namespace
 * holder (lib/render/netns-holder.ts), the container whose network namespace the agent joined; one
 * `docker inspect`, run at the same time, gathers the addresses, which reach the probe on its stdin
 * once known; checks.ts decides, including that the agent really is in the namespace probed.
 *
 * Why the holder and not `docker exec` into the agent: the agent image is the user's, may lack
 * bash, and may be hostile (a fake `cat` could report no default route). The holder runs drydock's
 * own sidecar image (digest-pinned when the policy says so) and sees exactly the agent's
 * interfaces, routes, resolver and reachability. No packet leaves: the routes are read from /proc,
 * the canary goes to the sidecar only, and the unreachable addresses are the host's and the
 * sidecar's own.
 */
import { join } from 'node:path';
import type { Docker } from '../docker/client.js';
import type { RunResult } from '../docker/runner.js';
import { writeFileAtomic } from '../fs-atomic.js';
import type { ComposeFile } from '../render/compose-types.js';
import type { RenderedSession } from '../render/session-files.js';
import { composeYaml } from '../render/yaml.js';
import { PROXY_PORT, SELFTEST_CANARY_HOST, SIDECAR_USER } from '../names.js';
import {
  agentNamespaceCheck,
  answerControlCheck,
  canaryCheck,
  classifyConnect,
  ipv4DefaultRouteCheck,
  ipv6DefaultRouteCheck,
  proxyAddressCheck,
  proxyVariablesCheck,
  report,
  silenceOf,
  unreachableCheck,
  type SelfTestCheck,
  type SelfTestReport,
} from './checks.js';
import { PROBE_SCRIPT, parseProbeOutput, probeArgs, probeStdin, type ProbeTarget } from './probe.js';

export interface SelfTestSession {
  sessionId: string;
  agentContainer: string;
  /** The container whose network namespace the agent joined: the probe runs in it. */
  netnsContainer: string;
  egressContainer: string;
  internalNetwork: string;
  egressNetwork: string;
  /** The sidecar's image (the holder runs it too). */
  egressImage: string;
  /** Observe mode lets every destination through: the canary check does not apply (and is not run). */
  observe: boolean;
}

/**
 * How the probe looks at the socket table, in seconds: SETTLE after the canary's round trip (which
 * the connects start during), then again WINDOW later: 55 ms, so the reads are always more than
 * MIN_SILENCE_MS (50) apart. A short pair first, and one longer retry only when the short one was
 * inconclusive (a connect not yet started on a busy machine); checks.ts says when silence counts.
 */
export const PROBE_ATTEMPTS = [{ settle: 0.005, window: 0.055 }, { settle: 0.3, window: 0.3 }] as const;
const PROBE_TIMEOUT_MS = 20_000;
/** The port the host and sidecar addresses are probed on: any answer (even a refusal) is a hole. */
const HOST_PROBE_PORT = 80;

interface Inspected {
  agentEnv: Record<string, string>;
  /** The agent's HostConfig.NetworkMode: `container:<holder id>` when it joined the holder. */
  agentNetworkMode?: string;
  /** The holder's full id, when the engine has it. */
  holderId?: string;
  /** The sidecar's address on the session network (where the agent reaches the proxy). */
  sidecarInternalIp?: string;
  /** The session network's gateway address (owned by no one: inhibit_ipv4). */
  sessionGateway?: string;
  targets: ProbeTarget[];
}

const record = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
const ipOnly = (cidr: unknown): string | undefined => (typeof cidr === 'string' && cidr.includes('.') ? cidr.split('/')[0] : undefined);

/** What the inspect documents say: the agent's configured env, and every address that must be unreachable. */
export function inspectedFacts(docs: readonly unknown[], s: SelfTestSession): Inspected {
  const byName = new Map<string, Record<string, unknown>>();
  for (const doc of docs) {
    const r = record(doc);
    const name = String(r.Name ?? '').replace(/^\//, '');
    byName.set(name, r);
  }
  const agentEnv: Record<string, string> = {};
  const agentDoc = byName.get(s.agentContainer);
  const networkMode = record(agentDoc?.HostConfig).NetworkMode;
  const holderId = byName.get(s.netnsContainer)?.Id;
  const env = record(agentDoc?.Config).Env;
  for (const entry of Array.isArray(env) ? env : []) {
    const text = String(entry);
    const eq = text.indexOf('=');
    if (eq > 0) agentEnv[text.slice(0, eq)] = text.slice(eq + 1);
  }
  const gateways = (network: Record<string, unknown> | undefined): string[] => {
    const config = record(network?.IPAM).Config;
    return (Array.isArray(config) ? config : []).map((c) => record(c).Gateway).filter((g): g is string => typeof g === 'string' && g.includes('.'));
  };
  const endpointIp = (network: Record<string, unknown> | undefined, container: string): string | undefined => {
    for (const endpoint of Object.values(record(network?.Containers))) {
      if (record(endpoint).Name === container) return ipOnly(record(endpoint).IPv4Address);
    }
    return undefined;
  };
  const internal = byName.get(s.internalNetwork);
  const egress = byName.get(s.egressNetwork);
  const targets: ProbeTarget[] = [];
  const sidecarNat = endpointIp(egress, s.egressContainer);
  if (sidecarNat) targets.push({ what: 'sidecar-nat-address', ip: sidecarNat, port: PROXY_PORT });
  for (const ip of gateways(egress)) targets.push({ what: 'host-nat-gateway', ip, port: HOST_PROBE_PORT });
  for (const ip of gateways(internal)) targets.push({ what: 'host-session-gateway', ip, port: HOST_PROBE_PORT });
  for (const ip of gateways(byName.get('bridge'))) targets.push({ what: 'host-docker0', ip, port: HOST_PROBE_PORT });
  return {
    agentEnv, agentNetworkMode: typeof networkMode === 'string' ? networkMode : undefined, holderId: typeof holderId === 'string' ? holderId : undefined,
    sidecarInternalIp: endpointIp(internal, s.egressContainer), sessionGateway: gateways(internal)[0], targets,
  };
}

/** Every check, from the inspected facts and the probe's output. Pure. */
export function decideSelfTest(facts: Inspected, probeStdout: string, s: SelfTestSession): SelfTestReport {
  const out = parseProbeOutput(probeStdout);
  const checks: SelfTestCheck[] = [];
  if (!out.complete) {
    checks.push({ name: 'probe', ok: false, detail: `the probe did not run to its end: ${probeStdout.trim().split('\n').slice(-3).join(' | ').slice(0, 300) || 'no output'}` });
    return report(checks);
  }
  checks.push(agentNamespaceCheck({ networkMode: facts.agentNetworkMode }, { name: s.netnsContainer, id: facts.holderId }));
  checks.push(ipv4DefaultRouteCheck(out.route4, facts.sessionGateway), ipv6DefaultRouteCheck(out.route6));
  checks.push(proxyVariablesCheck(facts.agentEnv, s.egressContainer));
  checks.push(proxyAddressCheck(out.resolve, s.egressContainer, facts.sidecarInternalIp));
  if (!s.observe) checks.push(canaryCheck(out.canary, SELFTEST_CANARY_HOST));
  checks.push(answerControlCheck(`${facts.sidecarInternalIp ?? '(no address)'}:${PROXY_PORT}`, out.control && classifyConnect(out.control.exit, out.control.message)));
  // The NAT bridge always has a gateway (the host) and the sidecar an address on it; the session
  // network's gateway must be tested whenever a default route goes through it.
  const required = ['sidecar-nat-address', 'host-nat-gateway', ...(facts.sessionGateway ? ['host-session-gateway'] : [])];
  for (const what of required) {
    if (!facts.targets.some((t) => t.what === what)) checks.push({ name: `unreachable:${what}`, ok: false, detail: `the engine did not say what the ${what} is` });
  }
  for (const target of facts.targets) {
    const seen = out.connects.get(target.what + '@' + target.ip) ?? out.connects.get(target.what);
    const address = `${target.ip}:${target.port}`;
    const silence = silenceOf(address, out.looks.get('a'), out.looks.get('b'));
    checks.push(unreachableCheck(target.what, address, seen && classifyConnect(seen.exit, seen.message), silence));
  }
  return report(checks);
}

/** A failure that is only a want of time (nothing answered that must not), so a longer window may conclude. */
const onlyInconclusive = (r: SelfTestReport): boolean => r.checks.some((c) => !c.ok) && r.checks.every((c) => c.ok || c.inconclusive);

/**
 * The namespace half of the self-test, which does not need the agent: the holder's and the
 * networks' facts and the first probe. `run` starts it as soon as the sidecar is healthy, while
 * Compose is still starting the agent (lib/selftest/early.ts); runSelfTest then adds the agent.
 */
export interface NamespaceProbe {
  docs: unknown[];
  result: RunResult;
  /** How long it took (inspect beside probe), in ms. */
  ms: number;
}

const NAMESPACE_OBJECTS = (s: SelfTestSession): string[] => [s.netnsContainer, s.internalNetwork, s.egressNetwork, 'bridge'];

export async function probeNamespace(docker: Docker, s: SelfTestSession, now: () => number = Date.now): Promise<NamespaceProbe> {
  const started = now();
  const docs = docker.inspectObjects(NAMESPACE_OBJECTS(s));
  docs.catch(() => {}); // awaited below; a rejection must not be unhandled while the probe runs
  const result = await execProbe(docker, s, docs.then((d) => inspectedFacts(d, s)), PROBE_ATTEMPTS[0]);
  return { docs: await docs, result, ms: now() - started };
}

/**
 * The whole self-test: with `early` (the namespace half, already run) one inspect of the agent
 * decides; without it, the inspect runs beside the first probe's start (the probe reads routes
 * while drydock waits for the engine's answer, then reads the addresses from its stdin).
 */
export async function runSelfTest(docker: Docker, s: SelfTestSession, early?: NamespaceProbe): Promise<SelfTestReport> {
  let facts: Promise<Inspected>;
  let first: RunResult;
  if (early) {
    facts = docker.inspectObjects([s.agentContainer]).then((agent) => inspectedFacts([...agent, ...early.docs], s));
    first = early.result;
  } else {
    facts = docker.inspectObjects([s.agentContainer, ...NAMESPACE_OBJECTS(s)]).then((docs) => inspectedFacts(docs, s));
    facts.catch(() => {});
    first = await execProbe(docker, s, facts, PROBE_ATTEMPTS[0]);
  }
  // An engine error of the inspect is the self-test's error.
  let last = decideProbe(s, await facts, first);
  for (const attempt of PROBE_ATTEMPTS.slice(1)) {
    if (!onlyInconclusive(last)) break;
    last = decideProbe(s, await facts, await execProbe(docker, s, facts, attempt));
  }
  return last;
}

/** Each target is named WHAT@IP in the probe, so two gateways of one kind stay apart. */
const probeTargets = (facts: Inspected): ProbeTarget[] => facts.targets.map((t) => ({ ...t, what: `${t.what}@${t.ip}` }));

function execProbe(docker: Docker, s: SelfTestSession, facts: Promise<Inspected>, attempt: { settle: number; window: number }): Promise<RunResult> {
  return docker.execWithInput({
    container: s.netnsContainer,
    user: SIDECAR_USER,
    cmd: ['bash', '-c', PROBE_SCRIPT, ...probeArgs({ proxyHost: s.egressContainer, proxyPort: PROXY_PORT, canary: SELFTEST_CANARY_HOST, ...attempt })],
    // No facts, no input: the probe stops at `@no-input` (and the inspect's error is the caller's).
    input: facts.then((f) => probeStdin({ control: { ip: f.sidecarInternalIp ?? '', port: PROXY_PORT }, targets: probeTargets(f) }), () => ''),
    timeoutMs: PROBE_TIMEOUT_MS,
  });
}

function decideProbe(s: SelfTestSession, facts: Inspected, result: RunResult): SelfTestReport {
  if (result.timedOut) return report([{ name: 'probe', ok: false, detail: `the probe in ${s.netnsContainer} did not finish within ${PROBE_TIMEOUT_MS / 1000} s` }]);
  if (result.code !== 0 && !result.stdout.includes('@end')) {
    return report([{ name: 'probe', ok: false, detail: `the probe in ${s.netnsContainer} failed (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300)}` }]);
  }
  return decideSelfTest(facts, result.stdout, s);
}

/** What the self-test needs of a rendered contained session. */
export function selfTestSessionOf(rendered: RenderedSession): SelfTestSession {
  return {
    sessionId: rendered.sessionId,
    agentContainer: rendered.agentContainer,
    netnsContainer: rendered.netnsContainer!,
    egressContainer: rendered.egressContainer!,
    internalNetwork: rendered.internalNetwork!,
    egressNetwork: rendered.egressNetwork!,
    egressImage: rendered.egressImage!,
    observe: rendered.observe,
  };
}

/**
 * The test-only seam (RunDeps.unsafeTestOverlay): one more `-f` file, after the checked ones, so
 * an e2e test can break the jail on purpose. Lives here, next to what it exists to test.
 */
export function addUnsafeTestOverlay(rendered: RenderedSession, overlay: ComposeFile): void {
  const path = join(rendered.outDir, 'docker-compose.unsafe-test.yml');
  writeFileAtomic(path, composeYaml(overlay, 'TEST ONLY: breaks the jail on purpose (RunDeps.unsafeTestOverlay)'));
  rendered.composeFiles.push(path);
}

/** The one line a refused start ends with. */
export function selfTestFailureLine(r: SelfTestReport): string {
  return r.failed ? `${r.failed.name}: ${r.failed.detail}` : 'all checks passed';
}
