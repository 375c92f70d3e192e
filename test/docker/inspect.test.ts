import { describe, expect, it } from 'vitest';
import { parseDockerTime, parseEngineInfo, parseHealthTimeline } from '../../lib/docker/inspect.js';

describe('parseEngineInfo', () => {
  it('reads the server version and the names of the security options', () => {
    const info = parseEngineInfo(JSON.stringify({ ServerVersion: '20.10.24', SecurityOptions: ['name=seccomp,profile=default', 'name=rootless', 'name=userns'] }));
    expect(info).toMatchObject({ serverVersion: '20.10.24', securityOptions: ['seccomp', 'rootless', 'userns'], rootless: true, userns: true });
  });
  it('treats ServerErrors as a failure', () => {
    expect(() => parseEngineInfo(JSON.stringify({ ServerErrors: ['Cannot connect'] }))).toThrow(/Cannot connect/);
  });
});

describe('parseHealthTimeline', () => {
  const doc = (log: Array<{ End: string; ExitCode: number }>) =>
    JSON.stringify([{ Created: '2024-05-01T10:00:00.000000001Z', State: { StartedAt: '2024-05-01T10:00:05.5Z', Health: { Status: 'healthy', Log: log } } }]);

  it('measures create → first passing check, from inspect (array) output', () => {
    const t = parseHealthTimeline(doc([{ End: '2024-05-01T10:00:06.5Z', ExitCode: 1 }, { End: '2024-05-01T10:00:07.25Z', ExitCode: 0 }]));
    expect(t).toMatchObject({ createToHealthyMs: 7250, createToStartMs: 5500, approximate: false, status: 'healthy' });
  });
  it('says it is an upper bound when all five kept checks passed (older ones were dropped)', () => {
    const five = Array.from({ length: 5 }, (_, i) => ({ End: `2024-05-01T10:00:1${i}Z`, ExitCode: 0 }));
    expect(parseHealthTimeline(doc(five)).approximate).toBe(true);
  });
  it('has no health timing for a container without a healthcheck', () => {
    expect(parseHealthTimeline(JSON.stringify({ Created: '2024-05-01T10:00:00Z', State: {} })).createToHealthyMs).toBeUndefined();
  });
});

describe('parseDockerTime', () => {
  it('handles nanoseconds and the zero time', () => {
    expect(parseDockerTime('2024-05-01T10:00:00.123456789Z')).toBe(Date.parse('2024-05-01T10:00:00.123Z'));
    expect(parseDockerTime('0001-01-01T00:00:00Z')).toBeUndefined();
  });
});
