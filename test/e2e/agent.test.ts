/**
 * A real agent session: the real Claude Code CLI (installed from npm on the host by the tier) in the
 * default agent image that drydock builds on first use from templates/agent/, against a fake
 * api.anthropic.com whose certificate only the test CA (DRYDOCK_EXTRA_CA_CERTS) vouches for.
 */
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { AGENT_BASE, buildAgentBase, makeTestCa, startFakeAnthropic, startFakeSsh, type FakeService, type TestCa } from './helpers/agent.js';
import { BIN, background, drydock, dumpDiagnostics, makeSandbox, readSessionFile, report, sessionDirs, type Sandbox } from './helpers/drydock.js';
import { describeE2E, docker, dockerOk, exec, waitFor } from './helpers/engine.js';
import { runDocument } from './helpers/session.js';
import { SELFTEST_CANARY_HOST } from '../../lib/names.js';

const SECRET = `sk-ant-api03-e2e-${'s3cr3t'.repeat(6)}-never-on-disk`;

/** Every file under `dir` whose bytes contain `needle` (symlinks not followed). */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if (readFileSync(path).includes(needle)) found.push(path);
  }
  return found;
}

/** Host processes whose argv holds `needle` (the host sees the containers' processes too). */
function argvContaining(needle: string): string[] {
  const hits: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`);
      if (argv.includes(needle)) hits.push(`${pid}: ${argv.toString().replace(/\0/g, ' ')}`);
    } catch {
      // gone meanwhile
    }
  }
  return hits;
}

describeE2E('a real Claude Code session', () => {
  let ca: TestCa;
  let fake: FakeService;
  let sb: Sandbox;

  beforeAll(async () => {
    const started = Date.now();
    await buildAgentBase();
    report('agent base image with Claude Code', Date.now() - started);
    ca = await makeTestCa();
    fake = await startFakeAnthropic('e2e-fake-anthropic', ca);
    // drydock builds its own image on first use: none may be left from before.
    await docker(['rmi', '-f', 'drydock-agent:latest']);
    sb = makeSandbox({
      project: 'e2e-agent',
      env: {
        DRYDOCK_AGENT_IMAGE: '', // the default image, built by drydock from templates/agent/
        DRYDOCK_AGENT_BASE_IMAGE: AGENT_BASE,
        DRYDOCK_EXTRA_CA_CERTS: ca.caPem,
        ANTHROPIC_API_KEY: SECRET,
      },
    });
    // drydock runs as root here: the agent takes the project directory's owner, as on a CI box
    // where the checkout belongs to a build user.
    chownSync(sb.cwd, 1000, 1000);
    writeFileSync(join(sb.env.HOME!, '.gitconfig'), '[user]\n\tname = E2E Tester\n\temail = e2e@example.test\n');
  }, 900_000);
  afterAll(async () => {
    await fake?.stop();
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') {
      await dumpDiagnostics(sb);
      process.stderr.write(`--- fake api log\n${await fake.logs()}\n`);
    }
  });

  it('claude -p answers through the jail with the key passed by name: in no argv on the host and no file under the state dir', async () => {
    const started = Date.now();
    const run = background(sb, ['run', '--json', '--', 'bash', '-c',
      'claude -p "say hi"; code=$?; id -u; git config user.name; touch /workspace/made-by-agent; sleep 2; exit $code']);
    const argvHits = new Set<string>();
    while (run.child.exitCode === null && run.child.signalCode === null) {
      for (const hit of argvContaining(SECRET)) argvHits.add(hit);
      await new Promise((r) => setTimeout(r, 100));
    }
    const { code } = await run.exited;
    report('first agent session (image build on first use included)', Date.now() - started);
    expect(code, run.stderr()).toBe(0);
    expect(run.stderr()).toMatch(/FAKE-ANSWER turns=0 last=<say hi>/);
    expect(run.stderr()).toMatch(/building the agent image drydock-agent:latest .*AGENT_UID=1000, AGENT_GID=1000/);
    expect(run.stderr()).toMatch(/credentials passed by name: ANTHROPIC_API_KEY/);
    expect(run.stderr()).toMatch(/agent runs as uid 1000:1000 \(project dir owner\)/);
    expect(run.stderr()).toMatch(/^1000$/m);
    expect(run.stderr()).toMatch(/^E2E Tester$/m);
    expect(statSync(join(sb.cwd, 'made-by-agent')).uid).toBe(1000);
    expect([...argvHits]).toEqual([]);
    expect(filesContaining(sb.stateDir, SECRET)).toEqual([]);
    expect(existsSync(join(sb.stateDir, 'agent-state', 'e2e-agent', 'home', '.claude'))).toBe(true);

    const doc = runDocument(run.stdout());
    const log = readSessionFile(sb, doc.sessionId, 'egress.log') ?? '';
    const destinations = [...log.matchAll(/CONNECT ([^\s:]+):(\d+)/g)].map((m) => `${m[1]}:${m[2]}`);
    expect(destinations.length).toBeGreaterThan(0);
    // Besides the model API only drydock's own start-up self-test canary (refused by design).
    expect([...new Set(destinations)].filter((d) => d !== 'api.anthropic.com:443' && d !== `${SELFTEST_CANARY_HOST}:443`)).toEqual([]);
    expect(await fake.logs()).toMatch(/request POST api\.anthropic\.com \/v1\/messages\S* auth=x-api-key/);
  }, 900_000);

  it('a second session continues the first one\'s conversation from the persisted state', async () => {
    const result = await drydock(sb, ['run', '--', 'claude', '-p', '--continue', 'and again']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/FAKE-ANSWER turns=1 last=<and again>/);
  }, 300_000);

  it('the agent runs as its uid with no capabilities, whatever the image\'s USER', async () => {
    const run = background(sb, ['run', '--', 'sleep', '30']);
    try {
      const { waitForRunningAgent } = await import('./helpers/drydock.js');
      const session = await waitForRunningAgent(sb, { run, known: new Set(sessionDirs(sb).slice(0, -1)) });
      const [user, capAdd] = (await dockerOk(['inspect', '-f', '{{.Config.User}}\n{{json .HostConfig.CapAdd}}', `drydock-${session}`])).trim().split('\n');
      expect(user).toBe('1000:1000');
      expect(JSON.parse(capAdd!) ?? []).toEqual([]);
      const status = (await dockerOk(['exec', `drydock-${session}`, 'grep', '-E', '^(Uid|CapEff|CapPrm):', '/proc/1/status'])).replace(/\t/g, ' ');
      expect(status).toMatch(/^Uid: 1000 1000 1000 1000$/m);
      expect(status).toMatch(/^CapEff: 0000000000000000$/m);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
  }, 300_000);

  it('a root agent is refused without --allow-root, before anything starts', async () => {
    const before = sessionDirs(sb).length;
    const result = await drydock(sb, ['run', '--', 'true'], { env: { DRYDOCK_AGENT_USER: '0' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/would run the agent as root/);
    expect(sessionDirs(sb).length).toBe(before);
  }, 60_000);
});

/** tmux on its own socket: its server starts with the sandbox's environment, so the key is in no argv. */
function tmux(socket: string, env: NodeJS.ProcessEnv, args: string[]) {
  return exec(['tmux', '-S', socket, ...args], { env });
}

describeE2E('an interactive Claude Code session under tmux', () => {
  let ca: TestCa;
  let fake: FakeService;
  let sb: Sandbox;
  let socket: string;

  beforeAll(async () => {
    await buildAgentBase();
    ca = await makeTestCa();
    fake = await startFakeAnthropic('e2e-fake-anthropic-tty', ca);
    sb = makeSandbox({
      project: 'e2e-agent-tty',
      env: { DRYDOCK_AGENT_IMAGE: '', DRYDOCK_AGENT_BASE_IMAGE: AGENT_BASE, DRYDOCK_EXTRA_CA_CERTS: ca.caPem, ANTHROPIC_API_KEY: SECRET, TERM: 'xterm-256color' },
    });
    chownSync(sb.cwd, 1000, 1000);
    socket = join(sb.stateDir, '..', 'tmux.sock');
    // The theme and login-method screens are answered as a returning user has them in the
    // persisted state (2.1.197 asks for a login method even with ANTHROPIC_API_KEY set, and its
    // OAuth prompt ignores Ctrl-C); folder trust and the API-key question are answered on screen.
    const home = join(sb.stateDir, 'agent-state', sb.project, 'home');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, '.claude.json'), JSON.stringify({ hasCompletedOnboarding: true, theme: 'dark', customApiKeyResponses: { approved: [SECRET.slice(-20)], rejected: [] } }));
    for (const path of [join(sb.stateDir, 'agent-state', sb.project), home, join(home, '.claude.json')]) chownSync(path, 1000, 1000);
  }, 900_000);
  afterAll(async () => {
    if (socket) await tmux(socket, sb.env, ['kill-server']);
    await fake?.stop();
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') {
      process.stderr.write(`--- tmux pane\n${(await tmux(socket, sb.env, ['capture-pane', '-p', '-t', 'agent'])).stdout}\n--- fake api log\n${await fake.logs()}\n`);
      await dumpDiagnostics(sb);
    }
  });

  it('drydock run reaches the prompt, a typed message gets the fake\'s answer, /exit ends with 0 and a clean teardown', async () => {
    const done = join(sb.stateDir, '..', 'exit-code');
    const command = `node ${JSON.stringify(BIN)} run; echo $? > ${JSON.stringify(done)}; sleep 600`;
    const started = await tmux(socket, sb.env, ['new-session', '-d', '-s', 'agent', '-x', '160', '-y', '50', '-c', sb.cwd, 'bash', '-c', command]);
    expect(started.code, started.stderr).toBe(0);
    const pane = async () => (await tmux(socket, sb.env, ['capture-pane', '-p', '-t', 'agent'])).stdout;
    const keys = (...k: string[]) => tmux(socket, sb.env, ['send-keys', '-t', 'agent', ...k]);

    // Claude Code's first-run questions, answered as a user would, until its prompt shows.
    const answered: string[] = [];
    const t0 = Date.now();
    await waitFor('Claude Code\'s prompt', async () => {
      const text = await pane();
      if (/FAKE-ANSWER/.test(text)) return true;
      if (/\? for shortcuts|Try "/.test(text) && !/Do you trust|Yes, proceed|trust this folder/.test(text)) return true;
      const step = (name: string, ...k: string[]) => { answered.push(name); return keys(...k); };
      if (/Do you want to use this API key/i.test(text)) await step('api key: Yes', 'Up', 'Enter');
      else if (/Choose the text style|Dark mode/i.test(text)) await step('theme', 'Enter');
      else if (/Do you trust the files|Yes, proceed|trust this folder/i.test(text)) await step('folder trust', 'Enter');
      else if (/Press Enter to continue|terminal setup|Security notes/i.test(text)) await step('continue', 'Enter');
      await new Promise((r) => setTimeout(r, 1000));
      return undefined;
    }, 240_000, 500);
    report('interactive: drydock run → Claude Code prompt (first-run questions answered)', Date.now() - t0, answered.join(', '));

    await keys('-l', 'hello from tmux');
    await keys('Enter');
    await waitFor('the fake\'s answer on screen', async () => (/FAKE-ANSWER turns=0 last=<hello from tmux>/.test((await pane()).replace(/\n/g, '')) ? true : undefined), 120_000);
    await keys('-l', '/exit');
    await new Promise((r) => setTimeout(r, 500));
    await keys('Enter');
    const code = await waitFor('drydock run to end', async () => (existsSync(done) ? readFileSync(done, 'utf8').trim() : undefined), 120_000);
    expect(code).toBe('0');
    const { containersOf, networksOf } = await import('./helpers/drydock.js');
    expect(await containersOf({ project: sb.project })).toEqual([]);
    expect(await networksOf({ project: sb.project })).toEqual([]);
  }, 600_000);
});

describeE2E('ssh through the sidecar', () => {
  let allowedServer: FakeService;
  let deniedServer: FakeService;
  let sb: Sandbox;

  beforeAll(async () => {
    allowedServer = await startFakeSsh('e2e-ssh-allowed', ['ssh-allowed.test']);
    deniedServer = await startFakeSsh('e2e-ssh-denied', ['ssh-denied.test']);
    await buildAgentBase();
    // ssh needs a passwd entry for its uid: the default image has one (built with the agent's uid).
    sb = makeSandbox({ project: 'e2e-ssh', allowlist: ['ssh-allowed.test:22'], env: { DRYDOCK_AGENT_IMAGE: '', DRYDOCK_AGENT_BASE_IMAGE: AGENT_BASE } });
  }, 120_000);
  afterAll(async () => {
    await allowedServer?.stop();
    await deniedServer?.stop();
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await dumpDiagnostics(sb);
  });

  it('ssh -T reaches a host:22 entry through the proxy and is refused for one not on the list', async () => {
    const script = [
      'ssh-keygen -q -t ed25519 -N "" -f "$HOME/.ssh/id_ed25519" </dev/null >/dev/null',
      'ssh -T -o BatchMode=yes -o StrictHostKeyChecking=accept-new git@ssh-allowed.test; echo "allowed-exit=$?"',
      'ssh -T -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o ConnectTimeout=10 git@ssh-denied.test; echo "denied-exit=$?"',
    ].join('; ');
    const result = await drydock(sb, ['run', '--', 'bash', '-c', `mkdir -p "$HOME/.ssh"; ${script}`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/fake-ssh-ok from e2e-ssh-allowed/);
    expect(result.stdout).toMatch(/allowed-exit=0/);
    expect(result.stdout).toMatch(/denied-exit=255/);
    expect(result.stdout).not.toMatch(/fake-ssh-ok from e2e-ssh-denied/);
    expect(result.stderr).toMatch(/403/);
    expect(await deniedServer.logs()).not.toMatch(/Accepted publickey/);
  }, 300_000);
});
