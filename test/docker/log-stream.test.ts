import { describe, expect, it } from 'vitest';
import { StreamMerger, streamContainerLogs } from '../../lib/docker/log-stream.js';
import { LineSplitter } from '../../lib/docker/runner.js';
import type { CommandRunner, RunOptions } from '../../lib/docker/runner.js';
import { ExternalError } from '../../lib/errors.js';
import { FakeRunner } from '../helpers/fake-runner.js';

const stamp = (s: number) => `2024-05-01T10:00:${String(s).padStart(2, '0')}.000000000Z`;

describe('StreamMerger', () => {
  it('interleaves the two streams by time, stdout first on a tie, passing the stamp along', () => {
    const out: Array<[string, string | undefined]> = [];
    const m = new StreamMerger((text, time) => out.push([text, time]));
    m.push(0, `${stamp(1)} a`);
    m.push(0, `${stamp(3)} c`);
    m.push(1, `${stamp(2)} b`);
    m.push(1, `${stamp(3)} c2`);
    m.end(0);
    m.end(1);
    expect(out).toEqual([['a', stamp(1)], ['b', stamp(2)], ['c', stamp(3)], ['c2', stamp(3)]]);
  });

  it('holds at most its window while the other stream is silent, so a one-sided flood stays bounded', () => {
    let emitted = 0;
    const m = new StreamMerger(() => (emitted += 1), 100);
    for (let i = 0; i < 100_000; i += 1) m.push(0, `${stamp(1)} line ${i}`);
    expect(m.highWater).toBeLessThanOrEqual(101);
    expect(emitted).toBe(100_000 - 100);
    m.end(1);
    expect(emitted).toBe(100_000);
  });
});

describe('LineSplitter', () => {
  it('joins lines across chunks and cuts an endless line at its cap, dropping the rest of it', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l), 8);
    s.push('ab');
    s.push('c\nde');
    s.push('f\n0123456789abcdef');
    s.push('ghij\nlast');
    s.end();
    expect(lines).toEqual(['abc', 'def', '01234567', 'last']);
  });
});

describe('streamContainerLogs', () => {
  it('keeps docker\'s own complaints out of the log and reports a vanished container as gone', async () => {
    const fake = new FakeRunner().expect({ argv: ['docker', 'logs', '--timestamps', 'c'], result: { code: 1, stderr: 'Error response from daemon: No such container: c\n' } });
    const lines: string[] = [];
    expect(await streamContainerLogs(fake, 'c', { onLine: (l) => lines.push(l) })).toEqual({ outcome: 'gone', lines: 0 });
    expect(lines).toEqual([]);
  });

  it('any other failure is an ExternalError with docker\'s words', async () => {
    const fake = new FakeRunner().expect({ argv: ['docker', 'logs', '--timestamps', 'c'], result: { code: 1, stderr: 'Cannot connect to the Docker daemon at unix:///x.sock\n' } });
    await expect(streamContainerLogs(fake, 'c', { onLine: () => {} })).rejects.toThrow(ExternalError);
  });

  it('is time-boxed: a reader that never ends is stopped, and what it read is delivered', async () => {
    // A docker that prints a line and then hangs until it is killed (as an engine in trouble would).
    const hanging: CommandRunner = {
      run: (_argv, options?: RunOptions) =>
        new Promise((resolve) => {
          options?.onStdoutLine?.(`${stamp(1)} first`);
          options?.signal?.addEventListener('abort', () => resolve({ code: 130, stdout: '', stderr: '', signal: 'SIGTERM' }));
        }),
    };
    const lines: string[] = [];
    const result = await streamContainerLogs(hanging, 'c', { onLine: (l) => lines.push(l), timeoutMs: 20 });
    expect(result).toEqual({ outcome: 'timed_out', lines: 1 });
    expect(lines).toEqual(['first']);
    const stop = new AbortController();
    const pending = streamContainerLogs(hanging, 'c', { onLine: () => {}, signal: stop.signal });
    stop.abort();
    expect((await pending).outcome).toBe('aborted');
  });
});
