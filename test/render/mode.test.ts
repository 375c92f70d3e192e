import { describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../../lib/errors.js';
import { resolveMode } from '../../lib/render/mode.js';

describe('resolveMode', () => {
  it('prefers the flag, then DRYDOCK_MODE, then contain', () => {
    expect(resolveMode('dood', { DRYDOCK_MODE: 'contain' })).toBe('dood');
    expect(resolveMode(undefined, { DRYDOCK_MODE: 'dood' })).toBe('dood');
    expect(resolveMode(undefined, {})).toBe('contain');
    expect(resolveMode(undefined, { DRYDOCK_MODE: '' })).toBe('contain');
  });

  it.each(['contain,dood', 'both', 'dood+contain', 'contain dood', 'all'])('refuses "%s" as more than one mode', (raw) => {
    const error = (() => {
      try {
        resolveMode(raw, {});
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.Usage);
    expect((error as UsageError).message).toMatch(/more than one mode/);
  });

  it('refuses an unknown mode from either source, naming the source', () => {
    expect(() => resolveMode('jail', {})).toThrow(/--mode: unknown mode "jail"/);
    expect(() => resolveMode(undefined, { DRYDOCK_MODE: 'Contain' })).toThrow(/DRYDOCK_MODE: unknown mode "Contain"/);
    expect(() => resolveMode('', {})).toThrow(UsageError);
  });
});
