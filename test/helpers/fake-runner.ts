import type { CommandRunner, RunOptions, RunResult } from '../../lib/docker/runner.js';

export interface Expectation {
  /** The exact argv expected, or a predicate over it. */
  argv: readonly string[] | ((argv: readonly string[]) => boolean);
  /**
   * What the call returns (defaults: code 0, empty output), or an error to throw. A function may
   * stream through the options' line callbacks and resolve later (a long `logs` read).
   */
  result?: Partial<RunResult> | ((argv: readonly string[], options?: RunOptions) => Partial<RunResult> | Promise<Partial<RunResult>>);
  throws?: Error;
  /** How many times this expectation may be used; Infinity for "any number of times". Default 1. */
  times?: number;
}

export class UnexpectedCall extends Error {}

/** Every FakeRunner made during the current test; test/helpers/setup.ts verifies them after each. */
const live = new Set<FakeRunner>();

/**
 * A fake docker CLI for unit tests. It answers only the calls it was told to expect and throws on
 * anything else, so a code path can never fall through to a real binary or pass by accident; and
 * after each test (test/helpers/setup.ts) every expectation with a finite count must have been
 * used, so a call the code stopped making cannot go unnoticed either.
 */
export class FakeRunner implements CommandRunner {
  readonly calls: string[][] = [];
  private readonly expectations: Array<Expectation & { used: number }> = [];

  constructor() {
    live.add(this);
  }

  expect(expectation: Expectation): this {
    this.expectations.push({ ...expectation, used: 0 });
    return this;
  }

  async run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    this.calls.push([...argv]);
    const match = this.expectations.find((e) => e.used < (e.times ?? 1) && matches(e.argv, argv));
    if (!match) {
      throw new UnexpectedCall(`unexpected command: ${JSON.stringify(argv)}\nexpected one of:\n${this.describePending()}`);
    }
    match.used += 1;
    if (match.throws) throw match.throws;
    const partial = typeof match.result === 'function' ? await match.result(argv, options) : (match.result ?? {});
    // Like the real runner: a stream handed to a line callback is not also returned.
    const result = { code: 0, stdout: '', stderr: '', ...partial };
    if (options?.onStdoutLine) {
      for (const line of result.stdout.split('\n')) if (line) options.onStdoutLine(line);
      result.stdout = '';
    }
    if (options?.onStderrLine) {
      for (const line of result.stderr.split('\n')) if (line) options.onStderrLine(line);
      result.stderr = '';
    }
    return result;
  }

  /** Expectations that were declared with a finite count and not used up. */
  unmet(): string[] {
    return this.expectations
      .filter((e) => Number.isFinite(e.times ?? 1) && e.used < (e.times ?? 1))
      .map((e) => describe(e.argv));
  }

  private describePending(): string {
    const pending = this.expectations.filter((e) => e.used < (e.times ?? 1));
    return pending.length ? pending.map((e) => `  ${describe(e.argv)}`).join('\n') : '  (none)';
  }
}

/**
 * Called after every unit test: throws, listing them, if any FakeRunner of that test still has
 * expected calls that never happened. Forgets the test's runners either way.
 */
export function verifyFakeRunners(): void {
  const problems = [...live].flatMap((runner, i) => runner.unmet().map((argv) => `  runner ${i + 1}: ${argv}`));
  live.clear();
  if (problems.length > 0) throw new Error(`expected docker call(s) that never happened:\n${problems.join('\n')}`);
}

function matches(expected: Expectation['argv'], argv: readonly string[]): boolean {
  if (typeof expected === 'function') return expected(argv);
  return expected.length === argv.length && expected.every((a, i) => a === argv[i]);
}

function describe(argv: Expectation['argv']): string {
  return typeof argv === 'function' ? '<predicate>' : JSON.stringify(argv);
}
