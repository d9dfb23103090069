/**
 * Request deadlines. Every request has one, and a chat's requests run one after
 * another: a Node timer per request made Node create and drop its timer list, and
 * switch the loop's reference count, for each of them (3–4% of a short chat's time).
 * Deadlines of one duration share a single timer instead; it does not hold the process
 * open (the request's own socket does) and fires at the earliest expiry among them.
 */
import type { AbortLike } from "./http1/connection.js";

/** The deadlines of one duration and the one timer that watches them. */
class DeadlineClock {
  readonly #ms: number;
  readonly #live = new Set<Deadline>();
  #timer: NodeJS.Timeout | undefined;
  /** In #fire: deadlines added meanwhile are seen by its loop, which sets the next timer. */
  #firing = false;

  constructor(ms: number) {
    this.#ms = ms;
  }

  add(deadline: Deadline): void {
    this.#live.add(deadline);
    // A timer already set fires no later than this one's expiry: all have the same duration.
    if (!this.#timer && !this.#firing) this.#arm(this.#ms);
  }

  delete(deadline: Deadline): void {
    this.#live.delete(deadline);
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#fire(), ms).unref();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#firing = true;
    const now = performance.now();
    let next = Infinity;
    try {
      for (const deadline of this.#live) {
        if (deadline.expiresAt <= now) {
          this.#live.delete(deadline);
          deadline.expire();
        } else {
          next = Math.min(next, deadline.expiresAt);
        }
      }
    } finally {
      this.#firing = false;
    }
    if (next !== Infinity) this.#arm(Math.max(1, Math.ceil(next - now)));
  }
}

const clocks = new Map<number, DeadlineClock>();

function clockFor(ms: number): DeadlineClock {
  let clock = clocks.get(ms);
  if (!clock) {
    clock = new DeadlineClock(ms);
    clocks.set(ms, clock);
  }
  return clock;
}

/**
 * A request's timer and its abort: fires when the caller's signal fires or when `ms`
 * pass without `refresh()`, and remembers which of the two it was. The package's own
 * connections listen to it directly; an AbortSignal is made only for fetch and undici.
 */
export class Deadline implements AbortLike {
  readonly ms: number;
  /** performance.now() past which it fires. */
  expiresAt = Infinity;
  #clock: DeadlineClock | undefined;
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
        this.expiresAt = performance.now() + ms;
        this.#clock = clockFor(ms);
        this.#clock.add(this);
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
    if (this.#clock) this.expiresAt = performance.now() + this.ms;
  }

  dispose(): void {
    this.#clock?.delete(this);
    this.#clock = undefined;
    this.#user?.removeEventListener("abort", this.#onUserAbort);
  }

  /** Called by the clock once `ms` passed since the start or the last refresh(). */
  expire(): void {
    this.#clock = undefined;
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
