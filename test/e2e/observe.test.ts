/**
 * Observe mode is the way to learn an allowlist, and is NOT a jail: everything goes through, every
 * destination is logged, and `egress suggest` turns the log into allowlist lines.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { containersOf, drydock, dumpDiagnostics, makeSandbox, type Sandbox } from './helpers/drydock.js';
import { describeE2E } from './helpers/engine.js';
import { recordEvents } from './helpers/events.js';
import { parseProbes, pick, probeScript } from './helpers/probe.js';
import { runDocument } from './helpers/session.js';
import { startUpstream, type Upstream } from './helpers/world.js';

describeE2E('observe mode', () => {
  let upstream: Upstream;
  let sb: Sandbox;

  beforeAll(async () => {
    upstream = await startUpstream('e2e-upstream-observe');
    sb = makeSandbox({ project: 'e2e-observe', allowlist: ['allowed.test'] });
  });
  afterAll(async () => {
    await upstream?.stop();
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await dumpDiagnostics(sb);
  });

  it('lets everything through, says loudly it is not a jail, and `egress suggest` lists what was reached', async () => {
    const events = await recordEvents(`drydock.project=${sb.project}`);
    const result = await drydock(sb, ['run', '--observe', '--project', sb.project, '--json', '--', 'bash', '-c', probeScript([
      { name: 'allowed', curl: ['-p', 'http://allowed.test:443/'] },
      { name: 'not-allowlisted', curl: ['-p', 'http://denied.test:443/'] },
      { name: 'plain-http', curl: ['http://plain.test:8080/'] },
    ])]);
    const seen = await events.stop();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/NOT A JAIL/);
    const r = parseProbes(result.stderr); // --json: the command's output is on stderr
    expect(pick(r, 'allowed').connect).toBe(200);
    expect(pick(r, 'not-allowlisted').connect, pick(r, 'not-allowlisted').text).toBe(200);
    expect(pick(r, 'plain-http').text).toContain('upstream port=8080 host=plain.test:8080');
    const doc = runDocument(result.stdout);
    expect(doc.observe).toBe(true);
    // The agent, its namespace holder and the sidecar all say so.
    expect(seen.filter((e) => e.action === 'create').map((e) => e.labels['drydock.observe'])).toEqual(['true', 'true', 'true']);

    const suggest = await drydock(sb, ['egress', 'suggest', doc.sessionId]);
    expect(suggest.code, suggest.stderr).toBe(0);
    const lines = suggest.stdout.split('\n').map((l) => l.trim());
    expect(lines).toContain('denied.test');
    expect(lines).toContain('http://plain.test:8080');
    expect(await containersOf({ project: sb.project })).toEqual([]);
  });
});
