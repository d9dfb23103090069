/**
 * Cuts streamed text before the first stop string in it. The upstream
 * server knows no stop strings, so this runs on our side; a stop string may span
 * two token events, hence the held-back tail.
 */
export class StopSequenceCutter {
  readonly #stops: readonly string[];
  #held = "";
  #stopped = false;

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((stop) => stop.length > 0);
  }

  /** True once a stop string was seen: later pieces are dropped. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /**
   * The text that can be shown now. A tail that may begin a stop string is held
   * back until the next piece (or `flush`) tells whether it does.
   */
  push(piece: string): string {
    if (this.#stopped) return "";
    if (this.#stops.length === 0) return piece;
    const text = this.#held + piece;
    // The stop string that is complete first, as the model would have stopped there
    // (the longest one when several end together): the same cut however the text was split.
    let cut = -1;
    let end = Number.POSITIVE_INFINITY;
    for (const stop of this.#stops) {
      const at = text.indexOf(stop);
      if (at < 0) continue;
      if (at + stop.length < end || (at + stop.length === end && at < cut)) {
        cut = at;
        end = at + stop.length;
      }
    }
    if (cut >= 0) {
      this.#stopped = true;
      this.#held = "";
      return text.slice(0, cut);
    }
    const keep = this.#partialStopLength(text);
    this.#held = text.slice(text.length - keep);
    return text.slice(0, text.length - keep);
  }

  /** The held-back tail, at the end of the reply: it did not become a stop string. */
  flush(): string {
    const rest = this.#held;
    this.#held = "";
    return rest;
  }

  /** Length of the longest end of `text` that is the beginning of a stop string. */
  #partialStopLength(text: string): number {
    let best = 0;
    for (const stop of this.#stops) {
      for (let length = Math.min(stop.length - 1, text.length); length > best; length--) {
        if (text.endsWith(stop.slice(0, length))) {
          best = length;
          break;
        }
      }
    }
    return best;
  }
}
