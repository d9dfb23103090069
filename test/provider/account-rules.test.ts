/**
 * What a real Open-Assistant server does to one account, and what the provider makes of
 * it: replies of one account take turns through the server's queue, a reply the server
 * cancelled ends promptly, the rate limit's bare 500 becomes a RateLimitError, and a new
 * user's first chat survives the server's race on creating the user.
 */
import { describe, expect, it, type OnTestFinishedHandler } from "vitest";
import { Accounts, OpenAssistant, RateLimitError, ReplyCancelledError, ServerError, type OpenAssistantOptions } from "../../src/index.js";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/index.js";
import { failFirst, startFlakyFront, type FlakyFront } from "../reliability/helpers/flaky-front.js";

const MODEL = "OA_SFT_Llama_30B_6";
const hello = (n: number) => [{ role: "user", content: `hello ${n}` }];
/** The test context's onTestFinished: the tests run at once (describe.concurrent), each stops its own servers. */
type Cleanup = (stop: OnTestFinishedHandler) => void;

async function emulator(cleanup: Cleanup, options: EmulatorOptions = {}): Promise<Emulator> {
  const server = await startEmulator({ quiet: true, ...options });
  cleanup(() => server.stop());
  return server;
}

function optionsFor(server: { url: string }, cookies: Record<string, string>, extra: OpenAssistantOptions = {}): OpenAssistantOptions {
  return { baseUrl: server.url, cookies, onWarning: () => undefined, ...extra };
}

describe.concurrent("one account, several replies at once", () => {
  it("all complete: each posts its assistant message once the previous one left the server's queue", async ({ onTestFinished }) => {
    const server = await emulator(onTestFinished, { tokenDelayMs: 5, replyTokens: 10 });
    const accounts = new Accounts();
    const replies = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((n) => OpenAssistant.createAsync(MODEL, hello(n), optionsFor(server, server.cookies, { accounts, timeout: 10_000 }))),
    );
    replies.forEach((reply, n) => expect(reply).toBe(server.expectedReply(`hello ${n}`, { maxNewTokens: 10 })));
    expect(server.liveChats()).toBe(0);
  });

  it("a reply the server cancelled (another client on the account) ends within seconds with a ReplyCancelledError", async ({ onTestFinished }) => {
    // Two processes on one account: separate Accounts, so nothing keeps their replies apart.
    const server = await emulator(onTestFinished, { workerSlots: 1, tokenDelayMs: 50, replyTokens: 30 } as EmulatorOptions);
    const started = Date.now();
    const warnings: string[] = [];
    const results = await Promise.allSettled(
      [0, 1, 2].map((n) =>
        OpenAssistant.createAsync(
          MODEL,
          hello(n),
          optionsFor(server, server.cookies, { accounts: new Accounts(), timeout: 10_000, onWarning: (warning) => warnings.push(warning.message) }),
        ).catch((error: unknown) => {
          throw Object.assign(error as Error, { after: Date.now() - started });
        }),
      ),
    );
    const cancelled = results.flatMap((r) =>
      r.status === "rejected" && r.reason instanceof ReplyCancelledError ? [r.reason as ReplyCancelledError & { after: number }] : [],
    );
    expect(cancelled.length).toBeGreaterThan(0);
    expect(results.some((r) => r.status === "fulfilled")).toBe(true);
    expect(cancelled[0]?.hint).toMatch(/Another client on the same account/);
    // The server's cancelled stream says "position 0 of 0" every second, forever: the provider reads the message's state within a few of them.
    for (const error of cancelled) expect(error.after).toBeLessThan(3_500);
    // A cancelled message waits in the queue until a worker skips it: deleting its chat before then
    // makes the real server abort the worker's other replies, so the chat stays, with a warning.
    expect(server.liveChats()).toBe(cancelled.length);
    expect(warnings).toHaveLength(cancelled.length);
    expect(warnings[0]).toMatch(/^Chat \S+ was left on the site: its reply was cancelled while queued.*oasst chats --delete/);
  });
});

describe.concurrent("the real rate limit: HTTP 500 from assistant_message", () => {
  it("is a RateLimitError with the time to wait when the account's window is full", async ({ onTestFinished }) => {
    const server = await emulator(onTestFinished, { rateLimit: { messages: 2, windowMs: 600_000 } } as EmulatorOptions);
    const accounts = new Accounts({ rateLimit: { messages: 2, windowMs: 600_000 } });
    const options = optionsFor(server, server.cookies, { accounts, maxRetries: 0 });
    await OpenAssistant.createAsync(MODEL, hello(1), options);
    await OpenAssistant.createAsync(MODEL, hello(2), options);
    const error = await OpenAssistant.createAsync(MODEL, hello(3), options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    const limited = error as RateLimitError;
    expect(limited.status).toBe(500);
    expect(limited.retryAfterMs).toBeGreaterThan(590_000);
    expect(limited.retryAfterMs).toBeLessThanOrEqual(600_000);
    expect(limited.hint).toMatch(/^Wait (9|10) min/);
    expect(server.liveChats()).toBe(0);
  });

  it("stays a ServerError, naming the rate limit as a likely cause, when this process did not fill the window", async ({ onTestFinished }) => {
    const server = await emulator(onTestFinished, { faults: ["rate-limit-500"] });
    const error = await OpenAssistant.createAsync(MODEL, hello(1), optionsFor(server, server.cookies, { accounts: new Accounts(), maxRetries: 0 })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServerError);
    expect((error as ServerError).summary).toMatch(/HTTP 500.*no reply was created/);
    expect((error as ServerError).hint).toMatch(/rate limit of 20 replies per 11 minutes/);
  });
});

describe.concurrent("a new user's first requests", () => {
  it("POST /api/chat answering 500 is sent again: an empty chat is safe to create twice", async ({ onTestFinished }) => {
    const server = await emulator(onTestFinished);
    const front: FlakyFront = await startFlakyFront(server.url, failFirst("/api/chat", 1, { status: 500, body: '{"message":"Something went wrong"}' }));
    onTestFinished(() => front.close());
    const reply = await OpenAssistant.createAsync(MODEL, hello(1), optionsFor(front, server.cookies, { accounts: new Accounts() }));
    expect(reply).toBe(server.expectedReply("hello 1"));
    expect(front.hits.filter((hit) => hit.method === "POST" && hit.path === "/api/chat")).toHaveLength(2);
  });
});

describe.concurrent("a reply left early", () => {
  it("has its chat deleted only once the server finished the reply (deleting it sooner aborts other users' replies on the real server)", async ({
    onTestFinished,
  }) => {
    const server = await emulator(onTestFinished, { tokenDelayMs: 20, replyTokens: 30 });
    const warnings: string[] = [];
    const controller = new AbortController();
    let tokens = 0;
    const error = await OpenAssistant.createAsync(
      MODEL,
      hello(1),
      optionsFor(server, server.cookies, {
        accounts: new Accounts(),
        signal: controller.signal,
        onWarning: (warning) => warnings.push(warning.code),
        onEvent: (event) => {
          if (event.event_type === "token" && ++tokens === 3) controller.abort();
        },
      }),
    ).catch((e: unknown) => e);
    expect((error as Error).name).toBe("AbortError");
    expect(warnings).toEqual(["reply_still_running"]);
    expect(server.liveChats()).toBe(0);
    const paths = server.requests.map((r) => `${r.method} ${r.path}`);
    const deleteAt = paths.indexOf("DELETE /api/chat");
    // The message's state was read until it said complete, then the chat was deleted.
    expect(paths.slice(0, deleteAt)).toContain("GET /api/chat/message");
    expect(deleteAt).toBe(paths.length - 1);
  });
});
