/** The signals that stop a reply: Ctrl-C, `kill`, and a closed terminal. Each one lets the provider delete the chat before the process ends. */
export type StopSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

/** Where a run's stop signals come from: the process itself for `oasst`, an emitter of its own for a run inside a test. */
export interface SignalSource {
  on(signal: StopSignal, listener: () => void): unknown;
  once(signal: StopSignal, listener: () => void): unknown;
  off(signal: StopSignal, listener: () => void): unknown;
}

const STOP_SIGNALS: readonly StopSignal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Calls `onStop` for each stop signal until the returned function is called. */
export function onStopSignals(signals: SignalSource, onStop: (signal: StopSignal) => void): () => void {
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = () => onStop(signal);
    signals.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) signals.off(signal, handler);
  };
}
