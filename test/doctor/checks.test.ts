import { describe, expect, it } from 'vitest';
import { internalDnsCheck } from '../../lib/doctor/checks.js';

describe('internalDnsCheck (CVE-2024-29018: DNS forwarded out of internal networks)', () => {
  it.each([
    ['20.10.24+dfsg1', 'warn'],
    ['23.0.10', 'warn'],
    ['23.0.11', 'pass'],
    ['24.0.9', 'warn'],
    ['25.0.3', 'warn'],
    ['25.0.4', 'pass'],
    ['26.0.0', 'pass'],
    ['28.2.2', 'pass'],
    ['garbage', 'warn'],
  ])('engine %s → %s', (version, status) => {
    const check = internalDnsCheck(version);
    expect(check.status).toBe(status);
    if (status === 'warn') expect(check.fix).toMatch(/26\.0\.0/);
  });
});
