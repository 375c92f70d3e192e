/**
 * Holds a session's termination handlers for its whole lifetime. The first SIGINT/SIGTERM/SIGHUP
 * aborts whatever is in flight (build, compose up, the agent's command) so `run` falls through to
 * teardown; later signals only say that teardown is under way, they never cut it short.
 */
import { TERMINATION_SIGNALS, type SignalSource, type TerminationSignal } from './signals.js';

export class SessionGuard {
  private readonly controller = new AbortController();
  private readonly removers: Array<() => void> = [];
  private received?: TerminationSignal;

  constructor(signals: SignalSource, private readonly onRepeat: (signal: TerminationSignal) => void) {
    for (const signal of TERMINATION_SIGNALS) {
      this.removers.push(signals.on(signal, () => this.handle(signal)));
    }
  }

  private handle(signal: TerminationSignal): void {
    if (this.received) {
      this.onRepeat(signal);
      return;
    }
    this.received = signal;
    this.controller.abort();
  }

  /** Pass to every long-running call of the session (never to teardown's calls). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The first termination signal received, if any. */
  get interruptedBy(): TerminationSignal | undefined {
    return this.received;
  }

  /** Remove the handlers: only once teardown has finished. */
  release(): void {
    for (const remove of this.removers.splice(0)) remove();
  }
}

/** Thrown inside `run` to leave the start-up steps once a signal arrived. */
export class Interrupted extends Error {
  constructor(readonly signal: TerminationSignal) {
    super(`interrupted by ${signal}`);
  }
}
