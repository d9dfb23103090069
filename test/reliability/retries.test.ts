/**
 * Retries through the whole provider: ServerBusyError and RateLimitError are retried
 * with backoff and jitter, honouring Retry-After, up to `maxRetries` (default 2), and
 * only before any text reached the caller. A front in front of the emulator fails
 * chosen requests and records when each one arrived.
 */
import { afterAll, describe, expect, it, type OnTestFinishedHandler } from "vitest";
import {
  AbortError,
  OpenAssistant,
  RateLimitError,
  ServerBusyError,
  StreamError,
  type Messages,
  type OpenAssistantOptions,
  type RetryInfo,
} from "../../src/index.js";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/index.js";
import { prompterContent } from "../../src/provider/format-prompt.js";
import { BUSY, TOO_MANY, failFirst, startFlakyFront, type CannedAnswer, type FlakyFront } from "./helpers/flaky-front.js";
import { collectUnhandled, flushUnhandled } from "./helpers/leak-check.js";

const MODEL = "OA_SFT_Llama_30B_6";
const messages: Messages = [{ role: "user", content: "Retry me." }];
const ASSISTANT = "/api/chat/assistant_message";

const unhandled = collectUnhandled();
afterAll(async () => {
  await flushUnhandled();
  unhandled.dispose();
  expect(unhandled.rejections).toEqual([]);
});

/** The test context's onTestFinished: the tests run at once, each stops its own servers. */
type Cleanup = (stop: OnTestFinishedHandler) => void;

async function setup(
  cleanup: Cleanup,
  plan: Parameters<typeof startFlakyFront>[1],
  emulatorOptions: EmulatorOptions = {},
): Promise<{ server: Emulator; front: FlakyFront }> {
  const server = await startEmulator({ quiet: true, ...emulatorOptions });
  cleanup(() => server.stop());
  const front = await startFlakyFront(server.url, plan);
  cleanup(() => front.close());
  return { server, front };
}

function options(front: FlakyFront, server: Emulator, extra: OpenAssistantOptions = {}): OpenAssistantOptions {
  return { baseUrl: front.url, cookies: server.cookies, env: {}, ...extra };
}

const withRetryAfter = (answer: CannedAnswer, value: string): CannedAnswer => ({ ...answer, headers: { "retry-after": value } });

function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

// The tests run at once, each with its own server and front: the pauses they wait for overlap.
describe.concurrent("retries of busy and rate-limited answers", () => {
  it("default limit 2: three attempts, then the ServerBusyError; pauses double from 1 s with up to a quarter of jitter", async ({ onTestFinished }) => {
    const { server, front } = await setup(onTestFinished, failFirst(ASSISTANT, 10, BUSY));
    const retries: RetryInfo[] = [];
    const error = await OpenAssistant.createAsync(MODEL, messages, options(front, server, { onRetry: (r) => retries.push(r) })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerBusyError);
    expect(front.times(ASSISTANT)).toHaveLength(3);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
    expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(1000);
    expect(retries[0]!.delayMs).toBeLessThanOrEqual(1250);
    expect(retries[1]!.delayMs).toBeGreaterThanOrEqual(2000);
    expect(retries[1]!.delayMs).toBeLessThanOrEqual(2500);
    // The server saw the pauses the provider announced.
    const [first, second] = gaps(front.times(ASSISTANT));
    expect(first).toBeGreaterThanOrEqual(retries[0]!.delayMs - 5);
    expect(second).toBeGreaterThanOrEqual(retries[1]!.delayMs - 5);
    expect(server.liveChats()).toBe(0);
  });

  it("honours Retry-After in seconds, and the reply after the retry is the whole reply", async ({ onTestFinished }) => {
    const { server, front } = await setup(onTestFinished, failFirst(ASSISTANT, 1, withRetryAfter(TOO_MANY, "0.3")));
    const retries: RetryInfo[] = [];
    const text = await OpenAssistant.createAsync(MODEL, messages, options(front, server, { onRetry: (r) => retries.push(r) }));
    expect(text).toBe(server.expectedReply(prompterContent(messages)));
    expect(retries).toHaveLength(1);
    expect(retries[0]!.error).toBeInstanceOf(RateLimitError);
    expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(300);
    expect(retries[0]!.delayMs).toBeLessThanOrEqual(375);
    expect(gaps(front.times(ASSISTANT))[0]).toBeGreaterThanOrEqual(295);
    expect(server.liveChats()).toBe(0);
  });

  it("honours Retry-After as an HTTP date", async ({ onTestFinished }) => {
    const { server, front } = await setup(onTestFinished, (_req, path) =>
      path === ASSISTANT && front.times(ASSISTANT).length === 0 ? withRetryAfter(BUSY, new Date(Date.now() + 2_000).toUTCString()) : undefined,
    );
    const retries: RetryInfo[] = [];
    await OpenAssistant.createAsync(MODEL, messages, options(front, server, { onRetry: (r) => retries.push(r) }));
    // An HTTP date has whole seconds: between 1 and 2 s from now, plus jitter.
    expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(900);
    expect(retries[0]!.delayMs).toBeLessThanOrEqual(2_600);
  });

  it("jitter spreads clients that failed together", async ({ onTestFinished }) => {
    const { server, front } = await setup(onTestFinished, (_req, path) => {
      // Every chat's first assistant_message is refused with the same Retry-After.
      if (path !== ASSISTANT) return undefined;
      const refusedSoFar = front.hits.filter((h) => h.path === ASSISTANT && h.canned).length;
      return refusedSoFar < 12 ? withRetryAfter(BUSY, "0.2") : undefined;
    });
    const delays: number[] = [];
    // Twelve clients: twelve accounts (replies of one account take turns, so they would not fail together).
    const accounts = Array.from({ length: 12 }, (_, i) => (i === 0 ? server.cookies : server.addSession().cookies));
    const texts = await Promise.all(
      accounts.map((cookies) => OpenAssistant.createAsync(MODEL, messages, { ...options(front, server, { onRetry: (r) => delays.push(r.delayMs) }), cookies })),
    );
    expect(new Set(texts)).toEqual(new Set([server.expectedReply(prompterContent(messages))]));
    expect(delays).toHaveLength(12);
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(200);
      expect(delay).toBeLessThanOrEqual(250);
    }
    expect(new Set(delays).size).toBeGreaterThan(3);
    expect(server.liveChats()).toBe(0);
  });

  it.for([0, 1, 3])("maxRetries %i: that many retries, then the error", async (maxRetries, { onTestFinished }) => {
    const { server, front } = await setup(onTestFinished, failFirst(ASSISTANT, 10, withRetryAfter(TOO_MANY, "0.02")));
    const error = await OpenAssistant.createAsync(MODEL, messages, options(front, server, { maxRetries })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(front.times(ASSISTANT)).toHaveLength(maxRetries + 1);
    expect(server.liveChats()).toBe(0);
  });

  it("retries the chat's creation and the prompter message too (nothing reached the caller yet), in one chat", async ({ onTestFinished }) => {
    const plan = (() => {
      const create = failFirst("/api/chat", 1, withRetryAfter(BUSY, "0.02"));
      const prompter = failFirst("/api/chat/prompter_message", 1, withRetryAfter(TOO_MANY, "0.02"));
      return (req: Parameters<typeof create>[0], path: string) => (req.method === "POST" ? (create(req, path) ?? prompter(req, path)) : undefined);
    })();
    const { server, front } = await setup(onTestFinished, plan);
    const text = await OpenAssistant.createAsync(MODEL, messages, options(front, server));
    expect(text).toBe(server.expectedReply(prompterContent(messages)));
    expect(front.hits.filter((h) => h.method === "POST" && h.path === "/api/chat")).toHaveLength(2);
    expect(server.liveChats()).toBe(0);
  });

  it.for(["error-event", "drop"] as const)("never retries once text reached the caller (%s after half the reply)", async (fault, { onTestFinished }) => {
    const { server, front } = await setup(onTestFinished, () => undefined, { faults: [fault], replyTokens: 10, tokenDelayMs: 2 });
    const retries: RetryInfo[] = [];
    let text = "";
    const error = await (async () => {
      for await (const piece of OpenAssistant.createAsyncGenerator(MODEL, messages, options(front, server, { onRetry: (r) => retries.push(r) }))) text += piece;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamError);
    expect(text.length).toBeGreaterThan(0);
    expect(retries).toEqual([]);
    expect(front.times(ASSISTANT)).toHaveLength(1);
    expect(front.times("/api/chat/events")).toHaveLength(1);
    expect(server.liveChats()).toBe(0);
  });

  it("a busy events request is not retried: the message was queued already, and a retry could repeat text", async ({ onTestFinished }) => {
    const { server, front } = await setup(onTestFinished, failFirst("/api/chat/events", 1, withRetryAfter(BUSY, "0.02")));
    const error = await OpenAssistant.createAsync(MODEL, messages, options(front, server)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerBusyError);
    expect(front.times("/api/chat/events")).toHaveLength(1);
    expect(server.liveChats()).toBe(0);
  });

  it("an abort during the pause ends at once with an AbortError, and the chat is deleted", async ({ onTestFinished }) => {
    const { server, front } = await setup(onTestFinished, failFirst(ASSISTANT, 10, withRetryAfter(BUSY, "30")));
    const controller = new AbortController();
    const started = performance.now();
    const pending = OpenAssistant.createAsync(
      MODEL,
      messages,
      options(front, server, { signal: controller.signal, onRetry: () => setTimeout(() => controller.abort(), 50) }),
    );
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(server.liveChats()).toBe(0);
  });

  it("a Retry-After over a minute is not waited for: the error comes at once", async ({ onTestFinished }) => {
    const { server, front } = await setup(onTestFinished, failFirst(ASSISTANT, 10, withRetryAfter(TOO_MANY, "3600")));
    const started = performance.now();
    const error = await OpenAssistant.createAsync(MODEL, messages, options(front, server)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfterMs).toBe(3_600_000);
    expect(front.times(ASSISTANT)).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
