import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import { parseTinyproxyLog } from '../../lib/egress/log.js';
import { FILTER_REFUSAL, refusalPage } from '../../lib/egress/refusal-pages.js';
import { checkHostOf, checkSessionEgress, isCheckHost, renderSessionEgress } from '../../lib/egress/session-egress.js';

const entries = parseAllowlist('allowed.test\ngithub.com:22\n', 'x').entries;
const render = (generation = '0123abcd') => renderSessionEgress({ sessionId: 'demo-1a2b', project: 'demo', entries, observe: false, generation });

describe('renderSessionEgress', () => {
  it('one generation: filter, config and refusal page that name the same check host and paths', () => {
    const egress = render();
    expect(Object.keys(egress.files).sort()).toEqual(['egress-filter', 'refused-403.html', 'refused-500.html', 'tinyproxy.conf']);
    expect(egress.checkHost).toBe('drydock-reload-0123abcd.invalid');
    const conf = egress.files['tinyproxy.conf']!;
    expect(conf).toContain('\nStatHost "drydock-reload-0123abcd.invalid"\n');
    expect(conf).toContain('\nErrorFile 403 "/etc/drydock/refused-403.html"\n');
    expect(conf).toContain('\nErrorFile 500 "/etc/drydock/refused-500.html"\n');
    expect(egress.files['refused-500.html']).toContain('the name resolved to a private or local address');
    expect(conf).toContain('\nFilter "/etc/drydock/egress-filter"\n');
    expect(conf).toMatch(/^ConnectPort 22$/m);
    expect(egress.compiled.entryCount, 'the check entry is not counted as the user\'s').toBe(2);
    expect(checkSessionEgress(egress, false)).toEqual([]);
  });

  it('with the address floor\'s upstreams, also the resolver config, with this generation\'s private: domains', () => {
    const withFloor = (lines: string) => renderSessionEgress({ sessionId: 'demo-1a2b', project: 'demo', entries: parseAllowlist(lines, 'x').entries, observe: false, generation: '0123abcd', resolverServers: ['192.0.2.53'] });
    const plain = withFloor('github.com\n').files['resolver.conf']!;
    expect(plain).toContain('\nserver=192.0.2.53\n');
    expect(plain).toContain('\nbogus-nxdomain=169.254.0.0/16\n');
    expect(plain).not.toContain('rebind-domain-ok');
    expect(withFloor('github.com\nprivate:registry.corp.example\n').files['resolver.conf']).toContain('\nrebind-domain-ok=/registry.corp.example/\n');
    expect(render().files['resolver.conf'], 'no upstreams given (Kubernetes): no resolver config').toBeUndefined();
  });

  it('the check finds what would make tinyproxy misread a generation', () => {
    const egress = render();
    const broken = { ...egress, files: { ...egress.files, 'egress-filter': `${'a'.repeat(600)}\n(bad\n`, 'tinyproxy.conf': egress.files['tinyproxy.conf']!.replace('FilterDefaultDeny Yes\n', '').replace(/^ConnectPort .*\n/gm, '') } };
    expect(checkSessionEgress(broken, false)).toEqual([
      'filter line 1 is 600 bytes (tinyproxy reads at most 511)',
      expect.stringMatching(/^filter line 2 is not a regular expression/),
      'the filter does not allow its check host drydock-reload-0123abcd.invalid',
      'tinyproxy.conf lacks `FilterDefaultDeny Yes`',
      'tinyproxy.conf has no ConnectPort line (tinyproxy would allow every CONNECT port)',
    ]);
  });

  it('generations are hex only, so a check host is always a safe argument and a `.invalid` name', () => {
    expect(() => checkHostOf('xyz')).toThrow();
    expect(() => checkHostOf('00; rm')).toThrow();
    expect(isCheckHost('DRYDOCK-RELOAD-0123abcd.invalid.')).toBe(true);
    expect(isCheckHost('drydock-reload-0123abcd.invalid.evil.test')).toBe(false);
  });

  it('the egress log never counts a reload check as the agent\'s traffic', () => {
    const log = [
      'CONNECT   Dec 02 01:26:24.130 [7]: Request (file descriptor 4): GET http://drydock-reload-0123abcd.invalid/ HTTP/1.0',
      'NOTICE    Dec 02 01:26:24.130 [7]: Proxying refused on filtered url "http://drydock-reload-0123abcd.invalid/"',
      'CONNECT   Dec 02 01:26:24.131 [7]: Request (file descriptor 5): CONNECT denied.test:443 HTTP/1.1',
      'NOTICE    Dec 02 01:26:24.131 [7]: Proxying refused on filtered url "denied.test:443"',
    ].join('\n');
    expect(parseTinyproxyLog(log).map((e) => `${e.action} ${e.host}`)).toEqual(['denied denied.test']);
  });
});

describe('refusal pages', () => {
  it('the 403 page names the destination, every reason by tinyproxy\'s cause, and the command for this project', () => {
    const page = refusalPage(FILTER_REFUSAL, { sessionId: 'demo-1a2b', project: 'demo' });
    expect(page.file).toBe('refused-403.html');
    expect(page.content).toContain('drydock refused {url} ({errno} {cause})\n');
    expect(page.content).toContain('  drydock allowlist add --project demo {url}\n');
    expect(page.content).toContain('drydock egress log --follow demo-1a2b');
    // Only tinyproxy's own variables: anything else in braces would be sent as written.
    expect([...page.content.matchAll(/\{([a-z]{1,32})\}/g)].map((m) => m[1]).every((v) => ['url', 'errno', 'cause'].includes(v!))).toBe(true);
  });

  it('a refusal that no entry can allow gets no command', () => {
    const page = refusalPage({ status: 500, reasons: ['"Unable to connect": resolved to a private address'], allowable: false }, { sessionId: 's-0000', project: 'p' });
    expect(page.file).toBe('refused-500.html');
    expect(page.content).toContain('  - "Unable to connect": resolved to a private address\n');
    expect(page.content).not.toContain('drydock allowlist add');
  });
});
