/**
 * Doctor's sections: gather the facts (the engine, the directories, the allowlists, the resolved
 * settings) and turn them into checks with the pure functions of checks.ts and egress-checks.ts.
 * Without an engine it still answers: the engine-dependent sections say they were not checked.
 */
import { EGRESS_TEMPLATE_LABEL, egressTemplateDigest } from '../egress/image.js';
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { compileFilter } from '../allowlist/compile.js';
import { loadAllowlists } from '../allowlist/sources.js';
import type { Docker } from '../docker/client.js';
import { DrydockError } from '../errors.js';
import { EGRESS_NETWORK } from '../names.js';
import { templatesDir } from '../paths.js';
import { DEFAULT_AGENT_IMAGE, DEFAULT_EGRESS_IMAGE } from '../render/images.js';
import { groupSessions, type SessionView } from '../session/model.js';
import { problemOf, type SettingProblem, type Settings } from '../settings.js';
import { trustedPathsOf } from '../workspace/trusted-paths.js';
import { trustedPathChecks } from './trusted-path-checks.js';
import {
  capabilityChecks,
  composeChecks,
  doodSocketCheck,
  egressNetworkCheck,
  engineChecks,
  fail,
  imageCheck,
  internalDnsCheck,
  networkPoolCheck,
  notChecked,
  pass,
  warn,
  type Check,
  type Section,
} from './checks.js';
import { egressChecks } from './egress-checks.js';
import { limitsSummary } from '../limits/settings.js';

const errorText = (error: unknown): string => (error instanceof Error ? error.message.split('\n')[0]! : String(error));

/** A malformed setting as one line: what is wrong — how to fix it. */
function problemText(problem: SettingProblem): string {
  return problem.error.hint ? `${problem.error.message} — ${problem.error.hint}` : errorText(problem.error);
}

export function canWrite(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A directory that exists must be writable; one that does not must be creatable (first existing parent writable). */
export function dirCheck(name: string, dir: string, writable: (dir: string) => boolean, exists: (p: string) => boolean = existsSync): Check {
  if (exists(dir)) return writable(dir) ? pass(name, `${dir} (writable)`) : fail(name, `${dir} is not writable`, `fix its permissions, or point the variable for it elsewhere`);
  let parent = dirname(dir);
  while (!exists(parent) && dirname(parent) !== parent) parent = dirname(parent);
  return writable(parent)
    ? pass(name, `${dir} does not exist yet; it will be created`)
    : fail(name, `${dir} cannot be created: ${parent} is not writable`, 'create it by hand, or set DRYDOCK_CONFIG_DIR / DRYDOCK_STATE_DIR');
}

export function dirsSection(settings: Settings, writable: (dir: string) => boolean): Section {
  const { dirs, allowlists } = settings;
  return {
    name: 'DIRS',
    checks: [
      dirCheck('config dir', dirs.config, writable),
      dirCheck('state dir', dirs.state, writable),
      ...trustedPathChecks({
        projectDir: settings.cwd,
        paths: trustedPathsOf({ configDir: dirs.config, stateDir: dirs.state, baseline: allowlists.baseline, userAllowlists: [allowlists.global, allowlists.project] }),
      }),
    ],
  };
}

export async function engineSections(docker: Docker, settings: Settings, pathExists: (path: string) => boolean): Promise<{ sections: Section[]; sessions: SessionView[] }> {
  const probe = await docker.probeEngine();
  const compose = await docker.compose();
  const sections: Section[] = [
    { name: 'ENGINE', checks: engineChecks(probe, settings.engine.target) },
    { name: 'COMPOSE', checks: composeChecks(compose) },
  ];
  if (!probe.info) {
    for (const name of ['IMAGES', 'ENGINE CAPABILITIES', 'NETWORK POOL']) sections.push({ name, checks: [notChecked(name.toLowerCase())] });
    return { sections, sessions: [] };
  }

  const images: Check[] = [];
  for (const [role, problem, image, fallback, buildHint] of [
    ['agent', problemOf(settings, 'agentImage'), settings.images.agent, DEFAULT_AGENT_IMAGE, `docker build -t ${DEFAULT_AGENT_IMAGE} ${join(templatesDir(), 'agent')}`],
    ['sidecar', problemOf(settings, 'egressImage'), settings.images.egress, DEFAULT_EGRESS_IMAGE, `or build it now: docker build -t ${DEFAULT_EGRESS_IMAGE} ${join(templatesDir(), 'egress')}`],
  ] as const) {
    if (problem) {
      images.push(fail(`${role} image`, problemText(problem), 'fix or unset the variable'));
      continue;
    }
    // drydock's own sidecar image is also checked against the templates it must be built from.
    const ownSidecar = role === 'sidecar' && image === DEFAULT_EGRESS_IMAGE;
    const digest = ownSidecar ? egressTemplateDigest(join(templatesDir(), 'egress')) : undefined;
    const look = ownSidecar
      ? docker.imageLabel(image, EGRESS_TEMPLATE_LABEL).then((label) => ({ exists: label !== undefined, stale: label !== undefined && label !== digest }))
      : docker.imageExists(image).then((e) => ({ exists: e }));
    const exists = await look.catch((error: unknown): { error: string } => {
      if (!(error instanceof DrydockError)) throw error;
      return { error: errorText(error) };
    });
    images.push(imageCheck({ role, image, isDefault: image === fallback, buildHint, ...exists }));
  }
  sections.push({ name: 'IMAGES', checks: images });
  const socket = settings.engine.socket;
  sections.push({
    name: 'ENGINE CAPABILITIES',
    checks: [...capabilityChecks(probe.info.securityOptions), internalDnsCheck(probe.info.serverVersion), doodSocketCheck(pathExists(socket), settings.engine.target, socket)],
  });

  const pool: Check[] = [];
  let sessions: SessionView[] = [];
  try {
    const networks = await docker.listNetworks();
    pool.push(networkPoolCheck(networks), egressNetworkCheck(networks, EGRESS_NETWORK));
    sessions = groupSessions(await docker.listSessionState());
    const leftovers = sessions.filter((s) => !s.live);
    const live = sessions.length - leftovers.length;
    pool.push(
      leftovers.length
        ? warn('sessions', `${live} live; ${leftovers.length} finished session(s) still hold containers or networks (${leftovers.map((s) => s.id).join(', ')})`, 'drydock gc')
        : pass('sessions', `${live} live, no leftovers`),
    );
  } catch (error) {
    if (!(error instanceof DrydockError)) throw error;
    pool.push(fail('networks', errorText(error), 'see the ENGINE section'));
  }
  sections.push({ name: 'NETWORK POOL', checks: pool });
  return { sections, sessions };
}

export function egressSection(settings: Settings, sessions: SessionView[]): Section {
  const checks: Check[] = [];
  const mode = problemOf(settings, 'mode');
  // DRYDOCK_MODE=observe has its own, louder check in egressChecks.
  if (mode && settings.modeVariable !== 'observe') checks.push(fail('DRYDOCK_MODE', errorText(mode.error), mode.error.hint ?? 'unset DRYDOCK_MODE'));
  const loaded = loadAllowlists({ files: settings.allowlists });
  let ruleCount: number | undefined;
  try {
    ruleCount = compileFilter(loaded.entries).ruleCount;
  } catch (error) {
    checks.push(fail('filter', `the allowlist does not compile: ${errorText(error)}`, 'fix the entries named above'));
  }
  const imageProblem = problemOf(settings, 'egressImage');
  const policy = problemOf(settings, 'requirePinned');
  // An unpinned image under DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE=1 is reported by egressChecks.
  if (policy && !imageProblem) checks.push(fail('pinning policy', errorText(policy.error), policy.error.hint ?? 'fix the variable'));
  const image = settings.images.egress;
  checks.push(
    ...egressChecks({
      loaded,
      ruleCount,
      egressImage: { image, pinned: !imageProblem && settings.images.egressPinned, isDefault: image === DEFAULT_EGRESS_IMAGE },
      requirePinned: problemOf(settings, 'egressPinning') !== undefined,
      liveSessions: sessions,
      modeVariable: settings.modeVariable,
    }),
  );
  if (imageProblem) checks.push(fail('sidecar image', problemText(imageProblem), 'fix or unset DRYDOCK_EGRESS_IMAGE'));
  const limits = problemOf(settings, 'limits');
  checks.push(limits ? fail('limits', problemText(limits), `fix or unset ${limits.variable}`) : pass('limits', limitsSummary(settings.limits)));
  return { name: 'EGRESS', checks };
}

const SYMBOL = { pass: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;

export function formatReport(sections: readonly Section[]): string {
  const lines: string[] = [];
  for (const section of sections) {
    lines.push(section.name);
    for (const check of section.checks) {
      lines.push(`  ${SYMBOL[check.status]}  ${check.name}: ${check.detail}`);
      if (check.fix) lines.push(`        fix: ${check.fix}`);
    }
  }
  const failed = sections.flatMap((s) => s.checks).filter((c) => c.status === 'fail').length;
  const warned = sections.flatMap((s) => s.checks).filter((c) => c.status === 'warn').length;
  lines.push(failed ? `${failed} check(s) failed, ${warned} warning(s)` : `all checks passed${warned ? ` (${warned} warning(s))` : ''}`);
  return lines.join('\n');
}
