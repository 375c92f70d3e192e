/**
 * Five `drydock run` of the same project started at the same instant, sharing one state dir (so
 * their session ids can collide) but each with its own allowlist: five distinct sessions, each
 * enforcing its own filter and no other's, all torn down afterwards.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { containersOf, drydock, dumpDiagnostics, makeSandbox, networksOf, readSessionFile, report, sessionDirs, type Sandbox } from './helpers/drydock.js';
import { describeE2E } from './helpers/engine.js';
import { recordEvents } from './helpers/events.js';
import { parseProbes, pick, probeScript } from './helpers/probe.js';
import { reportRunTimings, runDocument } from './helpers/session.js';
import { startUpstream, type Upstream } from './helpers/world.js';

const RUNS = 5;

describeE2E('five concurrent runs', () => {
  let upstream: Upstream;
  let sb: Sandbox;

  beforeAll(async () => {
    upstream = await startUpstream('e2e-upstream-concurrency');
    sb = makeSandbox({ project: 'e2e-conc' });
  });
  afterAll(async () => {
    await upstream?.stop();
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await dumpDiagnostics(sb);
  });

  it('get five distinct sessions, each with its own filter, all torn down', async () => {
    // Even runs may reach allowed.test only, odd runs plain.test only.
    const configDirs = Array.from({ length: RUNS }, (_, i) => {
      const dir = join(sb.configDir, `run-${i}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `egress-allowlist-${sb.project}`), `${i % 2 === 0 ? 'allowed.test' : 'plain.test'}\n`);
      return dir;
    });
    const script = probeScript([
      { name: 'allowed', curl: ['-p', 'http://allowed.test:443/'] },
      { name: 'plain', curl: ['-p', 'http://plain.test:443/'] },
      { name: 'denied', curl: ['-p', 'http://denied.test:443/'] },
    ]);
    const events = await recordEvents(`drydock.project=${sb.project}`);
    const startedAt = Date.now();
    const results = await Promise.all(
      configDirs.map((dir) => drydock(sb, ['run', '--project', sb.project, '--json', '--', 'bash', '-c', script], { env: { DRYDOCK_CONFIG_DIR: dir } })),
    );
    const wall = Date.now() - startedAt;
    const seen = await events.stop();
    report(`${RUNS} concurrent drydock run, start to all torn down`, wall);

    const sessions = results.map((result, i) => {
      expect(result.code, `run ${i}: ${result.stderr}\n${result.stdout}`).toBe(0);
      reportRunTimings(`concurrent run ${i}`, result.stderr);
      const probes = parseProbes(result.stderr); // --json: the command's output is on stderr
      const expectAllowed = i % 2 === 0 ? 'allowed' : 'plain';
      const expectRefused = i % 2 === 0 ? 'plain' : 'allowed';
      expect(pick(probes, expectAllowed).connect, `run ${i} ${expectAllowed}`).toBe(200);
      expect(pick(probes, expectRefused).connect, `run ${i} ${expectRefused}`).toBe(403);
      expect(pick(probes, 'denied').connect, `run ${i} denied`).toBe(403);
      return runDocument(result.stdout).sessionId;
    });
    expect(new Set(sessions).size).toBe(RUNS);
    expect(sessionDirs(sb).sort()).toEqual([...sessions].sort());
    // Five sidecars really ran, one per session, each refusing by its own filter.
    const sidecarStarts = seen.filter((e) => e.action === 'start' && e.labels['drydock.role'] === 'egress');
    expect(new Set(sidecarStarts.map((e) => e.labels['drydock.session'])).size).toBe(RUNS);
    sessions.forEach((id, i) => {
      const log = readSessionFile(sb, id, 'egress.log') ?? '';
      const refused = i % 2 === 0 ? 'plain.test:443' : 'allowed.test:443';
      expect(log, `egress.log of ${id}`).toContain(`refused on filtered url "${refused}"`);
    });

    expect(await containersOf({ project: sb.project })).toEqual([]);
    expect(await networksOf({ project: sb.project })).toEqual([]);
  });
});
