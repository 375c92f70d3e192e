import { describe, expect, it } from 'vitest';
import { FakeRunner, UnexpectedCall } from './fake-runner.js';

describe('FakeRunner', () => {
  it('answers an expected call once and records it', async () => {
    const fake = new FakeRunner().expect({ argv: ['docker', 'ps'], result: { stdout: 'x' } });
    await expect(fake.run(['docker', 'ps'])).resolves.toMatchObject({ code: 0, stdout: 'x' });
    expect(fake.calls).toEqual([['docker', 'ps']]);
    expect(fake.unmet()).toEqual([]);
  });

  it('throws on a call it was not told to expect, and on a second use of a one-shot expectation', async () => {
    const fake = new FakeRunner().expect({ argv: ['docker', 'ps'] });
    await expect(fake.run(['docker', 'rm', '-f', 'x'])).rejects.toBeInstanceOf(UnexpectedCall);
    await fake.run(['docker', 'ps']);
    await expect(fake.run(['docker', 'ps'])).rejects.toBeInstanceOf(UnexpectedCall);
  });

  it('reports expectations that were never used', () => {
    const fake = new FakeRunner().expect({ argv: ['docker', 'info'] });
    expect(fake.unmet()).toEqual(['["docker","info"]']);
  });
});
