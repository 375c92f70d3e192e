/**
 * The address floor on a real engine: an allowed name whose DNS answer (given by the test's own
 * DNS, helpers/world.ts) is loopback, private, link-local, CGNAT, ULA, multicast, unspecified,
 * IPv4-in-IPv6, a metadata address or one of the sidecar's own networks is refused by the
 * sidecar's resolver, with the reason in the log and the error page; a `private:` entry reaches a
 * private upstream; a public-range upstream is still reached. The private upstream is a real,
 * reachable server, so its refusal without the opt-in is the floor's and nothing else's.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { background, containersOf, drydock, dumpDiagnostics, makeSandbox, waitForRunningAgent, type Background, type Sandbox } from './helpers/drydock.js';
import { describeE2E, docker, dockerOk, waitFor } from './helpers/engine.js';
import { parseProbes, pick, probeScript, type ProbeSpec } from './helpers/probe.js';
import { SHARED_NETWORK, startUpstream, worldDns, type RecordType, type Upstream, type WorldDns } from './helpers/world.js';

const PRIVATE_UPSTREAM = '10.77.0.5';
const REASON = 'resolved to a private address';

describeE2E('the address floor: what an allowed name may resolve to', () => {
  let publicUp: Upstream;
  let privateUp: Upstream;
  let dns: WorldDns;
  let sb: Sandbox;
  let run: Background;
  let session: string;
  let sidecar: string;
  /** Refused names, each with its DNS answer: name → [type, addresses]. */
  const refused = new Map<string, [RecordType, string[]]>();

  beforeAll(async () => {
    publicUp = await startUpstream('e2e-upstream-floor');
    // A real server at a private address: reachable, so refusing it is the floor's decision.
    privateUp = await startUpstream('e2e-upstream-floor-private', { ip: PRIVATE_UPSTREAM, names: ['registry.corp.test', 'ten.floor.test'] });
    dns = await worldDns();
    sb = makeSandbox({ project: 'e2e-floor', allowlist: ['allowed.test', 'http://*.floor.test', 'private:registry.corp.test', 'private:*.optin.test'] });
    run = background(sb, ['run', '--project', sb.project, '--', 'sleep', 'infinity']);
    session = await waitForRunningAgent(sb, { run });
    sidecar = `drydock-${session}-egress`;

    const networks = JSON.parse(await dockerOk(['inspect', '-f', '{{json .NetworkSettings.Networks}}', sidecar])) as Record<string, { IPAddress: string }>;
    const sharedGateway = (await dockerOk(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', SHARED_NETWORK])).trim();
    const classes: Array<[string, RecordType, string[]]> = [
      ['ten', 'A', [PRIVATE_UPSTREAM]],
      ['rfc1918-172', 'A', ['172.16.5.5']],
      ['rfc1918-192', 'A', ['192.168.1.1']],
      ['loopback', 'A', ['127.0.0.1']],
      ['loopback6', 'AAAA', ['::1']],
      ['metadata', 'A', ['169.254.169.254']],
      ['cgnat', 'A', ['100.64.0.1']],
      ['alibaba-metadata', 'A', ['100.100.100.200']],
      ['azure-metadata', 'A', ['168.63.129.16']],
      ['aws-metadata6', 'AAAA', ['fd00:ec2::254']],
      ['ula', 'AAAA', ['fd12:3456::1']],
      ['linklocal6', 'AAAA', ['fe80::1']],
      ['multicast', 'A', ['224.0.0.251']],
      ['multicast6', 'AAAA', ['ff02::1']],
      ['unspecified', 'A', ['0.0.0.0']],
      ['unspecified6', 'AAAA', ['::']],
      ['mapped', 'AAAA', [`::ffff:${publicUp.ip}`]],
      ['nat64', 'AAAA', ['64:ff9b::102:30a']],
      ['sixto4', 'AAAA', ['2002:102:30a::1']],
      // One private address among public ones spoils the whole answer.
      ['mixed', 'A', [publicUp.ip, PRIVATE_UPSTREAM]],
    ];
    for (const [label, type, ips] of classes) refused.set(`${label}.floor.test`, [type, ips]);
    // Opted in with private:, and still refused: what no opt-in opens.
    const optedIn: Array<[string, RecordType, string[]]> = [
      ['shared-gateway', 'A', [sharedGateway]],
      ['own-sidecar', 'A', [networks[SHARED_NETWORK]!.IPAddress]],
      ['session-network', 'A', [networks[`drydock_internal_${session}`]!.IPAddress]],
      ['metadata', 'A', ['169.254.169.254']],
      ['loopback', 'A', ['127.0.0.1']],
      ['cgnat', 'A', ['100.100.100.200']],
    ];
    for (const [label, type, ips] of optedIn) refused.set(`${label}.optin.test`, [type, ips]);
    for (const [name, [type, ips]] of refused) if (name !== 'ten.floor.test') dns.set(name, type, ips);
  });
  afterAll(async () => {
    run?.child.kill('SIGTERM');
    await run?.exited;
    await dns?.release();
    await privateUp?.stop();
    await publicUp?.stop();
    expect(await containersOf({ project: 'e2e-floor' })).toEqual([]);
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await dumpDiagnostics(sb, { stderr: run?.stderr() });
  });

  const inAgent = (script: string) => docker(['exec', `drydock-${session}`, 'bash', '-c', script]);

  it('refuses every class with a DNS answer the test controls, says why, and still reaches public and opted-in private upstreams', async () => {
    const probes: ProbeSpec[] = [
      { name: 'public', curl: ['-p', 'http://allowed.test:443/'] },
      { name: 'opted-in-private', curl: ['-p', 'http://registry.corp.test:443/'] },
      { name: 'page', curl: ['http://ten.floor.test/'] },
      ...[...refused.keys()].map((name) => ({ name, curl: ['-p', `http://${name}:443/`] })),
    ];
    const r = parseProbes((await inAgent(probeScript(probes))).stdout);

    expect(pick(r, 'public').connect, pick(r, 'public').text).toBe(200);
    expect(pick(r, 'public').text).toContain('upstream port=443 host=allowed.test:443');
    expect(pick(r, 'opted-in-private').connect, pick(r, 'opted-in-private').text).toBe(200);
    expect(pick(r, 'opted-in-private').text).toContain('upstream port=443 host=registry.corp.test:443');
    for (const name of refused.keys()) {
      const p = pick(r, name);
      expect(p.connect, `${name}: ${p.text}`).toBe(500);
      expect(p.text, name).not.toContain('upstream port=');
    }
    // The error page the agent reads says the reason.
    const page = pick(r, 'page');
    expect(page.code, page.text).toBe(500);
    expect(page.text).toContain('the name resolved to a private or local address');
    expect(page.text).not.toContain('upstream port=');

    // Every refused name was looked up (the filter let it through; the answer was refused) …
    for (const name of refused.keys()) expect(dns.names(), name).toContain(name);
    // … and the sidecar's log names each one with the reason.
    const logged = async () => {
      const logs = await docker(['logs', sidecar]);
      return [...refused.keys()].filter((name) => !(logs.stderr + logs.stdout).includes(`drydock-egress: refused ${name}: ${REASON}`));
    };
    await waitFor('every refusal in the sidecar log', async () => ((await logged()).length === 0 ? true : undefined), 10_000).catch(() => undefined);
    expect(await logged()).toEqual([]);
  });

  it('a live private: entry restarts the resolver with the opt-in: the private upstream is reached, and refused again once removed', async () => {
    const probeTen = async () => pick(parseProbes((await inAgent(probeScript([{ name: 'ten', curl: ['-p', 'http://ten.floor.test:443/'] }]))).stdout), 'ten');
    expect((await probeTen()).connect, 'refused before the opt-in').toBe(500);
    const resolverPid = async () => (await dockerOk(['exec', sidecar, 'cat', '/tmp/drydock-resolver.pid'])).trim();
    const before = await resolverPid();
    const added = await drydock(sb, ['allowlist', 'add', '--project', sb.project, 'private:ten.floor.test']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(new RegExp(`session ${session}: \\+private:ten\\.floor\\.test \\(reload confirmed`));
    expect(await resolverPid(), 'a new resolver').not.toBe(before);
    const reached = await probeTen();
    expect(reached.connect, reached.text).toBe(200);
    expect(reached.text).toContain('upstream port=443 host=ten.floor.test:443');
    const removed = await drydock(sb, ['allowlist', 'remove', '--project', sb.project, 'private:ten.floor.test']);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await probeTen()).connect, 'refused again: `http://*.floor.test` still allows the name, the floor does not').toBe(500);
  });

  it('the agent cannot use the sidecar\'s resolver, and the sidecar resolves only through it, with no capability', async () => {
    const networks = JSON.parse(await dockerOk(['inspect', '-f', '{{json .NetworkSettings.Networks}}', sidecar])) as Record<string, { IPAddress: string }>;
    const internalIp = networks[`drydock_internal_${session}`]!.IPAddress;
    const probe = await inAgent(`timeout 3 bash -c 'exec 3<>/dev/tcp/${internalIp}/53' && echo reached || echo refused`);
    expect(probe.stdout.trim()).toBe('refused');
    const resolv = await dockerOk(['exec', sidecar, 'cat', '/etc/resolv.conf']);
    expect(resolv.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'))).toEqual(['nameserver 127.0.0.1']);
    expect((await dockerOk(['exec', sidecar, 'grep', '^hosts:', '/etc/nsswitch.conf'])).trim()).toBe('hosts: dns');
    const hostConfig = JSON.parse(await dockerOk(['inspect', '-f', '{{json .HostConfig}}', sidecar]));
    expect(hostConfig.CapAdd ?? []).toEqual([]);
    expect(hostConfig.CapDrop).toEqual(['ALL']);
    expect(hostConfig.Sysctls).toEqual({ 'net.ipv4.ip_unprivileged_port_start': '53' });
    const status = await dockerOk(['exec', sidecar, 'bash', '-c', 'cat /proc/$(pgrep -x dnsmasq)/status']);
    expect(/^CapEff:\s*(\S+)$/m.exec(status)?.[1]).toBe('0000000000000000');
    expect(/^Uid:\s*(\d+)/m.exec(status)?.[1]).toBe('10001');
  });

  it('fails closed: with its resolver gone, the sidecar resolves nothing and its healthcheck fails', async () => {
    expect((await docker(['exec', sidecar, '/usr/local/bin/drydock-egress-healthcheck'])).code).toBe(0);
    await dockerOk(['exec', sidecar, 'pkill', '-x', 'dnsmasq']);
    await waitFor('dnsmasq to be gone', async () => ((await docker(['exec', sidecar, 'pgrep', '-x', 'dnsmasq'])).code !== 0 ? true : undefined), 10_000);
    const r = parseProbes((await inAgent(probeScript([{ name: 'public', curl: ['-p', 'http://allowed.test:443/'] }]))).stdout);
    expect(pick(r, 'public').connect, pick(r, 'public').text).toBe(500);
    expect((await docker(['exec', sidecar, '/usr/local/bin/drydock-egress-healthcheck'])).code).not.toBe(0);
  });

  it('`egress log` names each refused name with the reason, and offers private: only as a caveat, never as a line to add', async () => {
    run.child.kill('SIGTERM');
    await run.exited;
    const result = await drydock(sb, ['egress', 'log', session]);
    expect(result.code, result.stderr).toBe(0);
    for (const name of ['metadata.floor.test', 'ten.floor.test', 'own-sidecar.optin.test']) {
      const quoted = name.replace(/\./g, '\\.');
      expect(result.stdout).toMatch(new RegExp(`${quoted}:443 .*cannot be allowed: \`${quoted}\` resolved to a private or local address, which the address floor refuses \\(a \`private:${quoted}\` entry would admit RFC 1918 and ULA answers only`));
    }
    expect(result.stdout).not.toMatch(/registry\.corp\.test/);
  });
});
