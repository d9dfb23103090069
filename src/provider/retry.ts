import { setTimeout as sleep } from "node:timers/promises";
import { AbortError, RateLimitError, ServerBusyError } from "../errors.js";

export const DEFAULT_MAX_RETRIES = 2;
/** A server that asks for a longer wait than this is not waited for: the error reaches the caller. */
const LONGEST_WAIT_MS = 60_000;

export interface RetryInfo {
  error: RateLimitError | ServerBusyError;
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
}

export interface RetryPolicy {
  maxRetries: number;
  signal?: AbortSignal | undefined;
  onRetry?: ((info: RetryInfo) => void) | undefined;
}

/**
 * Run `call`, and again after a pause when the server says "busy" or "too many
 * requests". Only used before any text reached the caller: a retry never repeats text.
 * The pause honours `Retry-After`, else doubles from 1 s; a random quarter more
 * spreads clients that failed together.
 */
export async function withRetries<T>(call: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof RateLimitError || error instanceof ServerBusyError) || attempt > policy.maxRetries) throw error;
      const base = error.retryAfterMs ?? 1000 * 2 ** (attempt - 1);
      if (base > LONGEST_WAIT_MS) throw error;
      const delayMs = Math.round(base * (1 + Math.random() * 0.25));
      policy.onRetry?.({ error, attempt, delayMs });
      try {
        await sleep(delayMs, undefined, { signal: policy.signal });
      } catch (cause) {
        throw new AbortError("Aborted while waiting to retry", { chatId: error.chatId, cause });
      }
    }
  }
}
