import { describe, expect, it } from 'vitest';
import { UsageError } from '../lib/errors.js';
import { errorDocument, resultDocument } from '../lib/output.js';
import { CONTAINED_SETTINGS, requireSettings, resolveSettings } from '../lib/settings.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('resolveSettings', () => {
  it('resolves every setting once, with the defaults', () => {
    const s = resolveSettings({ env: { HOME: '/home/u' }, cwd: '/src/My App' });
    expect(s).toMatchObject({
      project: 'my-app',
      mode: 'contain',
      images: { agent: 'drydock-agent:latest', agentIsDefault: true, egress: 'drydock-egress:latest', egressIsDefault: true, egressPinned: false, requirePinnedEgress: false },
      dirs: { config: '/home/u/.config/drydock', state: '/home/u/.local/state/drydock', sessions: '/home/u/.local/state/drydock/sessions' },
      allowlists: { global: '/home/u/.config/drydock/egress-allowlist', project: '/home/u/.config/drydock/egress-allowlist-my-app' },
      agentCommand: [],
      runTiming: false,
      gcGraceMs: 300_000,
      engine: { target: 'the default context', socket: '/var/run/docker.sock' },
      problems: [],
    });
    expect(s.allowlists.baseline).toMatch(/allowlists\/egress-baseline\.conf$/);
  });

  it('flags beat variables; variables beat defaults', () => {
    const s = resolveSettings({
      env: { DRYDOCK_MODE: 'dood', DRYDOCK_STATE_DIR: '/st', DRYDOCK_CONFIG_DIR: '/cf', DRYDOCK_BASELINE: '/b.conf', DOCKER_HOST: 'unix:///run/d.sock', DRYDOCK_RUN_TIMING: '1', DRYDOCK_AGENT_COMMAND: 'codex  --x', DRYDOCK_GC_GRACE_SECONDS: '30', DRYDOCK_EGRESS_IMAGE: `r/e@${DIGEST}` },
      cwd: '/src/app',
      mode: 'contain',
      project: 'other',
    });
    expect(s).toMatchObject({
      mode: 'contain', modeVariable: 'dood', project: 'other', runTiming: true, agentCommand: ['codex', '--x'], gcGraceMs: 30_000,
      dirs: { state: '/st', config: '/cf', sessions: '/st/sessions' },
      allowlists: { baseline: '/b.conf', global: '/cf/egress-allowlist', project: '/cf/egress-allowlist-other' },
      engine: { target: 'DOCKER_HOST=unix:///run/d.sock', socket: '/run/d.sock' },
      images: { egress: `r/e@${DIGEST}`, egressPinned: true, egressIsDefault: false },
    });
  });

  it('never throws: each malformed setting is a typed problem carrying the error its user would see', () => {
    const s = resolveSettings({
      env: { DRYDOCK_MODE: 'jail', DRYDOCK_AGENT_IMAGE: '-x', DRYDOCK_EGRESS_IMAGE: 'a b', DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE: 'maybe', DRYDOCK_GC_GRACE_SECONDS: '5m' },
      cwd: '/p',
    });
    expect(s.problems.map((p) => [p.setting, p.variable])).toEqual([
      ['mode', 'DRYDOCK_MODE'], ['agentImage', 'DRYDOCK_AGENT_IMAGE'], ['egressImage', 'DRYDOCK_EGRESS_IMAGE'],
      ['requirePinned', 'DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE'], ['gcGrace', 'DRYDOCK_GC_GRACE_SECONDS'],
    ]);
    for (const p of s.problems) expect(p.error).toBeInstanceOf(UsageError);
    expect(s.mode).toBe('contain');
  });

  it('an unpinned sidecar under the pinning policy is its own problem, named by setting', () => {
    const s = resolveSettings({ env: { DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE: '1' }, cwd: '/p' });
    expect(s.problems.map((p) => p.setting)).toEqual(['egressPinning']);
    expect(() => requireSettings(s, ...CONTAINED_SETTINGS)).toThrow(/not pinned by digest/);
    expect(() => requireSettings(s, 'mode', 'agentImage')).not.toThrow();
  });

  it('requireSettings throws in the order asked, and only for what is asked', () => {
    const s = resolveSettings({ env: { DRYDOCK_AGENT_IMAGE: '-x', DRYDOCK_MODE: 'both' }, cwd: '/p' });
    expect(() => requireSettings(s, 'agentImage', 'mode')).toThrow(/DRYDOCK_AGENT_IMAGE/);
    expect(() => requireSettings(s, 'mode', 'agentImage')).toThrow(/more than one mode/);
    expect(() => requireSettings(s, 'gcGrace')).not.toThrow();
  });
});

describe('the --json document', () => {
  it('has one shape for success, a negative answer, and an error', () => {
    const keys = (doc: object) => Object.keys(doc).sort();
    const ok = resultDocument(0, { a: 1 });
    const denied = resultDocument(1, { allowed: false });
    const failed = errorDocument(3, { kind: 'ExternalError', message: 'no engine' });
    expect(keys(ok)).toEqual(['data', 'error', 'exitCode', 'ok']);
    expect(keys(denied)).toEqual(keys(ok));
    expect(keys(failed)).toEqual(keys(ok));
    expect(ok).toEqual({ ok: true, exitCode: 0, data: { a: 1 }, error: null });
    expect(denied).toMatchObject({ ok: false, exitCode: 1, error: null });
    expect(failed).toEqual({ ok: false, exitCode: 3, data: null, error: { kind: 'ExternalError', message: 'no engine' } });
    expect(resultDocument(0, undefined).data).toBeNull();
  });
});
