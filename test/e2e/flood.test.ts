/**
 * Issue #13, on the real engine: an agent floods its sidecar with refused requests — long names,
 * a CR, window-title, colour and OSC 8 sequences — and keeps flooding while the session ends.
 * `run` must exit cleanly with everything removed, a capped egress.log saved and the summary
 * printed (escaped); `drydock stop` the same from another terminal. Issue #15: `egress log --json`
 * on the live session gives typed decisions.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { background, containersOf, drydock, dumpDiagnostics, makeSandbox, networksOf, waitForRunningAgent, type Sandbox } from './helpers/drydock.js';
import { describeE2E, docker, waitFor } from './helpers/engine.js';

const CAP_MB = 1;
/** Flood until the sidecar has logged this much (well past the cap), then end the session mid-flood. */
const FLOOD_BYTES = 4 * 1024 * 1024;

// Raw CONNECTs through the session's proxy, as fast as it answers, forever (the agent ends the session
// while this still runs). The hostile targets go first, twice each, so their counts are known.
const FLOOD = `
import os, socket, sys, urllib.parse
proxy = urllib.parse.urlsplit(os.environ['HTTPS_PROXY'])
hostile = ['ev\\ril.test', '\\x1b]0;pwned\\x07.test', '\\x1b[31mred.test', '\\x1b]8;;https://x.test/\\x1b\\\\link.test']
def refused(host):
    s = socket.create_connection((proxy.hostname, proxy.port), timeout=10)
    s.sendall(('CONNECT %s:443 HTTP/1.1\\r\\n\\r\\n' % host).encode('latin-1'))
    s.recv(200)
    s.close()
for host in hostile + hostile:
    refused(host)
i = 0
while True:
    refused('n%d-%s.flood.test' % (i % 5000, 'x' * 600))
    i += 1
`;

let sb: Sandbox | undefined;

afterEach(async (context) => {
  if (context.task.result?.state === 'fail' && sb) await dumpDiagnostics(sb);
});

async function sidecarLogBytes(name: string): Promise<number> {
  const result = await docker(['inspect', '--format', '{{.LogPath}}', name]);
  const path = result.stdout.trim();
  return path && existsSync(path) ? statSync(path).size : 0;
}

function expectCappedLog(dir: string): string {
  const log = readFileSync(join(dir, 'egress.log'), 'utf8');
  expect(Buffer.byteLength(log)).toBeLessThanOrEqual(CAP_MB * 1024 * 1024 + 300);
  expect(log).toMatch(/^# drydock: \d+ lines \(.*\) of the log left out here/m);
  expect(existsSync(join(dir, 'egress-decisions.jsonl'))).toBe(true);
  return log;
}

function expectEscapedSummary(stderr: string): void {
  expect(stderr).toMatch(/The egress proxy refused \d+ destinations \(403\)/);
  expect(stderr).toMatch(/ev\\ril\.test:443\s+2×/);
  expect(stderr).toContain('\\x1b]0;pwned\\x07.test:443');
  expect(stderr).toContain('\\x1b[31mred.test:443');
  expect(stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/); // no raw control byte reached the terminal
}

describeE2E('a flooding agent (issue #13)', () => {
  it('`run` ends cleanly mid-flood: containers and network gone, capped egress.log saved, summary printed escaped', async () => {
    sb = makeSandbox({ project: 'e2e-flood', allowlist: ['allowed.test'], env: { DRYDOCK_EGRESS_LOG_MAX_MB: String(CAP_MB) } });
    writeFileSync(join(sb.cwd, 'flood.py'), FLOOD);
    // The agent's command starts the flood in the background and ends once the log is big enough;
    // the flood is still running when teardown begins.
    const script = `python3 /workspace/flood.py >/dev/null 2>&1 & sleep 1; while [ "$(cat /workspace/.go 2>/dev/null)" != go ]; do sleep 0.2; done; exit 0`;
    const run = background(sb, ['run', '--project', sb.project, '--', 'bash', '-c', script]);
    const id = await waitForRunningAgent(sb, { run });
    await waitFor('the flood to fill the sidecar log', async () => ((await sidecarLogBytes(`drydock-${id}-egress`)) > FLOOD_BYTES ? true : undefined), 180_000, 500);
    writeFileSync(join(sb.cwd, '.go'), 'go');
    const exit = await run.exited;
    expect(exit.code, run.stderr()).toBe(0);
    expect(await containersOf({ project: sb.project })).toEqual([]);
    expect(await networksOf({ project: sb.project })).toEqual([]);
    expectCappedLog(join(sb.stateDir, 'sessions', id));
    expectEscapedSummary(run.stderr());
  }, 300_000);

  it('`drydock stop` of a flooding session does the same; `egress log --json` on it first gives typed decisions', async () => {
    sb = makeSandbox({ project: 'e2e-flood-stop', allowlist: ['allowed.test'], env: { DRYDOCK_EGRESS_LOG_MAX_MB: String(CAP_MB) } });
    writeFileSync(join(sb.cwd, 'flood.py'), FLOOD);
    const run = background(sb, ['run', '--project', sb.project, '--', 'python3', '/workspace/flood.py']);
    const id = await waitForRunningAgent(sb, { run });
    await waitFor('the flood to fill the sidecar log', async () => ((await sidecarLogBytes(`drydock-${id}-egress`)) > FLOOD_BYTES ? true : undefined), 180_000, 500);

    const live = await drydock(sb, ['egress', 'log', '--json', id]);
    expect(live.code, live.stderr).toBe(0);
    const doc = JSON.parse(live.stdout);
    expect(doc).toMatchObject({ ok: true, exitCode: 0, error: null, data: { session: id } });
    const decisions = doc.data.decisions as Array<Record<string, unknown>>;
    expect(decisions.find((d) => d.host === 'ev\ril.test')).toMatchObject({
      session: id, action: 'denied', reason: 'not_allowlisted', method: 'CONNECT', port: 443, protocol: 'connect',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), wouldAllow: null, cannotAllow: expect.stringMatching(/not a host name/),
    });
    expect(decisions.filter((d) => String(d.host).endsWith('.flood.test')).length).toBeGreaterThan(100);
    expect(live.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);

    const stopped = await drydock(sb, ['stop', id]);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(await containersOf({ project: sb.project })).toEqual([]);
    expect(await networksOf({ project: sb.project })).toEqual([]);
    expectCappedLog(join(sb.stateDir, 'sessions', id));
    expectEscapedSummary(stopped.stderr);
    await run.exited;
  }, 300_000);
});
