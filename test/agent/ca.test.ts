import { describe, expect, it } from 'vitest';
import { loadExtraCa, pemCertificates } from '../../lib/agent/ca.js';

const CERT = (n: string) => `-----BEGIN CERTIFICATE-----\nMIIB${n}AAAA\n-----END CERTIFICATE-----`;

describe('the extra CA', () => {
  it('keeps certificates only (a pasted private key stays out)', () => {
    const text = `junk\n-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n${CERT('a')}\n${CERT('b')}\n`;
    expect(pemCertificates(text)).toEqual([CERT('a'), CERT('b')]);
  });

  it('bundles the host\'s system roots with it for the clients that replace their roots', () => {
    const files: Record<string, string> = { '/corp.pem': `${CERT('corp')}\n`, '/etc/ssl/certs/ca-certificates.crt': `${CERT('sys1')}\n${CERT('sys2')}\n` };
    const ca = loadExtraCa({ DRYDOCK_EXTRA_CA_CERTS: '/corp.pem' }, { read: (p) => files[p]!, exists: (p) => p in files })!;
    expect(ca.extraPem).toBe(`${CERT('corp')}\n`);
    expect(ca.bundlePem).toBe(`${CERT('sys1')}\n${CERT('sys2')}\n${CERT('corp')}\n`);
    expect(ca.systemBundle).toBe('/etc/ssl/certs/ca-certificates.crt');
  });

  it('refuses an unreadable file or one without a certificate, naming it', () => {
    expect(() => loadExtraCa({ DRYDOCK_EXTRA_CA_CERTS: '/nope.pem' }, { read: () => { throw Object.assign(new Error('x'), { code: 'ENOENT' }); } })).toThrow(/cannot read \/nope\.pem: ENOENT/);
    expect(() => loadExtraCa({ DRYDOCK_EXTRA_CA_CERTS: '/der.cer' }, { read: () => '\u0030\u0082', exists: () => false })).toThrow(/\/der\.cer holds no PEM certificate/);
    expect(loadExtraCa({})).toBeUndefined();
  });
});
