import { AbortError } from "../errors.js";
import { GatewayError } from "./openai-errors.js";

/** Sent with 503 when the queue is full: about the time a short reply takes. */
const QUEUE_FULL_RETRY_AFTER_SECONDS = 5;

/** Call once when the work is done: the next queued request starts. */
export type Release = () => void;

/** A queued request: called with its release when a slot frees up. */
type Waiter = (release: Release) => void;

/**
 * At most `maxConcurrent` replies in flight, up to `maxQueue` more waiting in
 * arrival order; beyond that a 503 with `Retry-After`. The upstream server has a
 * per-user rate limit and queue of its own: this keeps one gateway from flooding it.
 */
export class ConcurrencyLimiter {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  #active = 0;
  readonly #queue: Waiter[] = [];
  #idle: Array<() => void> = [];

  constructor(maxConcurrent: number, maxQueue: number) {
    this.maxConcurrent = maxConcurrent;
    this.maxQueue = maxQueue;
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Resolves once no request holds a slot (queued ones are the caller's to abort). */
  idle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Wait for a slot. A request whose `signal` fires while queued leaves the queue with an AbortError. */
  acquire(signal: AbortSignal): Promise<Release> {
    if (signal.aborted) return Promise.reject(new AbortError("The request was aborted before it started", { cause: signal.reason }));
    if (this.#active < this.maxConcurrent) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    if (this.#queue.length >= this.maxQueue) {
      return Promise.reject(
        new GatewayError(503, `The gateway is at its limit (${this.maxConcurrent} replies in flight, ${this.maxQueue} waiting): try again shortly.`, {
          code: "gateway_overloaded",
          retryAfterSeconds: QUEUE_FULL_RETRY_AFTER_SECONDS,
        }),
      );
    }
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const at = this.#queue.indexOf(waiter);
        if (at >= 0) this.#queue.splice(at, 1);
        reject(new AbortError("The request was aborted while queued", { cause: signal.reason }));
      };
      const waiter: Waiter = (release) => {
        signal.removeEventListener("abort", onAbort);
        resolve(release);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      // The slot passes straight to the next waiter: `active` stays the same.
      if (next) {
        next(this.#releaser());
        return;
      }
      this.#active--;
      if (this.#active === 0) for (const resolve of this.#idle.splice(0)) resolve();
    };
  }
}
