/**
 * Request deadlines. The timer is unref'd: it never holds the process open (the
 * request's own socket does while it waits).
 */
/**
 * A request's timer and its abort: fires when the caller's signal fires or when `ms`
 * pass without `refresh()`, and remembers which of the two it was. Direct connections
 * listen to it directly; an AbortSignal is made only for fetch and undici.
 */
export class Deadline {
  readonly ms: number;
  #timer: NodeJS.Timeout | undefined;
  #aborted = false;
  #reason: unknown;
  #listeners: Array<() => void> = [];
  #controller: AbortController | undefined;
  #user: AbortSignal | undefined;
  #timedOut = false;
  readonly #onUserAbort = () => this.#abort(this.#user?.reason);

  constructor(ms: number, user?: AbortSignal) {
    this.ms = ms;
    this.#user = user;
    if (user?.aborted) {
      this.#abort(user.reason);
    } else {
      user?.addEventListener("abort", this.#onUserAbort, { once: true });
      if (Number.isFinite(ms) && ms > 0) {
        this.#timer = setTimeout(() => this.expire(), ms).unref();
      }
    }
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** The same abort as an AbortSignal, for fetch and undici. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get timedOut(): boolean {
    return this.#timedOut;
  }

  get userAborted(): boolean {
    return !this.#timedOut && this.#user?.aborted === true;
  }

  addEventListener(_type: "abort", listener: () => void): void {
    this.#listeners.push(listener);
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    const index = this.#listeners.indexOf(listener);
    if (index !== -1) this.#listeners.splice(index, 1);
  }

  /** Restart the silence timer (called on every chunk of a stream). */
  refresh(): void {
    if (!this.#timer) return;
    this.#timer.refresh();
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#user?.removeEventListener("abort", this.#onUserAbort);
  }

  /** Fires once `ms` passed since the start or the last refresh(). */
  expire(): void {
    this.#timer = undefined;
    this.#timedOut = true;
    this.#abort(new Error(`timeout after ${this.ms} ms`));
  }

  #abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    for (const listener of this.#listeners.splice(0)) listener();
  }
}
