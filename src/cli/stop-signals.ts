/** The signals that stop a reply: Ctrl-C, `kill`, and a closed terminal. Each one lets the provider delete the chat before the process ends. */
export type StopSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

const STOP_SIGNALS: readonly StopSignal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Calls `onStop` for each stop signal until the returned function is called. */
export function onStopSignals(onStop: (signal: StopSignal) => void): () => void {
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = () => onStop(signal);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
