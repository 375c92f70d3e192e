/**
 * `drydock doctor`: sections of pass/warn/fail lines, each non-pass with its fix. Exit 1 when any
 * check fails. Without an engine it still answers (the engine-dependent sections say they were not
 * checked), and `--json` is always one valid document.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { compileFilter } from '../allowlist/compile.js';
import { loadAllowlists } from '../allowlist/sources.js';
import type { CommandContext, CommandResult } from '../context.js';
import {
  capabilityChecks,
  internalDnsCheck,
  composeChecks,
  doodSocketCheck,
  egressNetworkCheck,
  engineChecks,
  fail,
  imageCheck,
  networkPoolCheck,
  notChecked,
  pass,
  warn,
  type Check,
  type Section,
} from '../docker/checks.js';
import { Docker } from '../docker/client.js';
import { processRunner, type CommandRunner } from '../docker/runner.js';
import { DrydockError, ExitCode } from '../errors.js';
import { baselinePath, configDir, resolveProjectName, stateDir, templatesDir, userAllowlistPaths } from '../paths.js';
import { DEFAULT_AGENT_IMAGE, DEFAULT_EGRESS_IMAGE, agentImage, assertEgressImageAllowed, egressImage } from '../render/images.js';
import { resolveMode } from '../render/mode.js';
import { EGRESS_NETWORK } from '../render/names.js';
import { hostDockerSocket } from '../render/overlay.js';
import { egressChecks } from '../session/egress-checks.js';
import { groupSessions, type SessionView } from '../session/model.js';
import type { Env } from '../context.js';
import { trustedPathChecks } from '../workspace/doctor-checks.js';
import { trustedPathsOf } from '../workspace/trusted-paths.js';

export interface DoctorOptions {
  project?: string;
  json?: boolean;
}

export interface DoctorDeps {
  runner?: CommandRunner;
  /** Is this directory writable? (default: access(2) with W_OK) */
  writable?: (dir: string) => boolean;
  /** Does this path exist? (default: existsSync; used for the dood socket) */
  pathExists?: (path: string) => boolean;
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message.split('\n')[0]! : String(error));

function canWrite(dir: string): boolean {
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

/** Safely read an image setting: a malformed variable is a failed check, not a crash. */
function imageSetting(read: () => string): { image?: string; error?: string } {
  try {
    return { image: read() };
  } catch (error) {
    return { error: error instanceof DrydockError && error.hint ? `${error.message} — ${error.hint}` : errorText(error) };
  }
}

async function engineSections(docker: Docker, env: Env, pathExists: (path: string) => boolean): Promise<{ sections: Section[]; sessions: SessionView[] }> {
  const probe = await docker.probeEngine();
  const compose = await docker.compose();
  const sections: Section[] = [
    { name: 'ENGINE', checks: engineChecks(probe, env) },
    { name: 'COMPOSE', checks: composeChecks(compose) },
  ];
  if (!probe.info) {
    for (const name of ['IMAGES', 'ENGINE CAPABILITIES', 'NETWORK POOL']) sections.push({ name, checks: [notChecked(name.toLowerCase())] });
    return { sections, sessions: [] };
  }

  const images: Check[] = [];
  const agent = imageSetting(() => agentImage(env));
  const egress = imageSetting(() => egressImage(env).image);
  for (const [role, setting, fallback, buildHint] of [
    ['agent', agent, DEFAULT_AGENT_IMAGE, `docker build -t ${DEFAULT_AGENT_IMAGE} ${join(templatesDir(), 'agent')}`],
    ['sidecar', egress, DEFAULT_EGRESS_IMAGE, `or build it now: docker build -t ${DEFAULT_EGRESS_IMAGE} ${join(templatesDir(), 'egress')}`],
  ] as const) {
    if (!setting.image) {
      images.push(fail(`${role} image`, setting.error ?? 'invalid', 'fix or unset the variable'));
      continue;
    }
    const exists = await docker.imageExists(setting.image).then(
      (e) => ({ exists: e }),
      (error: unknown) => {
        if (!(error instanceof DrydockError)) throw error;
        return { error: errorText(error) };
      },
    );
    images.push(imageCheck({ role, image: setting.image, isDefault: setting.image === fallback, buildHint, ...exists }));
  }
  sections.push({ name: 'IMAGES', checks: images });
  sections.push({
    name: 'ENGINE CAPABILITIES',
    checks: [...capabilityChecks(probe.info.securityOptions), internalDnsCheck(probe.info.serverVersion), doodSocketCheck(pathExists(hostDockerSocket(env)), env, hostDockerSocket(env))],
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

function egressSection(env: Env, project: string, sessions: SessionView[]): Section {
  const checks: Check[] = [];
  try {
    resolveMode(undefined, env);
  } catch (error) {
    if (env.DRYDOCK_MODE !== 'observe') {
      checks.push(fail('DRYDOCK_MODE', errorText(error), error instanceof DrydockError && error.hint ? error.hint : 'unset DRYDOCK_MODE'));
    }
  }
  const loaded = loadAllowlists({ env, project });
  let ruleCount: number | undefined;
  try {
    ruleCount = compileFilter(loaded.entries).ruleCount;
  } catch (error) {
    checks.push(fail('filter', `the allowlist does not compile: ${errorText(error)}`, 'fix the entries named above'));
  }
  const setting = imageSetting(() => egressImage(env).image);
  let requirePinned = false;
  try {
    assertEgressImageAllowed(env);
  } catch (error) {
    // Unpinned under DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE=1 is reported by egressChecks; anything else here.
    if (/not pinned/.test(errorText(error))) requirePinned = true;
    else if (setting.image) checks.push(fail('pinning policy', errorText(error), error instanceof DrydockError && error.hint ? error.hint : 'fix the variable'));
  }
  const image = setting.image ?? DEFAULT_EGRESS_IMAGE;
  const pinned = setting.image ? egressImage(env).pinned : false;
  checks.push(
    ...egressChecks(
      { loaded, ruleCount, egressImage: { image, pinned, isDefault: image === DEFAULT_EGRESS_IMAGE }, requirePinned, liveSessions: sessions },
      env,
    ),
  );
  if (setting.error) checks.push(fail('sidecar image', setting.error, 'fix or unset DRYDOCK_EGRESS_IMAGE'));
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

export async function doctor(opts: DoctorOptions, ctx: CommandContext, deps: DoctorDeps = {}): Promise<CommandResult> {
  const docker = new Docker(deps.runner ?? processRunner(ctx.env));
  const project = resolveProjectName(opts.project, ctx.cwd);
  const writable = deps.writable ?? canWrite;
  const engine = await engineSections(docker, ctx.env, deps.pathExists ?? existsSync);
  const sections: Section[] = [
    ...engine.sections,
    {
      name: 'DIRS',
      checks: [
        dirCheck('config dir', configDir(ctx.env), writable),
        dirCheck('state dir', stateDir(ctx.env), writable),
        ...trustedPathChecks({
          projectDir: ctx.cwd,
          paths: trustedPathsOf({ configDir: configDir(ctx.env), stateDir: stateDir(ctx.env), baseline: baselinePath(ctx.env), userAllowlists: userAllowlistPaths(ctx.env, project) }),
        }),
      ],
    },
    egressSection(ctx.env, project, engine.sessions),
  ];
  const ok = sections.every((s) => s.checks.every((c) => c.status !== 'fail'));
  if (!ctx.json) ctx.out(formatReport(sections));
  return { exitCode: ok ? ExitCode.Ok : ExitCode.Negative, data: { ok, sections } };
}
