/**
 * Timestamps as the Python servers write them: naive UTC with microseconds. JS dates
 * carry milliseconds only, so microseconds come from the high-resolution clock.
 */

/** Microseconds since the Unix epoch, strictly increasing so that creation order is total. */
export type EpochMicros = number;

let lastMicros = 0;

export function nowMicros(): EpochMicros {
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  lastMicros = Math.max(micros, lastMicros + 1);
  return lastMicros;
}

function formatNaiveUtc(micros: EpochMicros, separator: "T" | " "): string {
  const fraction = micros % 1_000_000;
  const seconds = new Date((micros - fraction) / 1000).toISOString().slice(0, 19);
  // Python omits `.ffffff` when the microseconds are 0.
  const suffix = fraction === 0 ? "" : `.${String(fraction).padStart(6, "0")}`;
  return `${separator === "T" ? seconds : seconds.replace("T", " ")}${suffix}`;
}

/** `datetime.isoformat()`: `2023-07-01T12:00:00.123456`. */
export function isoformat(micros: EpochMicros): string {
  return formatNaiveUtc(micros, "T");
}

/** `str(datetime)`, as in sse-starlette's ping comment: `2023-07-01 12:00:00.123456`. */
export function pythonStr(micros: EpochMicros): string {
  return formatNaiveUtc(micros, " ");
}
