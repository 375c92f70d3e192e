import { describe, expect, it } from 'vitest';
import { SessionGuard } from '../../lib/session/guard.js';
import { FakeSignals } from './fixtures.js';

describe('SessionGuard', () => {
  it('aborts on the first signal, only reports later ones, and removes its handlers on release', () => {
    const signals = new FakeSignals();
    const repeats: string[] = [];
    const guard = new SessionGuard(signals, (s) => repeats.push(s));
    expect(signals.listenerCount()).toBe(3);
    signals.emit('SIGTERM');
    expect(guard.signal.aborted).toBe(true);
    expect(guard.interruptedBy).toBe('SIGTERM');
    signals.emit('SIGINT');
    expect(guard.interruptedBy).toBe('SIGTERM');
    expect(repeats).toEqual(['SIGINT']);
    guard.release();
    expect(signals.listenerCount()).toBe(0);
  });
});
