/**
 * CLI start-up: the built `bin/drydock.js` against `node -e 0`, spawned the same way, interleaved
 * (baseline, check, render, baseline, …) so that drift in the machine's load hits all of them alike.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, nowMs, ratio } from './stats.js';

export interface StartupCase {
  name: string;
  argv: string[];
  /** Exit codes that mean "it ran as intended" (check github.com is a denial: exit 1). */
  okCodes: number[];
  /** The target ratio to `node -e 0`, if the issue sets one. */
  target?: number;
}

export interface StartupResult {
  name: string;
  command: string;
  medianMs: number;
  ratio: number;
  target?: number;
  met?: boolean;
  exitCode: number | null;
  /** First stderr line of a run that exited with an unexpected code. */
  failure?: string;
}

export interface StartupOptions {
  packageRoot: string;
  runs: number;
  warmup: number;
}

export function startupCases(packageRoot: string, renderOut: string): StartupCase[] {
  const bin = join(packageRoot, 'bin', 'drydock.js');
  return [
    { name: 'node -e 0 (baseline)', argv: [process.execPath, '-e', '0'], okCodes: [0] },
    { name: 'drydock --version', argv: [process.execPath, bin, '--version'], okCodes: [0] },
    { name: 'allowlist check github.com', argv: [process.execPath, bin, 'allowlist', 'check', 'github.com'], okCodes: [0, 1], target: 1.3 },
    { name: 'render --out DIR', argv: [process.execPath, bin, 'render', '--out', renderOut], okCodes: [0], target: 2 },
  ];
}

export function benchStartup(options: StartupOptions): StartupResult[] {
  const scratch = mkdtempSync(join(tmpdir(), 'drydock-bench-startup-'));
  try {
    // A project of its own and empty config/state dirs: the user's real lists must not change the figure.
    const project = join(scratch, 'benchproject');
    mkdirSync(project);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DRYDOCK_CONFIG_DIR: join(scratch, 'config'),
      DRYDOCK_STATE_DIR: join(scratch, 'state'),
      NODE_OPTIONS: '',
    };
    delete env.DRYDOCK_BASELINE;
    const cases = startupCases(options.packageRoot, join(scratch, 'out'));
    const samples = cases.map(() => [] as number[]);
    const codes = cases.map(() => null as number | null);
    const failures: Array<string | undefined> = cases.map(() => undefined);
    for (let round = 0; round < options.warmup + options.runs; round += 1) {
      cases.forEach((c, i) => {
        const start = nowMs();
        const result = spawnSync(c.argv[0] as string, c.argv.slice(1), { cwd: project, env, encoding: 'utf8' });
        const ms = nowMs() - start;
        codes[i] = result.status;
        if (result.status === null || !c.okCodes.includes(result.status)) {
          failures[i] ??= (result.stderr || String(result.error ?? 'no output')).split('\n')[0];
        }
        if (round >= options.warmup) samples[i]?.push(ms);
      });
    }
    const baseline = median(samples[0] ?? []);
    return cases.map((c, i) => {
      const medianMs = median(samples[i] ?? []);
      const r = ratio(medianMs, baseline);
      return {
        name: c.name,
        command: c.argv.slice(1).join(' ').replace(options.packageRoot + '/', '').replace(scratch, '$TMP'),
        medianMs,
        ratio: r,
        target: c.target,
        met: c.target === undefined ? undefined : failures[i] === undefined && r <= c.target,
        exitCode: codes[i] ?? null,
        failure: failures[i],
      };
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
