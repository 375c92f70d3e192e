/**
 * The jail as a user runs it: `drydock run -- <cmd>` with <cmd> probing the network from inside
 * the agent. The "internet" is an upstream at a public-range address (see helpers/world.ts) answering as
 * allowed.test, denied.test, plain.test and look-alikes, on ports 80, 443, 8080 and 8443, so every
 * refusal below is the proxy's (the upstream would have answered).
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { background, containersOf, drydock, dumpDiagnostics, makeSandbox, waitForRunningAgent, type Sandbox } from './helpers/drydock.js';
import { describeE2E, docker, dockerOk } from './helpers/engine.js';
import { firstCommandAt, parseProbes, pick, probeScript, type ProbeSpec } from './helpers/probe.js';
import { reportRunTimings, runDocument } from './helpers/session.js';
import { startUpstream, type Upstream } from './helpers/world.js';

describeE2E('the egress jail, from inside the agent', () => {
  let upstream: Upstream;
  let sb: Sandbox;
  let refusedSession: string | undefined;

  beforeAll(async () => {
    upstream = await startUpstream('e2e-upstream-jail');
    sb = makeSandbox({ project: 'e2e-jail', allowlist: ['allowed.test', 'http://plain.test', '*.wild.test'] });
  });
  afterAll(async () => {
    await upstream?.stop();
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await dumpDiagnostics(sb);
  });

  it('lets allowlisted destinations through and refuses every other one (403), IP literals included; nothing bypasses the proxy', async () => {
    const ip = upstream.ip;
    const probes: ProbeSpec[] = [
      { name: 'https-allowed', curl: ['-p', 'http://allowed.test:443/'] },
      { name: 'https-denied', curl: ['-p', 'http://denied.test:443/'] },
      { name: 'http-allowed', curl: ['http://plain.test/'] },
      { name: 'https-of-http-entry', curl: ['-p', 'http://plain.test:443/'] },
      // The plain-HTTP port gap: an HTTPS entry opens no plain HTTP, an http:// entry only port 80.
      { name: 'http-of-https-entry', curl: ['http://allowed.test/'] },
      { name: 'http-other-port', curl: ['http://plain.test:8080/'] },
      { name: 'https-other-port', curl: ['-p', 'http://allowed.test:8443/'] },
      { name: 'ip-literal-connect', curl: ['-p', `http://${ip}:443/`] },
      { name: 'ip-literal-http', curl: [`http://${ip}/`] },
      { name: 'lookalike-prefix', curl: ['-p', 'http://xallowed.test:443/'] },
      { name: 'lookalike-suffix', curl: ['-p', 'http://allowed.test.evil.test:443/'] },
      { name: 'wildcard-subdomain', curl: ['-p', 'http://a.wild.test:443/'] },
      { name: 'wildcard-apex', curl: ['-p', 'http://wild.test:443/'] },
      { name: 'direct-by-name', curl: ['--noproxy', '*', 'http://allowed.test/'] },
      { name: 'direct-by-ip', curl: ['--noproxy', '*', `http://${ip}/`] },
    ];
    const startedAt = Date.now();
    const result = await drydock(sb, ['run', '--project', sb.project, '--json', '--', 'bash', '-c', probeScript(probes)]);
    expect(result.code, result.stderr).toBe(0);
    // --json: the command's output is on stderr, drydock's document alone on stdout.
    reportRunTimings('contained run', result.stderr, { startedAt, firstCommandAt: firstCommandAt(result.stderr) });
    refusedSession = runDocument(result.stdout).sessionId;
    const r = parseProbes(result.stderr);

    const passed = (name: string, port: number, host: string) => {
      const p = pick(r, name);
      expect(p.exit, `${name}: ${p.text}`).toBe(0);
      expect(p.code, name).toBe(200);
      expect(p.text, name).toContain(`upstream port=${port} host=${host}`);
    };
    const refusedConnect = (name: string) => {
      const p = pick(r, name);
      expect(p.connect, `${name}: ${p.text}`).toBe(403);
      expect(p.text, name).not.toContain('upstream');
    };
    const refusedHttp = (name: string) => {
      const p = pick(r, name);
      expect(p.code, `${name}: ${p.text}`).toBe(403);
      expect(p.text, name).toContain('Filtered');
      expect(p.text, name).not.toContain('upstream');
    };

    passed('https-allowed', 443, 'allowed.test:443');
    expect(pick(r, 'https-allowed').connect).toBe(200);
    passed('http-allowed', 80, 'plain.test');
    passed('https-of-http-entry', 443, 'plain.test:443');
    passed('wildcard-subdomain', 443, 'a.wild.test:443');
    refusedConnect('https-denied');
    refusedHttp('http-of-https-entry');
    refusedHttp('http-other-port');
    refusedConnect('https-other-port');
    refusedConnect('ip-literal-connect');
    refusedHttp('ip-literal-http');
    refusedConnect('lookalike-prefix');
    refusedConnect('lookalike-suffix');
    refusedConnect('wildcard-apex');
    // Ignoring the proxy gets nowhere: no name resolution for outside names, no route out.
    const byName = pick(r, 'direct-by-name');
    expect([6, 28], `direct-by-name: ${byName.text}`).toContain(byName.exit);
    expect(byName.text).toMatch(/resolv/i);
    const byIp = pick(r, 'direct-by-ip');
    expect([7, 28], `direct-by-ip: ${byIp.text}`).toContain(byIp.exit);
    expect(byIp.code).toBe(0);
  });

  it('saves the sidecar log with the session, where `egress log` names the refused host and the line that would allow it', async () => {
    expect(refusedSession, 'the first test ran a session').toBeDefined();
    const result = await drydock(sb, ['egress', 'log', refusedSession!]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    const line = (host: string) => lines.find((l) => l.trim().startsWith(`${host} `) || l.trim().startsWith(`${host}\t`));
    // Each refused destination once, with the allowlist line that would let it through.
    expect(line('denied.test:443'), result.stdout).toMatch(/add: denied\.test\s*$/);
    expect(line('http://allowed.test:80'), result.stdout).toMatch(/add: http:\/\/allowed\.test\s*$/);
    expect(line('allowed.test:8443'), result.stdout).toMatch(/add: allowed\.test:8443\s*$/);
    // An IP literal cannot be allowed at all, and the log says so rather than suggesting a line.
    expect(line(`${upstream.ip}:443`), result.stdout).toMatch(/cannot be allowed/);
    // What was let through is not reported as refused.
    expect(line('allowed.test:443'), result.stdout).toBeUndefined();
    expect(line('a.wild.test:443'), result.stdout).toBeUndefined();
  });

  it('runs the sidecar with no capabilities at all, a read-only root, no-new-privileges and a non-root user', async () => {
    const session = background(sb, ['run', '--project', sb.project, '--', 'sleep', 'infinity']);
    try {
      const id = await waitForRunningAgent(sb, { run: session });
      const sidecar = (await containersOf({ session: id })).find((c) => c.role === 'egress');
      expect(sidecar, 'a sidecar container is labelled with the session').toBeDefined();
      const [hostConfig, config] = (await dockerOk(['inspect', '-f', '{{json .HostConfig}}\n{{json .Config}}', sidecar!.name])).trim().split('\n').map((j) => JSON.parse(j));
      expect(hostConfig.CapDrop).toEqual(['ALL']);
      expect(hostConfig.CapAdd ?? []).toEqual([]);
      expect(hostConfig.Privileged).toBe(false);
      expect(hostConfig.ReadonlyRootfs).toBe(true);
      expect(hostConfig.SecurityOpt).toContain('no-new-privileges:true');
      expect(config.User).toMatch(/^[1-9][0-9]*(:[1-9][0-9]*)?$/);

      const status = await dockerOk(['exec', sidecar!.name, 'cat', '/proc/1/status']);
      const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim();
      for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) expect(field(set), set).toBe('0000000000000000');
      expect(field('NoNewPrivs')).toBe('1');
      expect(field('Uid')?.split(/\s+/)[0]).not.toBe('0');
      // Read-only: the proxy cannot rewrite its own filter or binaries, even where it owns nothing.
      const write = await docker(['exec', sidecar!.name, 'bash', '-c', 'touch /etc/drydock/egress-filter || touch /usr/local/bin/x || touch /x']);
      expect(write.code).not.toBe(0);

      // The agent, contained: in the namespace holder's network namespace, which has only the
      // session's internal network; no docker socket, hardened.
      const holder = (await containersOf({ session: id })).find((c) => c.role === 'netns')!;
      const [holderId, holderHost, holderNetworks, holderMounts] = (await dockerOk(['inspect', '-f', '{{json .Id}}\n{{json .HostConfig}}\n{{json .NetworkSettings.Networks}}\n{{json .Mounts}}', holder.name])).trim().split('\n').map((j) => JSON.parse(j));
      expect(Object.keys(holderNetworks)).toEqual([`drydock_internal_${id}`]);
      expect(holderHost.CapDrop).toEqual(['ALL']);
      expect(holderHost.CapAdd ?? []).toEqual([]);
      expect(holderHost.ReadonlyRootfs).toBe(true);
      expect(holderHost.SecurityOpt).toContain('no-new-privileges:true');
      expect(holderMounts).toEqual([]);
      const holderStatus = await dockerOk(['exec', holder.name, 'cat', '/proc/self/status']);
      expect(/^CapEff:\s*(\S+)$/m.exec(holderStatus)?.[1]).toBe('0000000000000000');
      expect(/^Uid:\s*(\d+)/m.exec(holderStatus)?.[1]).toBe('10001');
      const agent = (await containersOf({ session: id })).find((c) => c.role === 'agent')!;
      const [agentHost, networks, mounts] = (await dockerOk(['inspect', '-f', '{{json .HostConfig}}\n{{json .NetworkSettings.Networks}}\n{{json .Mounts}}', agent.name])).trim().split('\n').map((j) => JSON.parse(j));
      expect(agentHost.NetworkMode).toBe(`container:${holderId}`);
      expect(Object.keys(networks ?? {})).toEqual([]);
      // What the agent sees is the holder's: one interface besides lo, on the session network.
      const interfaces = (await dockerOk(['exec', agent.name, 'cat', '/proc/net/dev'])).split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter(Boolean).sort();
      expect(interfaces).toEqual(['eth0', 'lo']);
      expect(agentHost.CapDrop).toEqual(['ALL']);
      // A non-root agent (the image here has no USER: drydock sets one) keeps no capabilities.
      expect(agentHost.CapAdd ?? []).toEqual([]);
      expect(agentHost.Privileged).toBe(false);
      expect(agentHost.SecurityOpt).toContain('no-new-privileges:true');
      // The project, the agent's persistent home and the ssh drop-in that sends ssh through the sidecar.
      expect((mounts as Array<{ Destination: string }>).map((m) => m.Destination).sort()).toEqual(['/etc/ssh/ssh_config.d/drydock.conf', '/home/agent', '/workspace']);
      const internal = JSON.parse(await dockerOk(['network', 'inspect', '-f', '{{json .Internal}}', `drydock_internal_${id}`]));
      expect(internal).toBe(true);
    } finally {
      session.child.kill('SIGTERM');
      await session.exited;
    }
    // SIGTERM to `run` tears the session down.
    expect(await containersOf({ project: sb.project })).toEqual([]);
  });
});
