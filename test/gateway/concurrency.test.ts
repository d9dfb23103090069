import { describe, expect, test } from "vitest";
import { AbortError } from "../../src/errors.js";
import { ConcurrencyLimiter } from "../../src/gateway/concurrency-limiter.js";
import { GatewayError } from "../../src/gateway/openai-errors.js";
import { MODEL, eventually, post, setup } from "./gateway-harness.js";

const never = new AbortController().signal;

describe("ConcurrencyLimiter", () => {
  test("runs up to the limit, queues the rest in arrival order, refuses beyond the queue", async () => {
    const limiter = new ConcurrencyLimiter(2, 2);
    const a = await limiter.acquire(never);
    const b = await limiter.acquire(never);
    const started: string[] = [];
    const c = limiter.acquire(never).then((release) => (started.push("c"), release));
    const d = limiter.acquire(never).then((release) => (started.push("d"), release));
    const refused = await limiter.acquire(never).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(GatewayError);
    expect(refused).toMatchObject({ status: 503, code: "gateway_overloaded", retryAfterSeconds: 5 });
    expect([limiter.active, limiter.queued]).toEqual([2, 2]);
    a();
    a(); // a second call frees nothing more
    await c;
    expect(started).toEqual(["c"]);
    b();
    (await d)();
    (await c)();
    expect([limiter.active, limiter.queued]).toEqual([0, 0]);
  });

  test("a request aborted while queued leaves the queue with an AbortError", async () => {
    const limiter = new ConcurrencyLimiter(1, 1);
    const release = await limiter.acquire(never);
    const controller = new AbortController();
    const queued = limiter.acquire(controller.signal);
    controller.abort();
    await expect(queued).rejects.toBeInstanceOf(AbortError);
    expect(limiter.queued).toBe(0);
    release();
    expect(limiter.active).toBe(0);
  });
});

describe("--max-concurrent and --max-queue", () => {
  test("one reply at a time upstream; a full queue answers 503 with Retry-After", async () => {
    const { gateway, emulator } = await setup({ tokenDelayMs: 15, replyTokens: 20 }, { maxConcurrent: 1, maxQueue: 1 });
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, emulator.liveChats())), 2);
    const ask = (content: string) => post(gateway, "/v1/chat/completions", { model: MODEL, messages: [{ role: "user", content }] });
    const first = ask("first");
    await eventually(() => emulator.liveChats() === 1, "the first reply started");
    const second = ask("second");
    await new Promise((resolve) => setTimeout(resolve, 30));
    const third = await ask("third");
    expect(third.status).toBe(503);
    expect(third.headers.get("retry-after")).toBe("5");
    expect(await third.json()).toMatchObject({ error: { type: "server_error", code: "gateway_overloaded" } });
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    clearInterval(watch);
    expect(most).toBe(1);
  });
});
