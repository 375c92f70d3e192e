import { describe, expect, it } from 'vitest';
import { FakeRunner, UnexpectedCall, verifyFakeRunners } from './fake-runner.js';

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
    expect(() => verifyFakeRunners()).toThrow(/expected docker call\(s\) that never happened:\n {2}runner 1: \["docker","info"\]/);
  });

  it('after each test, a runner whose expected calls all happened (or may happen any number of times) passes by itself', async () => {
    const fake = new FakeRunner().expect({ argv: ['docker', 'ps'] }).expect({ argv: ['docker', 'logs'], times: Infinity });
    await fake.run(['docker', 'ps']);
    expect(() => verifyFakeRunners()).not.toThrow();
  });
});
