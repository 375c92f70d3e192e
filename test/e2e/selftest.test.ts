/**
 * The jail self-test on a real engine: an intact session passes it before its command starts (and
 * `doctor --session` passes it while the session runs); a session whose jail is broken on purpose —
 * the agent's namespace also on the NAT bridge, or the agent outside the namespace the probe looks
 * at — is refused: exit 3 naming the failed check, the command never run, nothing left behind. The break goes through `run()`'s test-only seam
 * (RunDeps.unsafeTestOverlay), which the CLI cannot reach.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { run } from '../../lib/commands/run.js';
import type { CommandContext } from '../../lib/context.js';
import { ExternalError } from '../../lib/errors.js';
import { AGENT_SERVICE, EGRESS_NETWORK_KEY, INTERNAL_NETWORK_KEY, NETNS_SERVICE } from '../../lib/names.js';
import type { ComposeFile } from '../../lib/render/compose-types.js';
import { background, containersOf, drydock, dumpDiagnostics, makeSandbox, networksOf, report, waitForRunningAgent, type Sandbox } from './helpers/drydock.js';
import { describeE2E } from './helpers/engine.js';
import { runDocument, timings } from './helpers/session.js';

describeE2E('the jail self-test', () => {
  let sb: Sandbox | undefined;
  afterEach(async (context) => {
    if (sb && context.task.result?.state === 'fail') await dumpDiagnostics(sb);
  });

  it('passes an intact session before its command starts, and doctor --session passes it while it runs', async () => {
    sb = makeSandbox({ project: 'e2e-selftest-ok', allowlist: ['allowed.test'] });
    const result = await drydock(sb, ['run', '--project', sb.project, '--json', '--', 'bash', '-c', 'echo COMMAND-RAN']);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stderr).toMatch(/jail self-test passed/);
    expect(result.stderr).toContain('COMMAND-RAN');
    const doc = runDocument(result.stdout) as unknown as { selfTest: { ok: boolean; checks: Array<{ name: string; ok: boolean }> } };
    expect(doc.selfTest.ok).toBe(true);
    expect(doc.selfTest.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['ipv4-default-route', 'ipv6-default-route', 'proxy-variables', 'proxy-address', 'canary-refused', 'unreachable:sidecar-nat-address', 'unreachable:host-nat-gateway', 'unreachable:host-session-gateway']));
    const t = timings(result.stderr);
    const selfTestMs = t.get('jail self-test');
    const startMs = t.get('run start → agent command start');
    if (selfTestMs !== undefined) report('jail self-test (part of the start)', selfTestMs, `of ${startMs} ms to the agent command: ${startMs ? Math.round((100 * selfTestMs) / startMs) : '?'}%`);

    const running = background(sb, ['run', '--project', sb.project, '--', 'sleep', 'infinity']);
    const session = await waitForRunningAgent(sb, { run: running });
    const doctor = await drydock(sb, ['doctor', '--project', sb.project, '--session', session, '--json']);
    const sections = (JSON.parse(doctor.stdout) as { data: { sections: Array<{ name: string; checks: Array<{ name: string; status: string; detail: string }> }> } }).data.sections;
    const selfTest = sections.find((s) => s.name === `SELF-TEST ${session}`);
    expect(selfTest?.checks.length, doctor.stdout).toBeGreaterThan(5);
    expect(selfTest!.checks.filter((c) => c.status !== 'pass'), JSON.stringify(selfTest)).toEqual([]);
    await drydock(sb, ['stop', session]);
    await running.exited;
  });

  /** `run` with a break merged over the checked render (the test-only seam); its error and stderr. */
  async function brokenRun(project: string, overlay: ComposeFile): Promise<{ box: Sandbox; error: unknown; errors: string[] }> {
    const box = makeSandbox({ project, allowlist: ['allowed.test'] });
    sb = box;
    const errors: string[] = [];
    const ctx: CommandContext = { env: box.env, cwd: box.cwd, out: () => {}, err: (text) => void errors.push(text), json: false };
    const started = Date.now();
    const error = await run({ project: box.project, cmd: ['bash', '-c', 'touch /workspace/COMMAND-RAN'] }, ctx, { tty: false, signals: { on: () => () => {} }, unsafeTestOverlay: overlay }).then(
      () => undefined,
      (e: unknown) => e,
    );
    report(`broken jail (${project}): run → refused by the self-test`, Date.now() - started);
    expect(error, errors.join('\n')).toBeInstanceOf(ExternalError);
    expect((error as ExternalError).exitCode).toBe(3);
    expect(existsSync(join(box.cwd, 'COMMAND-RAN'))).toBe(false);
    expect(await containersOf({ project: box.project })).toEqual([]);
    expect(await networksOf({ project: box.project })).toEqual([]);
    return { box, error, errors };
  }

  it('refuses a session whose namespace is also on the NAT bridge: exit 3 naming the check, the command never runs, nothing is left', async () => {
    // The break: the namespace the agent lives in (its holder's) joins the NAT bridge too.
    const { error } = await brokenRun('e2e-selftest-broken', { services: { [NETNS_SERVICE]: { networks: [INTERNAL_NETWORK_KEY, EGRESS_NETWORK_KEY] } } });
    // Docker picks which network's gateway becomes the default route; either the route itself or
    // the NAT bridge's answering addresses name the hole.
    expect((error as ExternalError).message).toMatch(/jail self-test failed, so the command was not started .* — (ipv4-default-route: the agent has an IPv4 default route|unreachable:(sidecar-nat-address|host-nat-gateway): .* answered from the agent's namespace)/);
  });

  it('refuses a session whose agent left the probed namespace (on Docker\'s default bridge instead): agent-namespace', async () => {
    const { error } = await brokenRun('e2e-selftest-escaped', { services: { [AGENT_SERVICE]: { network_mode: 'bridge' } } });
    expect((error as ExternalError).message).toMatch(/jail self-test failed, so the command was not started .* — agent-namespace: the agent's network mode is "bridge", not drydock-.*-netns's namespace/);
  });
});
