import { describe, expect, it } from 'vitest';
import { ExternalError } from '../../lib/errors.js';
import { pickSessionId } from '../../lib/session/pick-id.js';
import { tempDir } from '../helpers/temp-dir.js';

const sequence = (...values: string[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

describe('pickSessionId', () => {
  it('retries with a new id while drydock-<id> or drydock-<id>-egress exists', async () => {
    const asked: string[][] = [];
    const releasedIds: string[] = [];
    const id = await pickSessionId({
      project: 'app',
      random: sequence('aaaa', 'bbbb', 'cccc'),
      reserveSessionDir: () => true,
      releaseSessionDir: (released) => void releasedIds.push(released),
      existingContainers: async (names) => {
        asked.push(names);
        if (names[0] === 'drydock-app-aaaa') return ['drydock-app-aaaa'];
        if (names[0] === 'drydock-app-bbbb') return ['drydock-app-bbbb-egress'];
        return [];
      },
    });
    expect(id).toBe('app-cccc');
    expect(releasedIds).toEqual(['app-aaaa', 'app-bbbb']); // directories reserved for taken ids are given back
    expect(asked).toEqual([
      ['drydock-app-aaaa', 'drydock-app-aaaa-egress'],
      ['drydock-app-bbbb', 'drydock-app-bbbb-egress'],
      ['drydock-app-cccc', 'drydock-app-cccc-egress'],
    ]);
  });

  it('does not reuse the id of a session whose directory is on disk or was just reserved by another run', async () => {
    const id = await pickSessionId({
      project: 'app',
      random: sequence('aaaa', 'bbbb'),
      reserveSessionDir: (candidate) => candidate !== 'app-aaaa',
      releaseSessionDir: () => {
        throw new Error('nothing to release');
      },
      existingContainers: async () => [],
    });
    expect(id).toBe('app-bbbb');
  });

  it('two concurrent pickers that draw the same id get different sessions (exclusive mkdir)', async () => {
    const { mkdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const root = tempDir('pick');
    const reserve = (id: string) => {
      try {
        mkdirSync(join(root, id));
        return true;
      } catch {
        return false;
      }
    };
    const pick = (random: () => string) =>
      pickSessionId({ project: 'app', random, reserveSessionDir: reserve, releaseSessionDir: () => {}, existingContainers: async () => [] });
    const [a, b] = await Promise.all([pick(sequence('aaaa', 'bbbb')), pick(sequence('aaaa', 'cccc'))]);
    expect(new Set([a, b]).size).toBe(2);
  });

  it('gives up after a bounded number of tries with exit 3 and a hint', async () => {
    let calls = 0;
    const error = await pickSessionId({
      project: 'app',
      maxAttempts: 4,
      random: sequence('aaaa', 'bbbb', 'cccc', 'dddd'),
      reserveSessionDir: () => true,
      releaseSessionDir: () => {},
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
