import { describe, expect, it } from 'vitest';
import { checkContainedInvariants, checkDoodInvariants } from '../../lib/render/invariants.js';
import { mergeCompose } from '../../lib/render/merge.js';
import { renderOverlay } from '../../lib/render/overlay.js';
import { testSpec } from '../render/spec.js';
import type { AgentRuntime } from '../../lib/agent/runtime.js';

const withAgent = (agent: Partial<AgentRuntime>, mode: 'contain' | 'dood' = 'contain') => {
  const spec = testSpec({ mode, dockerSocketGid: 999, agent: { ...testSpec().agent, ...agent } });
  const { base, overlay } = renderOverlay(spec);
  return mergeCompose(base, overlay);
};
const agentOf = (doc: ReturnType<typeof withAgent>) => doc.services.drydock!;

describe('the agent runtime in the render', () => {
  it('runs as the given uid:gid with no capabilities added and its home mounted from the state dir', () => {
    const agent = agentOf(withAgent({}));
    expect(agent.user).toBe('1000:1000');
    expect(agent.cap_add).toBeUndefined();
    expect(agent.cap_drop).toEqual(['ALL']);
    expect(agent.volumes).toContainEqual({ type: 'bind', source: '/state/agent-state/demo/home', target: '/home/agent' });
    expect(agent.environment!.HOME).toBe('/home/agent');
  });

  it('--no-persist: a tmpfs home owned by the agent instead', () => {
    const agent = agentOf(withAgent({ homeSource: undefined, user: '1234:55' }));
    expect(agent.tmpfs).toEqual(['/home/agent:uid=1234,gid=55,mode=0700']);
    expect(agent.volumes!.some((v) => v.target === '/home/agent')).toBe(false);
  });

  it('the extra CA: the bare CA for Node, the system-plus-extra bundle for the rest, both read-only', () => {
    const doc = withAgent({ extraCa: true });
    const agent = agentOf(doc);
    expect(agent.environment).toMatchObject({
      NODE_EXTRA_CA_CERTS: '/etc/ssl/drydock/extra-ca.pem',
      SSL_CERT_FILE: '/etc/ssl/drydock/ca-bundle.pem',
      REQUESTS_CA_BUNDLE: '/etc/ssl/drydock/ca-bundle.pem',
      CURL_CA_BUNDLE: '/etc/ssl/drydock/ca-bundle.pem',
      GIT_SSL_CAINFO: '/etc/ssl/drydock/ca-bundle.pem',
    });
    expect(agent.volumes).toContainEqual({ type: 'bind', source: './extra-ca.pem', target: '/etc/ssl/drydock/extra-ca.pem', read_only: true });
    expect(checkContainedInvariants(doc)).toEqual([]);
    expect(checkDoodInvariants(withAgent({ extraCa: true }, 'dood'))).toEqual([]);
  });

  it('git identity as /etc/gitconfig, ssh through the sidecar only in contained mode', () => {
    const contained = agentOf(withAgent({ gitconfig: true }));
    expect(contained.volumes).toContainEqual({ type: 'bind', source: './gitconfig', target: '/etc/gitconfig', read_only: true });
    expect(contained.volumes).toContainEqual({ type: 'bind', source: './ssh_config', target: '/etc/ssh/ssh_config.d/drydock.conf', read_only: true });
    expect(agentOf(withAgent({}, 'dood')).volumes!.some((v) => v.target.startsWith('/etc/ssh'))).toBe(false);
  });

  it('DRYDOCK_TELEMETRY=on removes the telemetry variables rather than setting them to 0', () => {
    const env = agentOf(withAgent({ telemetryDefaults: false })).environment!;
    for (const name of ['DISABLE_TELEMETRY', 'DISABLE_ERROR_REPORTING', 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC']) expect(env[name]).toBeUndefined();
  });

  it('ssh agent forwarding mounts the socket and points SSH_AUTH_SOCK at it', () => {
    const agent = agentOf(withAgent({ sshAgentSocket: '/tmp/ssh-x/agent.1' }));
    expect(agent.volumes).toContainEqual({ type: 'bind', source: '/tmp/ssh-x/agent.1', target: '/run/drydock/ssh-agent.sock' });
    expect(agent.environment!.SSH_AUTH_SOCK).toBe('/run/drydock/ssh-agent.sock');
  });
});
