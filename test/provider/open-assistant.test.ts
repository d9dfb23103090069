import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, request as httpRequest, type Server } from "node:http";
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  AbortError,
  AuthError,
  ConfigError,
  closeIdleConnections,
  ConnectionError,
  ModelNotFoundError,
  OpenAssistant,
  OpenAssistantError,
  ProtocolError,
  RateLimitError,
  ServerBusyError,
  StreamError,
  TimeoutError,
  type AsyncGeneratorProvider,
  type ChatEvent,
  type Messages,
  type OpenAssistantOptions,
  type OpenAssistantWarning,
} from "../../src/index.js";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/index.js";
import { prompterContent } from "../../src/provider/format-prompt.js";
import { closedPort } from "../helpers/closed-port.js";
import { startConnectProxy, startSocks5Proxy, type TestProxy } from "../helpers/proxy-servers.js";
import { listenLocal } from "../helpers/local-server.js";

const messages: Messages = [{ role: "user", content: "Hello, how are you?" }];
const MODEL = "OA_SFT_Llama_30B_6";

let servers: Array<{ stop(): Promise<void> } | TestProxy> = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => ("stop" in s ? s.stop() : s.close())));
  servers = [];
});

async function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const server = await startEmulator({ quiet: true, ...options });
  servers.push(server);
  return server;
}

function optionsFor(server: Emulator, extra: OpenAssistantOptions = {}): OpenAssistantOptions {
  return { baseUrl: server.url, cookies: server.cookies, ...extra };
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const piece of iterable) out.push(piece);
  return out;
}

/** Run a chat to its end and return the thrown error (or fail if none). */
async function failureOf(run: AsyncIterable<unknown>): Promise<OpenAssistantError> {
  try {
    for await (const _ of run) void _;
  } catch (error) {
    expect(error).toBeInstanceOf(OpenAssistantError);
    return error as OpenAssistantError;
  }
  throw new Error("expected the chat to fail");
}

/** Chats are deleted in the generator's finally: poll briefly for the count to settle. */
async function expectNoChatsLeft(server: Emulator): Promise<void> {
  await vi.waitFor(() => expect(server.liveChats()).toBe(0), { timeout: 3000, interval: 20 });
}

describe("OpenAssistant provider: the seed's seven steps", () => {
  it("has the provider's facts as static fields", () => {
    expect(OpenAssistant.url).toBe("https://open-assistant.io");
    expect(OpenAssistant.model).toBe("OA_SFT_Llama_30B_6");
    expect(OpenAssistant.needsAuth).toBe(true);
    expect(OpenAssistant.supportsStream).toBe(true);
    expect(OpenAssistant.supportsMessageHistory).toBe(true);
    expect(typeof OpenAssistant.working).toBe("boolean");
  });

  it("streams the server's exact reply, token by token, and deletes the chat", async () => {
    const server = await emulator({ replyTokens: 12, tokenDelayMs: 5 });
    const pieces = await collect(OpenAssistant.createAsyncGenerator(MODEL, messages, optionsFor(server)));
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join("")).toBe(server.expectedReply(prompterContent(messages)));
    expect(server.liveChats()).toBe(0);
  });

  it("makes the seed's requests in order, with a Chrome User-Agent, the cookie and the seed's bodies", async () => {
    const server = await emulator();
    await OpenAssistant.createAsync(MODEL, messages, optionsFor(server));
    const calls = server.requests.map((r) => `${r.method} ${r.path}`);
    expect(calls).toEqual([
      "POST /api/chat",
      "POST /api/chat/prompter_message",
      "POST /api/chat/assistant_message",
      "POST /api/chat/events",
      "DELETE /api/chat",
    ]);
    const [create, prompter, assistant, events, remove] = server.requests;
    for (const request of server.requests) {
      expect(request.headers["user-agent"]).toMatch(/Mozilla\/5\.0 .* Chrome\/\d+/);
      expect(request.headers.cookie).toBe(server.cookie);
    }
    const chatId = JSON.parse(JSON.stringify(events!.query)).chat_id as string;
    expect(JSON.parse(prompter!.body)).toEqual({ chat_id: chatId, content: "Hello, how are you?", parent_id: null });
    expect(JSON.parse(assistant!.body)).toEqual({
      chat_id: chatId,
      parent_id: expect.any(String),
      model_config_name: MODEL,
      sampling_parameters: { top_k: 50, top_p: null, typical_p: null, temperature: 0.35, repetition_penalty: 1.1111111111111112, max_new_tokens: 1024 },
      plugins: [],
    });
    expect(events!.query.message_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(remove!.query.chat_id).toBe(chatId);
    expect(create!.method).toBe("POST");
  });

  it("sends the caller's sampling overrides and plugins, and never mutates the messages", async () => {
    const server = await emulator();
    const conversation = Object.freeze([Object.freeze({ role: "system", content: "Be brief." }), Object.freeze({ role: "user", content: "Hi" })]);
    await OpenAssistant.createAsync(MODEL, conversation, optionsFor(server, { temperature: 0.9, top_p: 0.5, max_new_tokens: 7 }));
    const body = JSON.parse(server.requests.find((r) => r.path === "/api/chat/assistant_message")!.body);
    expect(body.sampling_parameters).toEqual({
      top_k: 50,
      top_p: 0.5,
      typical_p: null,
      temperature: 0.9,
      repetition_penalty: 1.1111111111111112,
      max_new_tokens: 7,
    });
    const prompter = JSON.parse(server.requests.find((r) => r.path === "/api/chat/prompter_message")!.body);
    expect(prompter.content).toBe("System: Be brief.\nUser: Hi\nAssistant:");
  });

  it("sends the seed's exact prompter bytes with promptFormat gpt4free, and refuses an unknown format", async () => {
    const server = await emulator();
    await OpenAssistant.createAsync(MODEL, messages, optionsFor(server, { promptFormat: "gpt4free" }));
    const prompter = JSON.parse(server.requests.find((r) => r.path === "/api/chat/prompter_message")!.body);
    expect(prompter.content).toBe("<s>[INST]\nHello, how are you?\n[/INST]");
    await expect(OpenAssistant.createAsync(MODEL, messages, optionsFor(server, { promptFormat: "llama" as never }))).rejects.toThrow(
      /Unknown promptFormat "llama"/,
    );
  });

  it("sends the caller's User-Agent, extra headers and plugins", async () => {
    const server = await emulator();
    const plugins = [{ url: "https://plugins.example/ai-plugin.json", enabled: true, trusted: false }];
    await OpenAssistant.createAsync(MODEL, messages, optionsFor(server, { userAgent: "my-agent/1.0", headers: { "x-trace": "abc" }, plugins }));
    for (const request of server.requests) {
      expect(request.headers["user-agent"]).toBe("my-agent/1.0");
      expect(request.headers["x-trace"]).toBe("abc");
    }
    expect(JSON.parse(server.requests.find((r) => r.path === "/api/chat/assistant_message")!.body).plugins).toEqual(plugins);
  });

  it("implements the AsyncGeneratorProvider interface", () => {
    const provider: AsyncGeneratorProvider<OpenAssistantOptions> = OpenAssistant;
    expect(provider.model).toBe(OpenAssistant.model);
  });

  it("createAsync joins the whole reply", async () => {
    const server = await emulator({ replyTokens: 30 });
    await expect(OpenAssistant.createAsync(MODEL, messages, optionsFor(server))).resolves.toBe(server.expectedReply(prompterContent(messages)));
  });

  it("reports queue positions through onEvent and keeps one event per token in streamEvents", async () => {
    const server = await emulator({ pendingEvents: 3, replyTokens: 10 });
    const seen: ChatEvent[] = [];
    const events: ChatEvent[] = [];
    for await (const event of OpenAssistant.streamEvents(MODEL, messages, optionsFor(server, { onEvent: (e) => seen.push(e) }))) events.push(event);
    expect(events).toEqual(seen);
    const pending = events.filter((e) => e.event_type === "pending");
    expect(pending.map((e) => (e.event_type === "pending" ? e.queue_position : -1))).toEqual([3, 2, 1]);
    expect(events.filter((e) => e.event_type === "token")).toHaveLength(10);
    expect(events.at(-1)?.event_type).toBe("message");
  });

  it("createAsyncGenerator with onEvent still reports one event per token (its text comes joined per read)", async () => {
    const server = await emulator({ replyTokens: 40 });
    const seen: ChatEvent[] = [];
    let text = "";
    for await (const piece of OpenAssistant.createAsyncGenerator(MODEL, messages, optionsFor(server, { onEvent: (e) => seen.push(e) }))) text += piece;
    expect(text).toBe(server.expectedReply(prompterContent(messages)));
    expect(seen.filter((e) => e.event_type === "token")).toHaveLength(40);
  });

  it.each(["byte-chunks", "lf", "cr"] as const)("gets the same text with %s framing", async (fault) => {
    const server = await emulator({ faults: [fault], replyTokens: 15 });
    await expect(OpenAssistant.createAsync(MODEL, messages, optionsFor(server))).resolves.toBe(server.expectedReply(prompterContent(messages)));
  });

  it("works under a path prefix (a self-hosted site behind a reverse proxy)", async () => {
    const server = await emulator();
    const front = await prefixProxy("/oa", server.url);
    servers.push({ stop: front.close });
    await expect(OpenAssistant.createAsync(MODEL, messages, optionsFor(server, { baseUrl: `${front.url}/oa` }))).resolves.toBe(
      server.expectedReply(prompterContent(messages)),
    );
    expect(server.liveChats()).toBe(0);
  });

  it("accepts cookies as a Cookie header string, and from OASST_COOKIES", async () => {
    const server = await emulator();
    await expect(OpenAssistant.createAsync(MODEL, messages, { baseUrl: server.url, cookies: `other=1; ${server.cookie}` })).resolves.toBeTruthy();
    await expect(OpenAssistant.createAsync(MODEL, messages, { baseUrl: server.url, cookies: {}, env: { OASST_COOKIES: server.cookie } })).resolves.toBeTruthy();
  });

  it("reads the base URL from OASST_BASE_URL", async () => {
    const server = await emulator();
    await expect(OpenAssistant.createAsync(MODEL, messages, { cookies: server.cookie, env: { OASST_BASE_URL: server.url } })).resolves.toBeTruthy();
  });

  it("uses the caller's fetch when given", async () => {
    const server = await emulator();
    const urls: string[] = [];
    const fetch = (url: string, init: RequestInit) => {
      urls.push(url);
      return globalThis.fetch(url, init);
    };
    await OpenAssistant.createAsync(MODEL, messages, optionsFor(server, { fetch }));
    expect(urls).toHaveLength(5);
  });
});

describe("OpenAssistant provider: the chat is deleted in every outcome", () => {
  it("when the consumer breaks out early: once the server has finished the reply (a warning says the delete waits)", async () => {
    const server = await emulator({ replyTokens: 30, tokenDelayMs: 10 });
    const warnings: OpenAssistantWarning[] = [];
    for await (const piece of OpenAssistant.createAsyncGenerator(MODEL, messages, optionsFor(server, { onWarning: (w) => warnings.push(w) }))) {
      expect(piece).toBeTruthy();
      break;
    }
    // The loop's end waited for the reply's end: the chat is gone by now.
    expect(server.liveChats()).toBe(0);
    expect(warnings.map((w) => w.code)).toEqual(["reply_still_running"]);
    const chatId = server.requests.find((r) => r.path === "/api/chat/events")!.query.chat_id;
    expect(warnings[0]!.chatId).toBe(chatId);
    expect(warnings[0]!.message).toBe(
      `Waiting for the server to finish the reply before deleting chat ${chatId}: Open-Assistant aborts other replies when a chat is deleted while its reply runs.`,
    );
    // The message's state was read until it was complete, and only then the chat deleted.
    const after = server.requests.slice(server.requests.findIndex((r) => r.path === "/api/chat/events") + 1).map((r) => `${r.method} ${r.path}`);
    expect(after.at(-1)).toBe("DELETE /api/chat");
    expect(after.slice(0, -1).length).toBeGreaterThan(0);
    expect(new Set(after.slice(0, -1))).toEqual(new Set(["GET /api/chat/message"]));
  });

  it("no wait when the consumer stops after the reply's end: no warning", async () => {
    const server = await emulator({ faults: ["message-only"] });
    const warnings: OpenAssistantWarning[] = [];
    for await (const piece of OpenAssistant.createAsyncGenerator(MODEL, messages, optionsFor(server, { onWarning: (w) => warnings.push(w) }))) {
      expect(piece).toBe(server.expectedReply(prompterContent(messages)));
      break;
    }
    expect(warnings).toEqual([]);
    expect(server.liveChats()).toBe(0);
    expect(server.requests.some((r) => r.path === "/api/chat/message")).toBe(false);
  });

  it("when the caller aborts mid-stream: once the server has finished the reply", async () => {
    const server = await emulator({ replyTokens: 30, tokenDelayMs: 10 });
    const controller = new AbortController();
    const warnings: OpenAssistantWarning[] = [];
    let received = 0;
    const error = await failureOf(
      (async function* () {
        for await (const piece of OpenAssistant.createAsyncGenerator(
          MODEL,
          messages,
          optionsFor(server, { signal: controller.signal, onWarning: (w) => warnings.push(w) }),
        )) {
          if (++received === 2) controller.abort();
          yield piece;
        }
      })(),
    );
    expect(error).toBeInstanceOf(AbortError);
    expect(error.chatId).toMatch(/^[0-9a-f-]{36}$/);
    expect(warnings.map((w) => [w.code, w.chatId])).toEqual([["reply_still_running", error.chatId]]);
    expect(server.liveChats()).toBe(0);
  });

  it("when the signal was aborted before the start: nothing is created", async () => {
    const server = await emulator();
    const error = await failureOf(OpenAssistant.createAsyncGenerator(MODEL, messages, optionsFor(server, { signal: AbortSignal.abort() })));
    expect(error).toBeInstanceOf(AbortError);
    expect(server.requests).toHaveLength(0);
  });

  it("not when the stream sends only pings for longer than the timeout (pings are not progress): the unfinished chat is left, with a warning", async () => {
    const server = await emulator({ faults: ["hang"], pingIntervalMs: 50 });
    const warnings: OpenAssistantWarning[] = [];
    const started = Date.now();
    const error = await failureOf(
      OpenAssistant.createAsyncGenerator(MODEL, messages, optionsFor(server, { timeout: 300, onWarning: (w) => warnings.push(w) })),
    );
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeoutMs).toBe(300);
    expect(error.summary).toMatch(/went silent for 300 ms/);
    // 300 ms of silence, then at most 300 ms waiting for the reply's end, which never comes.
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(elapsed).toBeLessThan(3000);
    expect(warnings.map((w) => [w.code, w.chatId])).toEqual([
      ["reply_still_running", error.chatId],
      ["chat_not_deleted", error.chatId],
    ]);
    expect(warnings[1]!.message).toBe(
      `Chat ${error.chatId} was left on the site: the end of its reply could not be seen, and deleting a chat while its reply runs makes Open-Assistant abort other replies. Delete it in a few minutes with \`oasst chats --delete ${error.chatId}\`.`,
    );
    expect(server.liveChats()).toBe(1);
    expect(server.requests.some((r) => r.method === "DELETE")).toBe(false);
  });

  it("when a request gets no answer within the timeout", async () => {
    const server = await emulator({ faults: ["slow-headers"] });
    const error = await failureOf(OpenAssistant.createAsyncGenerator(MODEL, messages, optionsFor(server, { timeout: 200 })));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.summary).toMatch(/POST \/api\/chat got no answer for 200 ms/);
  });

  it("when the server sends an error event: the text before it arrives, then a StreamError with the server's text", async () => {
    const server = await emulator({ faults: ["error-event"], replyTokens: 10 });
    const pieces: string[] = [];
    const error = await failureOf(
      (async function* () {
        for await (const piece of OpenAssistant.createAsyncGenerator(MODEL, messages, optionsFor(server))) {
          pieces.push(piece);
          yield piece;
        }
      })(),
    );
    expect(error).toBeInstanceOf(StreamError);
    expect(error.serverMessage).toBe("Aborted due to worker error.");
    expect(error.chatId).toBeTruthy();
    expect(server.expectedReply(prompterContent(messages)).startsWith(pieces.join(""))).toBe(true);
    expect(pieces.join("").length).toBeGreaterThan(0);
    expect(server.liveChats()).toBe(0);
  });

  it("when the delete itself fails: the reply is delivered and the failure is a warning", async () => {
    const server = await emulator({ faults: ["delete-500"] });
    const warnings: OpenAssistantWarning[] = [];
    const text = await OpenAssistant.createAsync(MODEL, messages, optionsFor(server, { onWarning: (w) => warnings.push(w) }));
    expect(text).toBe(server.expectedReply(prompterContent(messages)));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.code).toBe("chat_not_deleted");
    expect(warnings[0]!.message).toMatch(/could not be deleted: DELETE \/api\/chat failed \(HTTP 500/);
  });

  it("when the delete fails after an error: the original error is thrown, not the delete's", async () => {
    const server = await emulator({ faults: ["delete-500", "error-event"] });
    const warnings: OpenAssistantWarning[] = [];
    const error = await failureOf(OpenAssistant.createAsyncGenerator(MODEL, messages, optionsFor(server, { onWarning: (w) => warnings.push(w) })));
    expect(error).toBeInstanceOf(StreamError);
    expect(warnings).toHaveLength(1);
  });
});

describe("OpenAssistant provider: typed errors", () => {
  it("AuthError for a 403 with an empty body", async () => {
    const server = await emulator();
    const error = await failureOf(
      OpenAssistant.createAsyncGenerator(MODEL, messages, { baseUrl: server.url, cookies: { "next-auth.session-token": "wrong" } }),
    );
    expect(error).toBeInstanceOf(AuthError);
    expect(error.status).toBe(403);
    expect(error.summary).toContain("POST /api/chat");
    expect(error.message).not.toContain("wrong");
  });

  it("asks the cookie sources when no cookies are given, and says where it looked and what to do", async () => {
    const empty = mkdtempSync(join(tmpdir(), "oasst-no-cookies-"));
    vi.stubEnv("HOME", empty); // no browser profiles either
    try {
      const error = await failureOf(
        OpenAssistant.createAsyncGenerator(MODEL, messages, { baseUrl: "http://127.0.0.1:9", cookies: {}, env: { HOME: empty }, cookiesDir: empty }),
      );
      expect(error).toBeInstanceOf(AuthError);
      expect(error.summary).toContain("No cookies for 127.0.0.1");
      expect(error.message).toContain(empty);
      expect(error.hint).toMatch(/OASST_COOKIES/);
    } finally {
      vi.unstubAllEnvs();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("takes the session from a cookies.txt in the cookies directory when none are given", async () => {
    const server = await emulator();
    const dir = mkdtempSync(join(tmpdir(), "oasst-cookies-"));
    try {
      writeFileSync(join(dir, "cookies.txt"), `# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\t${server.cookieName}\t${server.sessionToken}\n`);
      const text = await OpenAssistant.createAsync(MODEL, messages, { baseUrl: server.url, env: {}, cookiesDir: dir });
      expect(text).toBe(server.expectedReply(prompterContent(messages)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("RateLimitError for 429, with Retry-After", async () => {
    const server = await emulator({ faults: ["rate-limit"] });
    const error = await failureOf(OpenAssistant.createAsyncGenerator(MODEL, messages, optionsFor(server, { maxRetries: 0 })));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.status).toBe(429);
    expect((error as RateLimitError).retryAfterMs).toBe(2000);
    await expectNoChatsLeft(server);
  });

  it("ServerBusyError for 503, after retrying with backoff", async () => {
    const server = await emulator({ faults: ["busy"] });
    const delays: number[] = [];
    const error = await failureOf(
      OpenAssistant.createAsyncGenerator(MODEL, messages, optionsFor(server, { maxRetries: 1, onRetry: (r) => delays.push(r.delayMs) })),
    );
    expect(error).toBeInstanceOf(ServerBusyError);
    expect(error.serverMessage).toBe("The server is currently busy. Please try again later.");
    expect(server.requests.filter((r) => r.path === "/api/chat/assistant_message")).toHaveLength(2);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(1000);
    await expectNoChatsLeft(server);
  });

  it("ModelNotFoundError with the server's message and its models", async () => {
    const server = await emulator({ models: ["OA_SFT_Llama_30B_6", "OA_SFT_Llama2_70B_10"] });
    const error = await failureOf(OpenAssistant.createAsyncGenerator("gpt-4", messages, optionsFor(server)));
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect(error.status).toBe(422);
    expect(error.serverMessage).toMatch(/Model gpt-4 not/);
    expect((error as ModelNotFoundError).availableModels).toEqual(["OA_SFT_Llama_30B_6", "OA_SFT_Llama2_70B_10"]);
    expect(error.hint).toContain("OA_SFT_Llama2_70B_10");
    await expectNoChatsLeft(server);
  });

  it.each([
    // The reply was cut short on our side while the server went on with it: its end is waited for, then the chat deleted.
    ["drop", StreamError, /connection broke in the middle of the reply|ended before/, 0, ["reply_still_running"]],
    ["malformed-json", ProtocolError, /not JSON/, 0, ["reply_still_running"]],
    ["html", ProtocolError, /HTML page/, 0, []],
    ["redirect", ProtocolError, /redirect/, 0, []],
    // The server created a chat whose id never reached us: nobody can delete it.
    ["close-mid-json", ConnectionError, /POST \/api\/chat: the connection broke before the whole answer arrived/, 1, []],
  ] as const)("%s → %s", async (fault, type, text, left, warningCodes) => {
    const server = await emulator({ faults: [fault], replyTokens: 10 });
    const warnings: OpenAssistantWarning[] = [];
    const error = await failureOf(OpenAssistant.createAsyncGenerator(MODEL, messages, optionsFor(server, { onWarning: (w) => warnings.push(w) })));
    expect(error.constructor.name).toBe(type.name);
    expect(error.summary).toMatch(text);
    expect(warnings.map((w) => w.code)).toEqual(warningCodes);
    expect(server.liveChats()).toBe(left);
  });

  it("empty-events (the website's answer for a message already finished): the reply is the message's content, read from the site", async () => {
    const server = await emulator({ faults: ["empty-events"], replyTokens: 10 });
    const warnings: OpenAssistantWarning[] = [];
    const events: ChatEvent[] = [];
    const options = optionsFor(server, { onWarning: (w) => warnings.push(w), onEvent: (e) => events.push(e) });
    const pieces = await collect(OpenAssistant.createAsyncGenerator(MODEL, messages, options));
    expect(pieces).toEqual([server.expectedReply(prompterContent(messages))]);
    // The final message event is made from the message the site holds: complete, with the whole reply.
    expect(events.at(-1)).toMatchObject({ event_type: "message", message: { state: "complete", content: pieces[0] } });
    expect(warnings).toEqual([]);
    const calls = server.requests.map((r) => `${r.method} ${r.path}`);
    expect(calls.slice(-3)).toEqual(["POST /api/chat/events", "GET /api/chat/message", "DELETE /api/chat"]);
    expect(server.liveChats()).toBe(0);
  });

  it("ProtocolError for an event line over the cap", async () => {
    const server = await emulator({ replyTokens: 3 });
    const error = await failureOf(OpenAssistant.createAsyncGenerator(MODEL, messages, optionsFor(server, { maxLineLength: 64 })));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.summary).toMatch(/longer than 64 characters/);
    await expectNoChatsLeft(server);
  });

  it("ConnectionError, not a bare TypeError, when nothing listens", async () => {
    const port = await closedPort();
    const error = await failureOf(OpenAssistant.createAsyncGenerator(MODEL, messages, { baseUrl: `http://127.0.0.1:${port}`, cookies: "a=b" }));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.summary).toBe(`POST /api/chat could not reach http://127.0.0.1:${port} (ECONNREFUSED connect ECONNREFUSED 127.0.0.1:${port})`);
    expect(error.cause).toBeDefined();
  });

  it("ConfigError for an unknown option or a bad base URL", async () => {
    const bad = { temprature: 1 } as unknown as OpenAssistantOptions;
    await expect(OpenAssistant.createAsync(MODEL, messages, { cookies: "a=b", ...bad })).rejects.toBeInstanceOf(ConfigError);
    await expect(OpenAssistant.createAsync(MODEL, messages, { cookies: "a=b", baseUrl: "ftp://x" })).rejects.toBeInstanceOf(ConfigError);
  });

  it("ConfigError for a base URL with user:password, without showing the password", async () => {
    const error = await failureOf(OpenAssistant.createAsyncGenerator(MODEL, messages, { cookies: "a=b", baseUrl: "http://me:pa55word@127.0.0.1:9" }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain("user:password@");
    expect(error.message).not.toContain("pa55word");
  });
});

describe("OpenAssistant provider: kept-alive connections", () => {
  /** A TCP relay in front of the emulator that counts the connections the provider opens. */
  async function countingRelay(target: string): Promise<{ url: string; connections: number; open: Set<Socket>; close(): Promise<void> }> {
    const upstream = new URL(target);
    const relay = { url: "", connections: 0, open: new Set<Socket>(), close: async () => {} };
    const server = createNetServer((socket) => {
      relay.connections++;
      relay.open.add(socket);
      const onward = connect(Number(upstream.port), upstream.hostname);
      socket.pipe(onward).pipe(socket);
      const end = () => {
        relay.open.delete(socket);
        socket.destroy();
        onward.destroy();
      };
      socket.on("close", end).on("error", end);
      onward.on("close", end).on("error", end);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    relay.close = async () => {
      for (const socket of relay.open) socket.destroy();
      server.close();
      await once(server, "close");
    };
    return relay;
  }

  it("runs back-to-back chats on one connection, which closeIdleConnections() closes", async () => {
    const server = await emulator();
    const relay = await countingRelay(server.url);
    servers.push({ stop: () => relay.close() });
    const options = { ...optionsFor(server), baseUrl: relay.url };
    for (let i = 0; i < 3; i++) {
      await expect(OpenAssistant.createAsync(MODEL, messages, options)).resolves.toBe(server.expectedReply(prompterContent(messages)));
    }
    expect(server.requests).toHaveLength(15);
    expect(relay.connections).toBe(1);
    expect(relay.open.size).toBe(1);
    expect(server.liveChats()).toBe(0);
    closeIdleConnections();
    await vi.waitFor(() => expect(relay.open.size).toBe(0));
  });

  it("takes each chat's settings afresh: headers changed in place, cookies, User-Agent, the environment's proxy", async () => {
    const server = await emulator();
    const proxy = await startConnectProxy();
    servers.push(proxy);
    const headers: Record<string, string> = { "x-trace": "one" };
    const env: NodeJS.ProcessEnv = {};
    const options: OpenAssistantOptions = optionsFor(server, { headers, env });
    const chat = async () => {
      const before = server.requests.length;
      await expect(OpenAssistant.createAsync(MODEL, messages, options)).resolves.toBe(server.expectedReply(prompterContent(messages)));
      const sent = server.requests.slice(before);
      expect(sent).toHaveLength(5);
      return sent.map((request) => request.headers);
    };
    expect((await chat()).map((h) => h["x-trace"])).toEqual(Array(5).fill("one"));
    headers["x-trace"] = "two";
    for (const sent of await chat()) expect(sent["x-trace"]).toBe("two");
    headers["x-more"] = "yes";
    for (const sent of await chat()) expect(sent["x-more"]).toBe("yes");
    delete headers["x-more"];
    for (const sent of await chat()) expect(sent["x-more"]).toBeUndefined();
    options.userAgent = "agent/2";
    for (const sent of await chat()) expect(sent["user-agent"]).toBe("agent/2");
    options.cookies = `${server.cookie}; theme=dark`;
    for (const sent of await chat()) expect(sent.cookie).toBe(`${server.cookie}; theme=dark`);
    env.HTTP_PROXY = proxy.url;
    await chat();
    expect(proxy.log.targets).toEqual([new URL(server.url).host]);
    delete env.HTTP_PROXY;
    await chat();
    expect(proxy.log.targets).toHaveLength(1);
  });

  it("chats in parallel each take a connection of their own", async () => {
    const server = await emulator({ tokenDelayMs: 2 });
    const relay = await countingRelay(server.url);
    servers.push({ stop: () => relay.close() });
    const options = { ...optionsFor(server), baseUrl: relay.url };
    const replies = await Promise.all([1, 2, 3].map(() => OpenAssistant.createAsync(MODEL, messages, options)));
    expect(new Set(replies)).toEqual(new Set([server.expectedReply(prompterContent(messages))]));
    expect(relay.connections).toBe(3);
    closeIdleConnections();
    await vi.waitFor(() => expect(relay.open.size).toBe(0));
  });
});

describe("OpenAssistant provider: proxies", () => {
  it("goes through an HTTP proxy with user:password, and never shows the password", async () => {
    const server = await emulator();
    const proxy = await startConnectProxy("alice:s3cret-pw");
    servers.push(proxy);
    await expect(OpenAssistant.createAsync(MODEL, messages, optionsFor(server, { proxy: proxy.url }))).resolves.toBe(
      server.expectedReply(prompterContent(messages)),
    );
    expect(proxy.log.targets[0]).toBe(new URL(server.url).host);
    expect(proxy.log.credentials[0]).toBe(`Basic ${Buffer.from("alice:s3cret-pw").toString("base64")}`);
    // The cookie travels inside the tunnel, never in the proxy handshake.
    expect(proxy.log.handshakes.join("\n")).not.toContain(server.sessionToken);
  });

  it("fails with a ConnectionError naming the proxy problem, without the password", async () => {
    const server = await emulator();
    const proxy = await startConnectProxy("alice:right");
    servers.push(proxy);
    const wrong = proxy.url.replace("alice:right", "alice:wrong-pw");
    const error = await failureOf(OpenAssistant.createAsyncGenerator(MODEL, messages, optionsFor(server, { proxy: wrong })));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).not.toContain("wrong-pw");
  });

  it("fails at once with a ConnectionError when the proxy closes the connection before answering CONNECT", async () => {
    // Closed with a FIN before the CONNECT is read: undici alone would open the tunnel again without end.
    const proxy = await listenLocal(createNetServer((socket) => socket.end()));
    servers.push({ stop: proxy.close });
    const started = performance.now();
    const error = await failureOf(
      OpenAssistant.createAsyncGenerator(MODEL, messages, {
        baseUrl: "http://open-assistant.test",
        cookies: "next-auth.session-token=x",
        proxy: proxy.url,
        timeout: 10_000,
        env: {},
      }),
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toContain("the proxy closed the connection before it answered CONNECT");
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it.each(["socks5", "socks5h"] as const)("goes through a %s proxy with user:password", async (scheme) => {
    const server = await emulator();
    const proxy = await startSocks5Proxy("bob:pa55");
    servers.push(proxy);
    const url = proxy.url.replace("socks5:", `${scheme}:`);
    const local = { ...optionsFor(server, { proxy: url }), baseUrl: server.url.replace("127.0.0.1", "localhost") };
    await expect(OpenAssistant.createAsync(MODEL, messages, local)).resolves.toBe(server.expectedReply(prompterContent(messages)));
    expect(proxy.log.credentials[0]).toBe("bob:pa55");
    // socks5h leaves DNS to the proxy; socks5 resolves here and sends an address.
    expect(proxy.log.targets[0]).toMatch(scheme === "socks5h" ? /^localhost:/ : /^(127\.0\.0\.1|[0:]+1):/);
  });

  it("honours HTTP_PROXY and NO_PROXY from the environment", async () => {
    const server = await emulator();
    const proxy = await startConnectProxy();
    servers.push(proxy);
    await OpenAssistant.createAsync(MODEL, messages, optionsFor(server, { env: { HTTP_PROXY: proxy.url } }));
    expect(proxy.log.targets).toHaveLength(1);
    await OpenAssistant.createAsync(MODEL, messages, optionsFor(server, { env: { HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" } }));
    expect(proxy.log.targets).toHaveLength(1);
  });
});

/** A reverse proxy that serves `upstream` under `prefix`, as nginx would for a self-hosted site. */
async function prefixProxy(prefix: string, upstream: string): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(upstream);
  const server: Server = createServer((req, res) => {
    if (!req.url?.startsWith(`${prefix}/`)) {
      res.writeHead(404).end();
      return;
    }
    const forward = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url.slice(prefix.length), headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(forward);
    forward.on("error", () => res.destroy());
  });
  return listenLocal(server);
}
