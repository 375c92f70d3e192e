import { describe, expect, it } from 'vitest';
import { ALWAYS_REFUSED, DOCKER_DEFAULT_RESOLVERS, FLOOR_REASON, floorPrefixes, PRIVATE_UNLESS_OPTED_IN, renderResolverConf, upstreamResolvers } from '../../lib/egress/address-floor.js';

describe('the resolver config of the address floor', () => {
  it('refuses every always-refused prefix, and exempts only the private: domains from the rebind check', () => {
    const conf = renderResolverConf({ privateDomains: ['registry.corp.example', 'lab.example'], servers: ['10.255.255.53'] });
    const directives = conf.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(directives).toEqual([
      'server=10.255.255.53',
      ...ALWAYS_REFUSED.map((p) => `bogus-nxdomain=${p.prefix}`),
      'rebind-domain-ok=/registry.corp.example/',
      'rebind-domain-ok=/lab.example/',
    ]);
  });

  it('covers each class the floor promises', () => {
    const prefixes = ALWAYS_REFUSED.map((p) => p.prefix);
    for (const p of ['127.0.0.0/8', '169.254.0.0/16', '100.64.0.0/10', '168.63.129.16/32', '224.0.0.0/4', '0.0.0.0/8', 'fe80::/10', 'ff00::/8', '::ffff:0:0/96', '64:ff9b::/96', '2002::/16', 'fd00:ec2::254/128']) {
      expect(prefixes).toContain(p);
    }
    expect(PRIVATE_UNLESS_OPTED_IN.map((p) => p.prefix)).toEqual(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']);
    expect(FLOOR_REASON).toBe('resolved to a private address');
  });

  it('writes no rebind exemption without private: entries', () => {
    expect(renderResolverConf({ privateDomains: [], servers: ['8.8.8.8'] })).not.toContain('rebind-domain-ok');
  });

  it.each(['a/b.example', 'x.example/', '', 'single', 'a..example', 'a.example\nserver=8.8.8.8'])('refuses %j as a domain (the config grammar has no escapes)', (domain) => {
    expect(() => renderResolverConf({ privateDomains: [domain], servers: ['8.8.8.8'] })).toThrow(/invalid private domain/);
  });
});

describe('the upstream resolvers, as Docker would pick them', () => {
  it('takes the host\'s nameservers without loopback ones', () => {
    expect(upstreamResolvers(['nameserver 127.0.0.53\nnameserver 10.255.255.53\nnameserver fe80::1%eth0\n', 'nameserver 9.9.9.9\n'])).toEqual(['10.255.255.53', 'fe80::1']);
  });
  it('falls back to systemd-resolved\'s upstream file, then to Docker\'s defaults', () => {
    expect(upstreamResolvers(['nameserver 127.0.0.53\n', 'nameserver 9.9.9.9\n'])).toEqual(['9.9.9.9']);
    expect(upstreamResolvers(['nameserver 127.0.0.53\n', undefined])).toEqual(DOCKER_DEFAULT_RESOLVERS);
  });
  it('needs at least one, and refuses anything but an address', () => {
    expect(() => renderResolverConf({ privateDomains: [], servers: [] })).toThrow(/at least one upstream/);
    expect(() => renderResolverConf({ privateDomains: [], servers: ['dns.example'] })).toThrow(/invalid upstream resolver/);
  });
});

describe('floorPrefixes: the floor as NetworkPolicy excepts (the Kubernetes proxy)', () => {
  it('covers every refused prefix of its family once, leaving out those inside another', () => {
    expect(floorPrefixes(4, { withPrivate: true })).toEqual([
      '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '168.63.129.16/32', '169.254.0.0/16',
      '172.16.0.0/12', '192.168.0.0/16', '224.0.0.0/4', '240.0.0.0/4',
    ]);
    // ::/127 (unspecified, loopback) is inside ::/96, fd00:ec2::254 inside fc00::/7.
    expect(floorPrefixes(6, { withPrivate: true })).toEqual(['::/96', '::ffff:0:0/96', '64:ff9b::/96', '64:ff9b:1::/48', '2002::/16', 'fc00::/7', 'fe80::/10', 'ff00::/8']);
    expect(floorPrefixes(4, { withPrivate: false })).not.toContain('10.0.0.0/8');
  });
});
