/**
 * dood mode is NOT a jail, on purpose: the agent gets the engine's socket and the host network, and
 * no sidecar exists. The test proves the socket it gets is the engine's (the one DOCKER_HOST names;
 * it answers with the same engine id) and the network is the host's (dockerd's network namespace).
 */
import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { background, containersOf, dumpDiagnostics, makeSandbox, networksOf, waitForRunningAgent, type Sandbox } from './helpers/drydock.js';
import { describeE2E, dockerOk } from './helpers/engine.js';

const HOST_SOCKET = '/var/run/docker.sock';

describeE2E('dood mode', () => {
  let sb: Sandbox;
  /** The engine's socket, which dood must mount: the one DOCKER_HOST names, not a fixed path. */
  const engineSocket = (process.env.DOCKER_HOST ?? '').replace(/^unix:\/\//, '');
  const hostSocketExisted = existsSync(HOST_SOCKET) || isLink(HOST_SOCKET);

  beforeAll(() => {
    sb = makeSandbox({ project: 'e2e-dood' });
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await dumpDiagnostics(sb);
  });

  it('mounts the engine socket, uses the host network, and creates no sidecar and no network', async () => {
    const run = background(sb, ['run', '--mode', 'dood', '--project', sb.project, '--', 'sleep', 'infinity']);
    try {
      const id = await waitForRunningAgent(sb, { run });
      const containers = await containersOf({ session: id });
      expect(containers.map((c) => c.role)).toEqual(['agent']);
      expect(await networksOf({ session: id })).toEqual([]);
      const agent = containers[0]!.name;

      const [hostConfig, config, mounts] = (await dockerOk(['inspect', '-f', '{{json .HostConfig}}\n{{json .Config}}\n{{json .Mounts}}', agent])).trim().split('\n').map((j) => JSON.parse(j));
      expect(hostConfig.NetworkMode).toBe('host');
      const socketMount = (mounts as Array<{ Source: string; Destination: string }>).find((m) => m.Destination === HOST_SOCKET);
      expect(socketMount?.Source).toBe(engineSocket);
      expect((mounts as Array<{ Destination: string }>).map((m) => m.Destination).sort()).toEqual(['/home/agent', HOST_SOCKET, '/workspace']);
      expect(config.Labels['drydock.mode']).toBe('dood');
      expect(((config.Env ?? []) as string[]).filter((e) => /^(https?_proxy|HTTPS?_PROXY)=/.test(e))).toEqual([]);

      // The socket inside is the engine that runs the agent.
      const engineId = (await dockerOk(['info', '-f', '{{.ID}}'])).trim();
      const inside = await dockerOk(['exec', agent, 'curl', '-sS', '--unix-socket', '/var/run/docker.sock', 'http://engine/info']);
      expect((JSON.parse(inside) as { ID: string }).ID).toBe(engineId);
      // The host network: the agent shares dockerd's network namespace.
      const agentNet = (await dockerOk(['exec', agent, 'readlink', '/proc/1/ns/net'])).trim();
      expect(agentNet).toBe(readlinkSync(`/proc/${enginePid()}/ns/net`));
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
    expect(await containersOf({ project: sb.project })).toEqual([]);
    // Mounting a socket that is not there would have made the engine create a directory in its place.
    if (!hostSocketExisted) expect(existsSync(HOST_SOCKET) || isLink(HOST_SOCKET)).toBe(false);
  });
});

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** dockerd's pid, from the pidfile engine.sh gave it. */
function enginePid(): string {
  const dir = process.env.DRYDOCK_E2E_DIR;
  if (!dir) throw new Error('DRYDOCK_E2E_DIR is not set: run the tier with test/e2e/run.sh');
  return readFileSync(join(dir, 'docker.pid'), 'utf8').trim();
}
