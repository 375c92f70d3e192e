import { describe, expect, it } from 'vitest';
import { effectiveRules } from '../../lib/allowlist/effective.js';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import { squidConfig } from './squid-proc.js';

describe("the bench's squid peer config", () => {
  it('is the same allowlist as dstdomain lists: exact hosts, .domain wildcards, CONNECT only to listed ports, deny all last', () => {
    const { entries } = parseAllowlist('github.com\n*.npmjs.org\ngithub.com:22\nhttp://deb.debian.org\n', 'x');
    const { conf, lists } = squidConfig({ port: 3999, dir: '/d', groups: effectiveRules(entries).groups });
    expect(Object.fromEntries(lists)).toEqual({
      connect_22: 'github.com\n',
      connect_443: 'github.com\ndeb.debian.org\n.npmjs.org\n',
      http_80: 'deb.debian.org\n',
    });
    const access = conf.split('\n').filter((l) => l.startsWith('http_access'));
    expect(access).toEqual([
      'http_access allow CONNECT port_connect_22 connect_22',
      'http_access allow CONNECT port_connect_443 connect_443',
      'http_access allow !CONNECT plain_http port_http_80 http_80',
      'http_access deny all',
    ]);
    expect(conf).toContain('http_port 127.0.0.1:3999\n');
    expect(conf).toContain('acl connect_443 dstdomain "/d/connect_443"\nacl port_connect_443 port 443\n');
    // Logs go to the FIFO the bench drains (a pipe, as the sidecar's log).
    expect(conf).toContain('access_log stdio:/d/log.fifo\n');
  });
});
