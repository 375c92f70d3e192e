/**
 * The kubernetes render end to end, in temp dirs: file snapshots (normalised: the temp dir
 * becomes <ROOT>, the session id is fixed), the ConfigMap's bytes against the compose render's
 * files, and that a refusal leaves nothing written.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { render } from '../../lib/commands/render.js';
import type { CommandContext } from '../../lib/context.js';
import { DrydockError, ExitCode } from '../../lib/errors.js';
import { checkKubernetesInvariants } from '../../lib/kubernetes/invariants.js';
import { checkedDocuments, kubernetesSession, writeManifests } from '../../lib/kubernetes/render.js';
import { renderSessionFiles } from '../../lib/render/session-files.js';
import { resolveSettings } from '../../lib/settings.js';
import { tempDir } from '../helpers/temp-dir.js';

let root: string;
let env: Record<string, string>;
let out: string[];
let err: string[];

beforeEach(() => {
  root = tempDir('k8s-render');
  mkdirSync(join(root, 'demo'));
  mkdirSync(join(root, 'config'));
  writeFileSync(join(root, 'baseline.conf'), '# test baseline\napi.anthropic.com\n');
  writeFileSync(join(root, 'config', 'egress-allowlist'), '*.npmjs.org\nhttp://deb.debian.org\n');
  writeFileSync(join(root, 'config', 'egress-allowlist-demo'), 'github.com:22\nhttp://plain.test:8080\n');
  env = { DRYDOCK_CONFIG_DIR: join(root, 'config'), DRYDOCK_BASELINE: join(root, 'baseline.conf') };
  out = [];
  err = [];
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

function context(json = false, extraEnv: Record<string, string> = {}): CommandContext {
  return { env: { ...env, ...extraEnv }, cwd: join(root, 'demo'), out: (t) => void out.push(t), err: (t) => void err.push(t), json };
}

const outDir = () => join(root, 'out');
const written = () => (existsSync(outDir()) ? readdirSync(outDir()).sort() : []);
/** The temp dir, and the filter generation (random per render, as in compose). */
const normalise = (text: string) => text.split(root).join('<ROOT>').replace(/drydock-reload-[0-9a-f]+/g, 'drydock-reload-<GENERATION>');
const objectsIn = (file: string) => parseAllDocuments(readFileSync(join(outDir(), file), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);

async function exitCodeOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof DrydockError) return error.exitCode;
    throw error;
  }
}

describe('render --target kubernetes: snapshots', () => {
  it.each([
    ['kubernetes', false],
    ['kubernetes-observe', true],
  ] as const)('%s', async (name, observe) => {
    // The agent's default memory and CPUs follow the machine: fixed here, so the snapshot does not.
    await render({ target: 'kubernetes', out: '../out', session: 'demo-1a2b', observe, proxyIp: '10.96.0.42' }, context(false, { DRYDOCK_AGENT_MEMORY: '4g', DRYDOCK_AGENT_CPUS: '1' }));
    expect(written()).toEqual(['kubernetes-agent.yaml', 'kubernetes-probe.yaml', 'kubernetes-proxy.yaml']);
    for (const file of written()) {
      await expect(normalise(readFileSync(join(outDir(), file), 'utf8'))).toMatchFileSnapshot(`__snapshots__/${name}/${file}`);
    }
  });
});

describe('render --target kubernetes', () => {
  it('warns that a private: entry opens nothing: the proxy\'s policy refuses private addresses for every name', () => {
    writeFileSync(join(root, 'config', 'egress-allowlist-demo'), 'github.com:22\nprivate:registry.corp.example\n');
    const settings = resolveSettings({ env, cwd: join(root, 'demo'), project: 'demo', mode: 'contain' });
    const session = kubernetesSession({ settings, observe: false, sessionId: 'demo-1a2b', generation: '00c0ffee' });
    expect(session.warnings).toEqual([expect.stringMatching(/egress-allowlist-demo:2: `private:registry\.corp\.example` opens nothing on --target kubernetes/)]);
    const policy = checkedDocuments(session.spec).proxy.find((d) => (d as { kind?: string }).kind === 'NetworkPolicy' && JSON.stringify(d).includes('0.0.0.0/0'));
    expect(JSON.stringify(policy)).toContain('"10.0.0.0/8"');
  });

  it('puts the compose sidecar\'s egress files (filter, tinyproxy.conf, refusal pages) into the ConfigMap, byte for byte', async () => {
    for (const observe of [false, true]) {
      const composeDir = join(root, `compose-${observe}`);
      const settings = resolveSettings({ env, cwd: join(root, 'demo'), project: 'demo', mode: 'contain' });
      renderSessionFiles({ settings, observe, sessionId: 'demo-1a2b', outDir: composeDir, validateSchema: false, generation: '00c0ffee' });
      const session = kubernetesSession({ settings, observe, sessionId: 'demo-1a2b', generation: '00c0ffee' });
      writeManifests(session.spec, checkedDocuments(session.spec), outDir());
      const config = objectsIn('kubernetes-proxy.yaml').find((o) => o.kind === 'ConfigMap') as { data: Record<string, string> };
      const egressDir = join(composeDir, 'egress');
      // All but the address floor's resolver config: the compose sidecar's floor is its own
      // resolver, the proxy Pod's is its NetworkPolicy (no private ranges).
      const shared = readdirSync(egressDir).filter((name) => name !== 'resolver.conf');
      expect(readdirSync(egressDir)).toContain('resolver.conf');
      expect(Object.keys(config.data).sort()).toEqual(shared.sort());
      expect(Object.keys(config.data)).toEqual(expect.arrayContaining(['egress-filter', 'tinyproxy.conf']));
      for (const name of shared) expect(config.data[name], name).toBe(readFileSync(join(egressDir, name), 'utf8'));
      // The proxy Pod mounts every one of them where the compose sidecar has them.
      const pod = objectsIn('kubernetes-proxy.yaml').find((o) => o.kind === 'Pod') as { spec: { volumes: Array<{ configMap?: { items: Array<{ key: string }> } }> } };
      expect(pod.spec.volumes[0]!.configMap!.items.map((i) => i.key)).toEqual(shared.sort());
    }
  });

  it('writes what the invariants accept, read back from the files', async () => {
    await render({ target: 'kubernetes', out: outDir(), session: 'demo-1a2b', proxyIp: 'fd00::42' }, context());
    const objects = written().flatMap(objectsIn);
    expect(objects.map((o) => o.kind)).toEqual(['Pod', 'Pod', 'Namespace', 'NetworkPolicy', 'NetworkPolicy', 'NetworkPolicy', 'NetworkPolicy', 'ConfigMap', 'Pod', 'Service']);
    expect(checkKubernetesInvariants({ objects, sessionId: 'demo-1a2b', ports: [22, 80, 443, 8080], proxyAddress: 'fd00::42' })).toEqual([]);
  });

  it('bounds the Pods by the same limit settings as the compose services, and refuses a malformed one', async () => {
    const limits = {
      DRYDOCK_EGRESS_MEMORY: '512m', DRYDOCK_EGRESS_TMPFS_SIZE: '8m', DRYDOCK_LOG_MAX_SIZE: '2m', DRYDOCK_LOG_MAX_FILES: '5',
      DRYDOCK_EGRESS_MAX_CLIENTS: '200', DRYDOCK_EGRESS_IDLE_TIMEOUT: '90', DRYDOCK_AGENT_MEMORY: '1536m', DRYDOCK_AGENT_CPUS: '1.5',
    };
    await render({ target: 'kubernetes', out: outDir(), session: 'demo-1a2b', proxyIp: '10.96.0.42' }, context(false, limits));
    type Pod = { kind: string; metadata: { name: string }; spec: { containers: Array<{ resources: unknown }>; volumes?: Array<{ name: string; emptyDir?: unknown }> } };
    const pod = (file: string, name: string) => objectsIn(file).find((o) => o.kind === 'Pod' && (o.metadata as { name: string }).name === name) as Pod;
    const proxy = pod('kubernetes-proxy.yaml', 'drydock-egress');
    expect(proxy.spec.containers[0]!.resources).toEqual({
      requests: { cpu: '50m', memory: '512Mi', 'ephemeral-storage': '10Mi' },
      limits: { memory: '512Mi', 'ephemeral-storage': '10Mi' },
    });
    expect(proxy.spec.volumes!.filter((v) => v.emptyDir)).toEqual([
      { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
      { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
    ]);
    expect(pod('kubernetes-agent.yaml', 'drydock-agent').spec.containers[0]!.resources).toEqual({ requests: { cpu: '250m', memory: '1536Mi' }, limits: { cpu: '1500m', memory: '1536Mi' } });
    // MaxClients and Timeout reach the proxy's config as they reach the compose sidecar's.
    const config = objectsIn('kubernetes-proxy.yaml').find((o) => o.kind === 'ConfigMap') as { data: Record<string, string> };
    expect(config.data['tinyproxy.conf']).toMatch(/^MaxClients 200$/m);
    expect(config.data['tinyproxy.conf']).toMatch(/^Timeout 90$/m);
    rmSync(outDir(), { recursive: true });
    await expect(render({ target: 'kubernetes', out: outDir(), session: 'demo-1a2b' }, context(false, { DRYDOCK_EGRESS_MEMORY: 'lots' }))).rejects.toThrow(/DRYDOCK_EGRESS_MEMORY="lots" is not valid/);
    expect(written()).toEqual([]);
  });

  it('opens the proxy\'s public egress on exactly the allowlist\'s ports', async () => {
    await render({ target: 'kubernetes', out: outDir(), session: 'demo-1a2b' }, context());
    const policy = objectsIn('kubernetes-proxy.yaml').find((o) => (o.metadata as { name: string }).name === 'proxy-egress-public') as { spec: { egress: Array<{ ports?: Array<{ port: number }> }> } };
    expect(policy.spec.egress[1]!.ports!.map((p) => p.port)).toEqual([22, 80, 443, 8080]);
  });

  it('gives an allowlist that names no port 443 only, never an empty (all-ports) rule', async () => {
    writeFileSync(join(root, 'baseline.conf'), '# empty\n');
    rmSync(join(root, 'config'), { recursive: true });
    mkdirSync(join(root, 'config'));
    await render({ target: 'kubernetes', out: outDir(), session: 'demo-1a2b' }, context());
    const policy = objectsIn('kubernetes-proxy.yaml').find((o) => (o.metadata as { name: string }).name === 'proxy-egress-public') as { spec: { egress: Array<{ ports?: Array<{ port: number }> }> } };
    expect(policy.spec.egress[1]!.ports).toEqual([{ protocol: 'TCP', port: 443 }]);
  });

  it('without --proxy-ip writes the proxy side only, and says how to render the rest', async () => {
    const result = await render({ target: 'kubernetes', out: outDir(), session: 'demo-1a2b' }, context());
    expect(result.exitCode).toBe(ExitCode.Ok);
    expect(written()).toEqual(['kubernetes-proxy.yaml']);
    expect(out.join('\n')).toMatch(/--session demo-1a2b --out .* --proxy-ip "\$\(kubectl -n drydock-demo-1a2b get service drydock-egress/);
  });

  it('refuses dood, a bad --proxy-ip, and a project that makes no namespace name, writing nothing', async () => {
    expect(await exitCodeOf(render({ target: 'kubernetes', out: outDir(), mode: 'dood' }, context()))).toBe(ExitCode.Usage);
    expect(await exitCodeOf(render({ target: 'kubernetes', out: outDir(), proxyIp: 'drydock-egress' }, context()))).toBe(ExitCode.Usage);
    // drydock- + 50 + -xxxx is 63 characters, the longest a namespace name may be.
    await expect(render({ target: 'kubernetes', out: outDir(), project: 'a'.repeat(50) }, context())).resolves.toMatchObject({ exitCode: 0 });
    rmSync(outDir(), { recursive: true });
    await expect(render({ target: 'kubernetes', out: outDir(), project: 'a'.repeat(51) }, context())).rejects.toThrow(/namespace name "drydock-a{51}-[0-9a-f]{4}" is 64 characters long \(at most 63\)/);
    await expect(render({ target: 'kubernetes', out: outDir(), session: 'my_app-00ff' }, context())).rejects.toThrow(/"drydock-my_app-00ff" may contain only lowercase letters/);
    expect(written()).toEqual([]);
  });

  it('refuses --proxy-ip for compose', async () => {
    expect(await exitCodeOf(render({ out: outDir(), proxyIp: '10.0.0.1' }, context()))).toBe(ExitCode.Usage);
  });

  it('honours DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE before writing', async () => {
    expect(await exitCodeOf(render({ target: 'kubernetes', out: outDir() }, context(false, { DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE: '1' })))).toBe(ExitCode.Usage);
    expect(written()).toEqual([]);
  });

  it('reports files, namespace and target in --json', async () => {
    const result = await render({ target: 'kubernetes', out: outDir(), session: 'demo-1a2b', proxyIp: '10.96.0.42' }, context(true));
    expect(result.data).toMatchObject({ sessionId: 'demo-1a2b', target: 'kubernetes', namespace: 'drydock-demo-1a2b', proxyAddress: '10.96.0.42' });
    expect(out).toEqual([]);
  });
});
