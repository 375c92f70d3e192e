import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { UsageError } from '../../lib/errors.js';
import { renderOverlay } from '../../lib/render/overlay.js';
import { composeYaml } from '../../lib/render/yaml.js';
import { testSpec } from './spec.js';

describe('renderOverlay', () => {
  it('is deterministic', () => {
    expect(renderOverlay(testSpec())).toEqual(renderOverlay(testSpec()));
  });

  it('names the overlay after the mode', () => {
    expect(renderOverlay(testSpec()).overlayFileName).toBe('docker-compose.contain.yml');
    expect(renderOverlay(testSpec({ mode: 'dood' })).overlayFileName).toBe('docker-compose.dood.yml');
  });

  it('lets the user override each telemetry default, and only those', () => {
    const { overlay } = renderOverlay(testSpec({ userEnv: { DISABLE_TELEMETRY: '0', HTTPS_PROXY: 'http://elsewhere.test:1', HOME: '/root' } }));
    const env = overlay.services.drydock!.environment!;
    expect(env.DISABLE_TELEMETRY).toBe('0');
    expect(env.DISABLE_ERROR_REPORTING).toBe('1');
    expect(env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC).toBe('1');
    expect(env.HTTPS_PROXY).toBe('http://drydock-demo-1a2b-egress:8888');
    expect(env).not.toHaveProperty('HOME');
  });

  it('escapes $ so compose does not interpolate a path or a value', () => {
    const { base, overlay } = renderOverlay(testSpec({ projectDir: '/work/$HOME/x', userEnv: { DISABLE_TELEMETRY: '${EVIL}' } }));
    expect(base.services.drydock!.volumes![0]!.source).toBe('/work/$$HOME/x');
    expect(overlay.services.drydock!.environment!.DISABLE_TELEMETRY).toBe('$${EVIL}');
  });

  it('adds the docker.sock group in dood mode when known', () => {
    expect(renderOverlay(testSpec({ mode: 'dood', dockerSocketGid: 998 })).overlay.services.drydock!.group_add).toEqual(['998']);
    expect(renderOverlay(testSpec({ mode: 'dood' })).overlay.services.drydock!.group_add).toBeUndefined();
  });

  it('labels observe sessions', () => {
    const { base, overlay } = renderOverlay(testSpec({ observe: true }));
    expect(base.services.drydock!.labels!['drydock.observe']).toBe('true');
    expect(overlay.services['drydock-egress']!.labels!['drydock.observe']).toBe('true');
  });

  it('refuses --observe in dood mode: there is no proxy to observe', () => {
    expect(() => renderOverlay(testSpec({ mode: 'dood', observe: true }))).toThrow(UsageError);
  });

  it('serialises strings that YAML 1.1 would read as something else with quotes', () => {
    const text = composeYaml({ services: { s: { environment: { A: 'yes', B: 'on', C: '1', D: '1:30' }, user: '10001:10001' } } });
    expect(text).toContain('A: "yes"');
    expect(text).toContain('B: "on"');
    expect(text).toContain('C: "1"');
    expect(text).toContain('D: "1:30"');
    expect(parse(text, { version: '1.1' })).toEqual({ services: { s: { environment: { A: 'yes', B: 'on', C: '1', D: '1:30' }, user: '10001:10001' } } });
  });
});

describe('dood socket', () => {
  it('mounts the engine drydock talks to (a unix:// DOCKER_HOST), else /var/run/docker.sock', async () => {
    const { hostDockerSocket } = await import('../../lib/settings.js');
    expect(hostDockerSocket({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toBe('/run/user/1000/docker.sock');
    expect(hostDockerSocket({})).toBe('/var/run/docker.sock');
    expect(hostDockerSocket({ DOCKER_HOST: 'tcp://10.0.0.1:2375' })).toBe('/var/run/docker.sock');
  });
});
