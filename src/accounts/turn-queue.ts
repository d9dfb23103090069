/**
 * One account's replies, one at a time through the server's queue. A real Open-Assistant
 * server cancels a user's assistant messages that are still pending when that user posts
 * another, so a reply may post its assistant message only once the previous one has left
 * the queue (its first token, or its end). Replies already generating run side by side.
 * Waiters are served first come, first served.
 */
export class TurnQueue {
  #held = false;
  readonly #waiters: Waiter[] = [];

  /** A reply holds the turn: its assistant message is posted and has not left the queue yet. */
  get busy(): boolean {
    return this.#held;
  }

  /** Replies waiting for the turn. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Waits for the turn. Yields the number of replies ahead (the holder and earlier
   * waiters) whenever it changes, and returns the turn. Aborting `signal` rejects with its
   * reason; leaving the generator early gives up the place in the line.
   */
  async *wait(signal?: AbortSignal): AsyncGenerator<number, Turn, undefined> {
    const me: Waiter = { wake: () => undefined };
    this.#waiters.push(me);
    let shown = -1;
    try {
      for (;;) {
        signal?.throwIfAborted();
        const ahead = this.#waiters.indexOf(me) + (this.#held ? 1 : 0);
        if (ahead === 0) {
          this.#waiters.shift();
          this.#held = true;
          return new Turn(() => this.#release());
        }
        if (ahead !== shown) {
          shown = ahead;
          yield ahead;
          continue; // the line may have moved while the caller had the position
        }
        await new Promise<void>((resolve, reject) => {
          const onAbort = () => reject(signal?.reason);
          me.wake = () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          };
          signal?.addEventListener("abort", onAbort, { once: true });
        });
      }
    } finally {
      const index = this.#waiters.indexOf(me);
      if (index >= 0) {
        this.#waiters.splice(index, 1);
        this.#wakeAll();
      }
    }
  }

  #release(): void {
    this.#held = false;
    this.#wakeAll();
  }

  #wakeAll(): void {
    for (const waiter of this.#waiters) waiter.wake();
  }
}

interface Waiter {
  wake: () => void;
}

/** The right to post the next assistant message on an account; release it once that message has left the server's queue. */
export class Turn {
  #release: (() => void) | undefined;
  constructor(release: () => void) {
    this.#release = release;
  }

  get released(): boolean {
    return this.#release === undefined;
  }

  /** Idempotent. */
  release(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }
}
