/**
 * Live egress on the real engine: `drydock allowlist add|remove` changes what a RUNNING session
 * may reach, within seconds, without restarting its agent, and only for the sessions the list
 * belongs to; bad input changes nothing; concurrent adds both land; a sidecar that cannot reload
 * lets nothing new through. The refusal page's text is asserted as the agent receives it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { background, drydock, dumpDiagnostics, makeSandbox, readSessionFile, report, waitForRunningAgent, type Background, type Sandbox } from './helpers/drydock.js';
import { describeE2E, docker, dockerOk } from './helpers/engine.js';
import { startUpstream, type Upstream } from './helpers/world.js';

const agentOf = (session: string) => `drydock-${session}`;
const sidecarOf = (session: string) => `drydock-${session}-egress`;

/** CONNECT through the session's proxy, as curl does it: "<connect code> <http code> <body>". */
async function connectProbe(session: string, hostPort: string): Promise<{ connect: number; text: string }> {
  const r = await docker(['exec', agentOf(session), 'curl', '-sS', '-m', '5', '-p', '-o', '/dev/stdout', '-w', '\n%{http_connect}', `http://${hostPort}/`]);
  const lines = r.stdout.trimEnd().split('\n');
  return { connect: Number(lines.pop()), text: `${lines.join('\n')}${r.stderr}` };
}

/** The proxy's whole answer to a CONNECT, read raw from inside the agent (curl hides a refused CONNECT's body). */
async function rawConnect(session: string, hostPort: string): Promise<string> {
  const script = `exec 3<>/dev/tcp/${sidecarOf(session)}/8888; printf 'CONNECT ${hostPort} HTTP/1.1\\r\\nHost: ${hostPort}\\r\\n\\r\\n' >&3; timeout 5 cat <&3`;
  return (await docker(['exec', agentOf(session), 'bash', '-c', script])).stdout;
}

/** The agent container's start and the pid of the session's own command, to show nothing restarted. */
async function agentIdentity(session: string): Promise<string> {
  const started = (await dockerOk(['inspect', '-f', '{{.State.StartedAt}} {{.State.Pid}}', agentOf(session)])).trim();
  const top = await dockerOk(['top', agentOf(session), '-eo', 'pid,args']);
  const sleeper = top.split('\n').find((line) => /\bsleep 600\b/.test(line))?.trim().split(/\s+/)[0];
  expect(sleeper, `the session's command in ${session}:\n${top}`).toBeDefined();
  return `${started} sleep=${sleeper}`;
}

describeE2E('live egress: allowlist add/remove on running sessions', () => {
  let upstream: Upstream;
  let a: Sandbox;
  let b: Sandbox;
  let runs: Background[] = [];
  let sa = '';
  let sb = '';
  const listA = () => join(a.configDir, 'egress-allowlist-e2e-live-a');

  beforeAll(async () => {
    upstream = await startUpstream('e2e-upstream-live');
    a = makeSandbox({ project: 'e2e-live-a', allowlist: ['# project a', 'allowed.test   # the API'] });
    // Project b shares a's config and state directories: one user, two projects.
    b = { ...makeSandbox({ project: 'e2e-live-b' }), configDir: a.configDir, stateDir: a.stateDir };
    b.env = { ...b.env, DRYDOCK_CONFIG_DIR: a.configDir, DRYDOCK_STATE_DIR: a.stateDir };
    const runA = background(a, ['run', '--project', a.project, '--', 'sleep', '600']);
    const runB = background(b, ['run', '--project', b.project, '--', 'sleep', '600']);
    runs = [runA, runB];
    [sa, sb] = await Promise.all([waitForRunningAgent(a, { run: runA }), waitForRunningAgent(b, { run: runB })]);
  });
  afterAll(async () => {
    for (const id of [sa, sb]) if (id) await drydock(a, ['stop', id]);
    await Promise.all(runs.map((r) => Promise.race([r.exited, new Promise((done) => setTimeout(done, 30_000))])));
    await upstream?.stop();
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await dumpDiagnostics(a, { stderr: runs.map((r) => r.stderr()).join('\n') });
  });

  it('the refusal explains itself: destination, why, and the exact command', async () => {
    const body = await rawConnect(sa, 'denied.test:443');
    expect(body).toMatch(/^HTTP\/1\.[01] 403 Filtered\r\n/);
    expect(body).toContain('drydock refused denied.test:443 (403 Filtered)');
    expect(body).toContain(`This session (${sa}, project e2e-live-a) reaches only the destinations on its egress allowlist.`);
    expect(body).toContain('"Filtered": not on the allowlist: no entry allows this host (with this port)');
    expect(body).toContain('"Access violation": port not allowed: no entry allows CONNECT to this port');
    expect(body).toContain('an IP address cannot be allowed at all: drydock allows host names only');
    expect(body).toContain('  drydock allowlist add --project e2e-live-a denied.test:443\n');
    // A port no entry allows is tinyproxy's ConnectPort refusal: same page, its own cause.
    expect(await rawConnect(sa, 'allowed.test:8443')).toContain('drydock refused allowed.test:8443 (403 Access violation)');
    const http = await docker(['exec', agentOf(sa), 'curl', '-sS', '-m', '5', 'http://denied.test/x']);
    expect(http.stdout).toContain('drydock refused http://denied.test/x (403 Filtered)');
    expect(http.stdout).toContain('For a plain-HTTP URL add only its http://HOST[:PORT] part.');
  });

  it('add: 403 becomes 200 in seconds for that project only, the agent untouched; remove: 403 again', async () => {
    expect((await connectProbe(sa, 'denied.test:443')).connect).toBe(403);
    expect((await connectProbe(sb, 'denied.test:443')).connect).toBe(403);
    const before = await agentIdentity(sa);

    const started = Date.now();
    const added = await drydock(a, ['allowlist', 'add', '--project', a.project, 'denied.test']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain(`added denied.test to ${listA()}`);
    expect(added.stdout).toMatch(new RegExp(`session ${sa}: \\+denied\\.test \\(reload confirmed in [0-9.]+ s, agent untouched\\)`));
    expect(added.stdout, 'project b is not touched by project a\'s list').not.toContain(sb);
    const through = await connectProbe(sa, 'denied.test:443');
    report('allowlist add → the same request answered 200', Date.now() - started, `drydock allowlist add took ${added.ms} ms`);
    expect(through.connect, through.text).toBe(200);
    expect(through.text).toContain('upstream port=443 host=denied.test:443');
    expect((await connectProbe(sb, 'denied.test:443')).connect, 'another project\'s session').toBe(403);
    expect(await agentIdentity(sa), 'the same agent container and process').toBe(before);
    expect(readFileSync(listA(), 'utf8')).toBe('# project a\nallowed.test   # the API\ndenied.test\n');

    const ls = await drydock(a, ['ls', '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    const rows = (JSON.parse(ls.stdout) as { data: { sessions: Array<{ id: string; project: string; mode: string; refusals: number }> } }).data.sessions;
    expect(rows.find((r) => r.id === sa)).toMatchObject({ project: 'e2e-live-a', mode: 'contain' });
    expect(rows.find((r) => r.id === sb)?.refusals, 'b was refused denied.test twice').toBeGreaterThanOrEqual(2);

    const removed = await drydock(a, ['allowlist', 'remove', '--project', a.project, 'denied.test']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(new RegExp(`session ${sa}: -denied\\.test \\(reload confirmed`));
    expect((await connectProbe(sa, 'denied.test:443')).connect, 'removing narrows the running session').toBe(403);
    expect((await connectProbe(sa, 'allowed.test:443')).connect).toBe(200);
    expect(readFileSync(listA(), 'utf8')).toBe('# project a\nallowed.test   # the API\n');
    expect(await agentIdentity(sa)).toBe(before);
  });

  it('a malformed entry changes nothing: exit 2 with FILE:LINE, the list and every session as they were', async () => {
    const list = readFileSync(listA(), 'utf8');
    // denied.test would be the next line, the bad entry the one after it.
    const nextLine = list.split('\n').length + 1;
    const filter = readSessionFile(a, sa, 'egress/egress-filter');
    const live = readSessionFile(a, sa, 'live.json');
    const bad = await drydock(a, ['allowlist', 'add', '--project', a.project, 'denied.test', 'http://plain.test/some/path']);
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toContain(`${listA()}:${nextLine}: argument 2 \`http://plain.test/some/path\`: a path (\`/some/path\`) is not allowed`);
    expect(readFileSync(listA(), 'utf8')).toBe(list);
    expect(readSessionFile(a, sa, 'egress/egress-filter')).toBe(filter);
    expect(readSessionFile(a, sa, 'live.json')).toBe(live);
    expect((await connectProbe(sa, 'denied.test:443')).connect).toBe(403);
  });

  it('two concurrent adds both land, in the list and in the running session', async () => {
    const [one, two] = await Promise.all([
      drydock(a, ['allowlist', 'add', '--project', a.project, 'a.wild.test']),
      drydock(a, ['allowlist', 'add', '--project', a.project, 'wild.test']),
    ]);
    expect(one.code, one.stderr).toBe(0);
    expect(two.code, two.stderr).toBe(0);
    const lines = readFileSync(listA(), 'utf8').split('\n');
    expect(lines).toContain('a.wild.test');
    expect(lines).toContain('wild.test');
    expect((await connectProbe(sa, 'a.wild.test:443')).connect).toBe(200);
    expect((await connectProbe(sa, 'wild.test:443')).connect).toBe(200);
  });

  it('a sidecar that cannot reload lets nothing new through, and the command says so (exit 3)', async () => {
    await dockerOk(['pause', sidecarOf(sa)]);
    let failed;
    try {
      failed = await drydock(a, ['allowlist', 'add', '--project', a.project, 'plain.test']);
    } finally {
      await dockerOk(['unpause', sidecarOf(sa)]);
    }
    expect(failed.code, failed.stdout + failed.stderr).toBe(3);
    expect(failed.stderr).toMatch(new RegExp(`session ${sa}: NOT updated \\(.*\\): it keeps its previous filter; nothing new gets through`));
    expect((await connectProbe(sa, 'plain.test:443')).connect, 'nothing new gets through').toBe(403);
    expect((await connectProbe(sa, 'allowed.test:443')).connect, 'what was allowed still is').toBe(200);

    // Run again once the sidecar can reload: the session catches up (the list already has the line).
    const again = await drydock(a, ['allowlist', 'add', '--project', a.project, 'plain.test']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('plain.test: already listed at');
    expect(again.stdout).toMatch(new RegExp(`session ${sa}: \\+plain\\.test \\(reload confirmed`));
    expect((await connectProbe(sa, 'plain.test:443')).connect).toBe(200);
  });

  it('exec runs another command in the running agent, with the same jail', async () => {
    const r = await drydock(a, ['exec', sa, '--', 'bash', '-c', 'curl -sS -m 5 -p -o /dev/null -w "%{http_connect}\\n" http://xallowed.test:443/; exit 7']);
    expect(r.code, r.stderr).toBe(7);
    expect(r.stdout).toContain('403');
  });
});
