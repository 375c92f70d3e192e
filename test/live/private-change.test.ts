import { describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../lib/allowlist/parse.js';
import { privateChange, reachesDomain } from '../../lib/live/private-change.js';

const entries = (text: string) => parseAllowlist(text, 'x').entries;
const canonicals = (text: string) => entries(text).map((e) => e.canonical);

describe('privateChange: what a live change does to the address floor\'s opt-ins', () => {
  it('an added private: entry is deferred to the next session', () => {
    expect(privateChange(canonicals('a.test\n'), entries('a.test\nprivate:reg.corp.example\n'))).toEqual({ deferred: ['reg.corp.example'], kept: [] });
  });

  it('a removed private: entry that nothing else reaches needs nothing (the filter refuses the name)', () => {
    expect(privateChange(canonicals('a.test\nprivate:reg.corp.example\n'), entries('a.test\n'))).toEqual({ deferred: [], kept: [] });
  });

  it('a removed private: entry whose name another entry still allows would be kept by the resolver', () => {
    expect(privateChange(canonicals('reg.corp.example\nprivate:reg.corp.example\n'), entries('reg.corp.example\n')).kept).toEqual(['reg.corp.example']);
    expect(privateChange(canonicals('private:*.corp.example\n'), entries('api.corp.example\n')).kept).toEqual(['corp.example']);
    expect(privateChange(canonicals('private:reg.corp.example\n'), entries('*.corp.example\n')).kept).toEqual(['reg.corp.example']);
  });

  it('a private: entry turned into a plain one keeps nothing when both are gone, and is kept when the plain one stays', () => {
    expect(privateChange(canonicals('private:reg.corp.example\n'), entries('reg.corp.example:8443\n')).kept).toEqual(['reg.corp.example']);
    expect(privateChange(canonicals('private:reg.corp.example\n'), entries('other.corp.example\n')).kept).toEqual([]);
  });

  it('reachesDomain: a rule reaches the domain when it names it, a name under it, or a parent wildcard', () => {
    const rule = (host: string, wildcard = false) => ({ protocol: 'connect' as const, host, wildcard, port: 443 });
    expect(reachesDomain(rule('reg.corp.example'), 'reg.corp.example')).toBe(true);
    expect(reachesDomain(rule('a.reg.corp.example'), 'reg.corp.example')).toBe(true);
    expect(reachesDomain(rule('corp.example', true), 'reg.corp.example')).toBe(true);
    expect(reachesDomain(rule('corp.example'), 'reg.corp.example')).toBe(false);
    expect(reachesDomain(rule('xreg.corp.example'), 'reg.corp.example')).toBe(false);
    expect(reachesDomain(rule('example', true), 'reg.corp.example')).toBe(true);
  });
});
