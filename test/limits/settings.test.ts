import { describe, expect, it } from 'vitest';
import { UsageError } from '../../lib/errors.js';
import { defaultLimits, formatSize, limitsBannerLines, parseSize, resolveLimits, LIMIT_VARIABLES } from '../../lib/limits/settings.js';

const HOST = { cpus: 8, memoryBytes: 32 * 1024 ** 3 };
const G = 1024 ** 3;
const M = 1024 ** 2;

describe('default limits', () => {
  it('derive the agent’s share from the machine and fix the sidecar’s', () => {
    const limits = defaultLimits(HOST);
    expect(limits.agent).toEqual({ memoryBytes: 16 * G, cpus: 7, pids: 2048, init: true });
    expect(limits.egress).toEqual({ memoryBytes: 256 * M, pids: 1064, maxClients: 1000, idleTimeoutSeconds: 600, tmpfsBytes: 32 * M });
    expect(limits.logs).toEqual({ maxSizeBytes: 10 * M, maxFiles: 3 });
  });

  it('keep a floor on a small machine', () => {
    expect(defaultLimits({ cpus: 1, memoryBytes: 700 * M }).agent).toMatchObject({ memoryBytes: 512 * M, cpus: 1 });
  });
});

describe('resolveLimits', () => {
  it('takes every variable', () => {
    const limits = resolveLimits(
      {
        DRYDOCK_AGENT_MEMORY: '2g', DRYDOCK_AGENT_CPUS: '1.5', DRYDOCK_AGENT_PIDS: '512', DRYDOCK_AGENT_INIT: '0',
        DRYDOCK_EGRESS_MEMORY: '128m', DRYDOCK_EGRESS_MAX_CLIENTS: '200', DRYDOCK_EGRESS_IDLE_TIMEOUT: '120',
        DRYDOCK_EGRESS_TMPFS_SIZE: '8m', DRYDOCK_LOG_MAX_SIZE: '1m', DRYDOCK_LOG_MAX_FILES: '2',
      },
      HOST,
    );
    expect(limits.agent).toEqual({ memoryBytes: 2 * G, cpus: 1.5, pids: 512, init: false });
    // The sidecar's pids follow MaxClients unless set themselves.
    expect(limits.egress).toEqual({ memoryBytes: 128 * M, pids: 264, maxClients: 200, idleTimeoutSeconds: 120, tmpfsBytes: 8 * M });
    expect(limits.logs).toEqual({ maxSizeBytes: M, maxFiles: 2 });
  });

  it('ignores empty values', () => {
    expect(resolveLimits({ DRYDOCK_AGENT_MEMORY: '', DRYDOCK_AGENT_PIDS: ' ' }, HOST)).toEqual(defaultLimits(HOST));
  });

  it.each([
    ['DRYDOCK_AGENT_MEMORY', 'lots', /DRYDOCK_AGENT_MEMORY="lots" is not valid: expected a size such as 512m or 4g/],
    ['DRYDOCK_AGENT_MEMORY', '1m', /from 64m to 1024g/],
    ['DRYDOCK_AGENT_CPUS', '9', /from 0.01 to 8 \(the CPUs this machine has\)/],
    ['DRYDOCK_AGENT_CPUS', '-1', /a number of CPUs/],
    ['DRYDOCK_AGENT_PIDS', '1e3', /a whole number/],
    ['DRYDOCK_AGENT_PIDS', '4', /from 16 to/],
    ['DRYDOCK_AGENT_INIT', 'yes', /1 or 0/],
    ['DRYDOCK_EGRESS_PIDS', '1000', /leaves tinyproxy no room for MaxClients 1000/],
    ['DRYDOCK_LOG_MAX_FILES', '0', /from 1 to 100/],
  ])('refuses %s=%s with a line naming the variable', (name, value, message) => {
    let error: unknown;
    try {
      resolveLimits({ [name]: value }, HOST);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect(String((error as Error).message)).toMatch(message);
    expect((error as UsageError).hint).toContain(name === 'DRYDOCK_EGRESS_PIDS' ? 'DRYDOCK_EGRESS_PIDS' : name);
  });

  it('documents each variable it reads', () => {
    const source = resolveLimits.toString();
    for (const v of LIMIT_VARIABLES) expect(source).toContain(v.name);
    expect(LIMIT_VARIABLES.length).toBe(new Set((source.match(/DRYDOCK_[A-Z_]+/g) ?? [])).size);
  });
});

describe('sizes', () => {
  it('parse docker’s spellings and print exactly', () => {
    const any = { min: 1, max: 2 ** 50 };
    expect(parseSize('X', '512m', any)).toBe(512 * M);
    expect(parseSize('X', '1.5g', any)).toBe(1.5 * G);
    expect(parseSize('X', '4GiB', any)).toBe(4 * G);
    expect(parseSize('X', '262144k', any)).toBe(256 * M);
    expect(formatSize(1.5 * G)).toBe('1536m');
    expect(formatSize(1000)).toBe('1000b');
  });
});

describe('the banner', () => {
  it('shows every limit in force, the sidecar’s only when there is one', () => {
    const lines = limitsBannerLines(defaultLimits(HOST), true);
    expect(lines).toEqual([
      'drydock: limits agent: memory 16g, cpus 7, pids 2048, init on; logs 10m × 3 per container',
      'drydock: limits sidecar: memory 256m, pids 1064, MaxClients 1000, Timeout 600s, tmpfs 32m each',
    ]);
    expect(limitsBannerLines(defaultLimits(HOST), false)).toHaveLength(1);
  });
});

describe('README', () => {
  it('documents every limit variable in its Configuration table', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const v of LIMIT_VARIABLES) expect(readme).toMatch(new RegExp(`^\\| \`${v.name}\` \\|`, 'm'));
  });
});

describe('a live change keeps the session’s own MaxClients and Timeout', () => {
  it('reads them back from the rendered tinyproxy.conf', async () => {
    const { proxyLimitsOf, renderTinyproxyConf } = await import('../../lib/egress/tinyproxy-conf.js');
    const { compileFilter } = await import('../../lib/allowlist/compile.js');
    const conf = renderTinyproxyConf({ compiled: compileFilter([]), filterPath: '/etc/drydock/egress-filter', maxClients: 250, idleTimeoutSeconds: 90 });
    expect(proxyLimitsOf(conf)).toEqual({ maxClients: 250, idleTimeoutSeconds: 90 });
    expect(proxyLimitsOf('Port 8888\n')).toEqual({});
  });
});
