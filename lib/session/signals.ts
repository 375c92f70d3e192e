/**
 * Where termination signals come from. `run` listens for the whole session so that Ctrl-C, a kill
 * or a closed terminal still tear the session down; tests inject a fake and emit signals by hand.
 */
export type TerminationSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

export const TERMINATION_SIGNALS: readonly TerminationSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** 128 + the signal number: what a shell reports for a process ended by that signal. */
export const SIGNAL_EXIT_CODE: Record<TerminationSignal, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

export interface SignalSource {
  /** Install a handler; the returned function removes it. */
  on(signal: TerminationSignal, handler: () => void): () => void;
}

export const processSignals: SignalSource = {
  on(signal, handler) {
    process.on(signal, handler);
    return () => void process.off(signal, handler);
  },
};
