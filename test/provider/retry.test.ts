import { describe, expect, it } from "vitest";
import { withRetries, type RetryInfo } from "../../src/provider/retry.js";
import { AbortError, AuthError, RateLimitError, ServerBusyError } from "../../src/errors.js";

function failing(errors: Error[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    call: async () => {
      const error = errors[calls++];
      if (error) throw error;
      return "ok";
    },
  };
}

describe("withRetries", () => {
  it("retries busy and rate-limited answers, honouring Retry-After", async () => {
    const fn = failing([new ServerBusyError("busy", { retryAfterMs: 30 }), new RateLimitError("slow down", { retryAfterMs: 20 })]);
    const retries: RetryInfo[] = [];
    await expect(withRetries(fn.call, { maxRetries: 2, onRetry: (info) => retries.push(info) })).resolves.toBe("ok");
    expect(fn.calls).toBe(3);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
    // Jitter adds at most a quarter, never less than the server asked for.
    expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(30);
    expect(retries[0]!.delayMs).toBeLessThanOrEqual(38);
    expect(retries[1]!.delayMs).toBeGreaterThanOrEqual(20);
  });

  it("gives up after maxRetries and throws the last error", async () => {
    const fn = failing([1, 2, 3].map(() => new ServerBusyError("busy", { retryAfterMs: 1 })));
    await expect(withRetries(fn.call, { maxRetries: 2 })).rejects.toBeInstanceOf(ServerBusyError);
    expect(fn.calls).toBe(3);
  });

  it("does not retry other errors, nor when maxRetries is 0", async () => {
    const auth = failing([new AuthError("no")]);
    await expect(withRetries(auth.call, { maxRetries: 2 })).rejects.toBeInstanceOf(AuthError);
    expect(auth.calls).toBe(1);
    const busy = failing([new ServerBusyError("busy", { retryAfterMs: 1 })]);
    await expect(withRetries(busy.call, { maxRetries: 0 })).rejects.toBeInstanceOf(ServerBusyError);
    expect(busy.calls).toBe(1);
  });

  it("does not wait for a Retry-After longer than a minute", async () => {
    const fn = failing([new RateLimitError("later", { retryAfterMs: 600_000 })]);
    await expect(withRetries(fn.call, { maxRetries: 2 })).rejects.toBeInstanceOf(RateLimitError);
    expect(fn.calls).toBe(1);
  });

  it("stops waiting when the signal fires", async () => {
    const controller = new AbortController();
    const fn = failing([new ServerBusyError("busy", { retryAfterMs: 10_000 })]);
    const started = Date.now();
    const pending = withRetries(fn.call, { maxRetries: 2, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
