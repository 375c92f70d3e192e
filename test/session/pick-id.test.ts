import { describe, expect, it } from 'vitest';
import { ExternalError } from '../../lib/errors.js';
import { pickSessionId } from '../../lib/session/pick-id.js';

const sequence = (...values: string[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe('pickSessionId', () => {
  it('retries with a new id while drydock-<id> or drydock-<id>-egress exists', async () => {
    const asked: string[][] = [];
    const id = await pickSessionId({
      project: 'app',
      random: sequence('aaaa', 'bbbb', 'cccc'),
      sessionDirExists: () => false,
      existingContainers: async (names) => {
        asked.push(names);
        if (names[0] === 'drydock-app-aaaa') return ['drydock-app-aaaa'];
        if (names[0] === 'drydock-app-bbbb') return ['drydock-app-bbbb-egress'];
        return [];
      },
    });
    expect(id).toBe('app-cccc');
    expect(asked).toEqual([
      ['drydock-app-aaaa', 'drydock-app-aaaa-egress'],
      ['drydock-app-bbbb', 'drydock-app-bbbb-egress'],
      ['drydock-app-cccc', 'drydock-app-cccc-egress'],
    ]);
  });

  it('does not reuse the id of a session whose directory is still on disk', async () => {
    const id = await pickSessionId({
      project: 'app',
      random: sequence('aaaa', 'bbbb'),
      sessionDirExists: (candidate) => candidate === 'app-aaaa',
      existingContainers: async () => [],
    });
    expect(id).toBe('app-bbbb');
  });

  it('gives up after a bounded number of tries with exit 3 and a hint', async () => {
    let calls = 0;
    const error = await pickSessionId({
      project: 'app',
      maxAttempts: 4,
      random: sequence('aaaa', 'bbbb', 'cccc', 'dddd'),
      sessionDirExists: () => false,
      existingContainers: async (names) => {
        calls++;
        return [names[0]!];
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalError);
    expect((error as ExternalError).hint).toMatch(/drydock gc/);
    expect(calls).toBe(4);
  });
});
