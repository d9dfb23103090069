import { describe, expect, it, vi } from "vitest";
import type { ChatEvent, MessageRead } from "../../src/client/wire-types.js";
import { ConfigError } from "../../src/errors.js";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { dataPayloads, emulator, http, MODEL, postJson, startReply } from "./helpers.js";

/** The server as another user sees it: the same URL, another session cookie. */
function as(server: Emulator, cookie: string): Emulator {
  return { ...server, cookie };
}

/** Reads an event stream until `until` says stop (then leaves), or it ends. */
async function readEvents(server: Emulator, path: string, until: (events: ChatEvent[]) => boolean, timeoutMs = 5000): Promise<ChatEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const response = await fetch(`${server.url}${path}`, { headers: { cookie: server.cookie }, signal: controller.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let events: ChatEvent[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      events = dataPayloads(text.slice(0, text.lastIndexOf("\r\n\r\n") + 4)).map((payload) => JSON.parse(payload) as ChatEvent);
      if (until(events)) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

async function messageState(server: Emulator, chatId: string, messageId: string): Promise<MessageRead> {
  return JSON.parse((await http(server, "GET", `/api/chat/message?chat_id=${chatId}&message_id=${messageId}`)).text) as MessageRead;
}

describe("many accounts", () => {
  it("accepts every session of sessionTokens and addSession(), each its own user", async () => {
    const server = await emulator({ sessionTokens: ["second-user-token"] });
    expect(server.sessions().map((session) => session.token)).toEqual([server.sessionToken, "second-user-token"]);
    const third = server.addSession();
    expect(third.cookie).toBe(`next-auth.session-token=${third.token}`);
    expect(third.cookies).toEqual({ "next-auth.session-token": third.token });
    expect(server.sessions()).toHaveLength(3);
    const a = await startReply(server, "Mine");
    for (const cookie of [server.sessions()[1]!.cookie, third.cookie]) {
      const other = as(server, cookie);
      // Another user's chat does not exist for this one.
      expect((await http(other, "GET", `/api/chat?chat_id=${a.chatId}`)).status).toBe(404);
      expect(JSON.parse((await http(other, "GET", "/api/chat")).text)).toEqual({ chats: [], next: null, prev: null });
      expect((await http(other, "GET", a.eventsPath)).status).toBe(500);
      expect((await http(other, "GET", `/api/chat/message?chat_id=${a.chatId}&message_id=${a.assistant.id}`)).status).toBe(500);
      const prompter = await postJson(other, "/api/chat/prompter_message", { chat_id: a.chatId, parent_id: null, content: "x" });
      expect([prompter.status, prompter.text]).toEqual([500, '{"message":"Something went wrong"}']);
      // The assistant route looks the parent up by id, then checks its owner.
      const assistant = await postJson(other, "/api/chat/assistant_message", { chat_id: a.chatId, parent_id: a.prompterId, model_config_name: MODEL });
      expect([assistant.status, assistant.text]).toEqual([400, '{"message":"Message not found"}']);
      expect((await http(other, "DELETE", `/api/chat?chat_id=${a.chatId}`)).status).toBe(500);
      const own = await startReply(other, "Theirs");
      expect((await http(other, "GET", own.eventsPath)).status).toBe(200);
    }
    expect(server.liveChats()).toBe(3);
    expect((await http(server, "GET", "/api/chat", { headers: { cookie: "next-auth.session-token=unknown" }, cookie: false })).status).toBe(403);
  });

  it("rejects a repeated or unusable token", async () => {
    await expect(startEmulator({ sessionToken: "same", sessionTokens: ["same"] })).rejects.toBeInstanceOf(ConfigError);
    await expect(startEmulator({ sessionTokens: ["a b"] })).rejects.toBeInstanceOf(ConfigError);
    const server = await emulator({ sessionToken: "first" });
    expect(() => server.addSession("first")).toThrow(ConfigError);
    expect(() => server.addSession("x;y")).toThrow(ConfigError);
  });
});

describe("work queue and worker", () => {
  it("starts messages as soon as a slot is free, and shows the queue position while one waits", async () => {
    const server = await emulator({ workerSlots: 2, replyTokens: 10, tokenDelayMs: 40, pendingEventIntervalMs: 60 });
    const users = [server, as(server, server.addSession().cookie), as(server, server.addSession().cookie)];
    const replies = [];
    for (const user of users) replies.push(await startReply(user, "Hello"));
    const third = replies[2]!;
    expect((await messageState(users[2]!, third.chatId, third.assistant.id)).state).toBe("pending");
    const events = await readEvents(users[2]!, third.eventsPath, (seen) => seen.at(-1)?.event_type === "message");
    const types = events.map((event) => event.event_type);
    expect(types[0]).toBe("pending");
    expect(events[0]).toEqual({ event_type: "pending", queue_position: 1, queue_size: 1 });
    expect(types.filter((type) => type === "token")).toHaveLength(10);
    // pending events only before the first token
    expect(types.slice(types.indexOf("token")).includes("pending")).toBe(false);
  });

  it("generates without waiting for the stream: tokens pushed before it opens arrive at once", async () => {
    const server = await emulator({ replyTokens: 5, tokenDelayMs: 30 });
    const reply = await startReply(server, "Hello");
    await new Promise((resolve) => setTimeout(resolve, 250));
    const started = Date.now();
    const events = dataPayloads((await http(server, "GET", reply.eventsPath)).body).map((payload) => JSON.parse(payload) as ChatEvent);
    expect(Date.now() - started).toBeLessThan(100);
    expect(events.map((event) => event.event_type)).toEqual([...Array(5).fill("token"), "message"]);
  });

  it("times a message out when it waited longer than messageTimeoutMs", async () => {
    const server = await emulator({ workerSlots: 1, replyTokens: 6, tokenDelayMs: 50, messageTimeoutMs: 100, pendingEventIntervalMs: 40 });
    const other = as(server, server.addSession().cookie);
    await startReply(server, "first");
    const late = await startReply(other, "second");
    const events = await readEvents(other, late.eventsPath, (seen) => seen.at(-1)?.event_type === "error");
    const error = events.at(-1)!;
    expect(error).toMatchObject({ event_type: "error", error: "Timeout", message: { id: late.assistant.id, state: "timeout" } });
  });
});

describe("pending-cancel", () => {
  it("a user's new assistant message cancels that user's pending ones; their streams send pending 0/0 forever", async () => {
    const server = await emulator({ workerSlots: 1, replyTokens: 8, tokenDelayMs: 25, pendingEventIntervalMs: 40 });
    const running = await startReply(server, "busy worker");
    const queued = await startReply(server, "queued");
    // A draft under the same parent does not cancel it.
    const draft = await postJson(server, "/api/chat/assistant_message", { chat_id: queued.chatId, parent_id: queued.prompterId, model_config_name: MODEL });
    expect(draft.status).toBe(200);
    expect((await messageState(server, queued.chatId, queued.assistant.id)).state).toBe("pending");
    // Another user's message does not cancel it either.
    await startReply(as(server, server.addSession().cookie), "someone else");
    expect((await messageState(server, queued.chatId, queued.assistant.id)).state).toBe("pending");
    // This user's message under another parent does: both the queued message and its draft.
    const newer = await startReply(server, "newer");
    expect((await messageState(server, queued.chatId, queued.assistant.id)).state).toBe("cancelled");
    const draftId = (JSON.parse(draft.text) as MessageRead).id;
    expect((await messageState(server, queued.chatId, draftId)).state).toBe("cancelled");
    expect((await messageState(server, running.chatId, running.assistant.id)).state).not.toBe("cancelled");
    // Once the worker has dropped it off the queue, the stream says 0/0, again and again, and never ends.
    const events = await readEvents(server, queued.eventsPath, (seen) => seen.filter((e) => e.event_type === "pending" && e.queue_size === 0).length >= 3);
    expect(events.every((event) => event.event_type === "pending")).toBe(true);
    expect(events.slice(-3)).toEqual(Array(3).fill({ event_type: "pending", queue_position: 0, queue_size: 0 }));
    const raw = await readEvents(server, queued.eventsPath, (seen) => seen.length >= 1);
    expect(JSON.stringify(raw[0])).toBe('{"event_type":"pending","queue_position":0,"queue_size":0}');
    // The newer message completes normally.
    const final = await readEvents(server, newer.eventsPath, (seen) => seen.at(-1)?.event_type === "message");
    expect(final.at(-1)).toMatchObject({ event_type: "message", message: { state: "complete" } });
  });

  it("writes the pending event's bytes as the server does", async () => {
    const server = await emulator({ workerSlots: 1, replyTokens: 4, tokenDelayMs: 100, pendingEventIntervalMs: 30 });
    await startReply(server, "busy");
    const queued = await startReply(server, "queued");
    const response = await fetch(`${server.url}${queued.eventsPath}`, { headers: { cookie: server.cookie } });
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(first).toBe('data: {"event_type": "pending", "queue_position": 1, "queue_size": 1}\r\n\r\n');
  });

  it("cancels before the parent is checked (an invalid parent still cancels)", async () => {
    const server = await emulator({ workerSlots: 1, replyTokens: 8, tokenDelayMs: 25 });
    await startReply(server, "busy worker");
    const queued = await startReply(server, "queued");
    const bad = await postJson(server, "/api/chat/assistant_message", { chat_id: queued.chatId, parent_id: "no-such-message", model_config_name: MODEL });
    expect([bad.status, bad.text]).toEqual([500, '{"message":"Something went wrong"}']);
    expect((await messageState(server, queued.chatId, queued.assistant.id)).state).toBe("cancelled");
  });

  it("cancelPending: false keeps them", async () => {
    const server = await emulator({ workerSlots: 1, replyTokens: 8, tokenDelayMs: 25, cancelPending: false });
    await startReply(server, "busy worker");
    const queued = await startReply(server, "queued");
    await startReply(server, "newer");
    expect((await messageState(server, queued.chatId, queued.assistant.id)).state).toBe("pending");
    const events = await readEvents(server, queued.eventsPath, (seen) => seen.at(-1)?.event_type === "message");
    expect(events.at(-1)).toMatchObject({ message: { state: "complete" } });
  });
});

describe("rate limit", () => {
  const body = (chatId: string, parentId: string) => ({ chat_id: chatId, parent_id: parentId, model_config_name: MODEL });

  it("by default: the 21st assistant message of a user is a 500; 422s count; other users are not affected", async () => {
    const server = await emulator();
    for (let i = 0; i < 20; i++) {
      // A request that fails validation still counts.
      const invalid = await postJson(server, "/api/chat/assistant_message", { chat_id: "x" });
      expect(invalid.status).toBe(422);
    }
    const over = await postJson(server, "/api/chat/assistant_message", body("x", "y"));
    expect([over.status, over.text]).toEqual([500, '{"message":"Something went wrong"}']);
    const other = as(server, server.addSession().cookie);
    const reply = await startReply(other, "fine");
    expect(reply.assistant.state).toBe("pending");
  });

  it("is a fixed window opened by the first request; refused requests are not counted", async () => {
    // Only the clock is fake: the server's sockets and timers run as they do.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    try {
      const server = await emulator({ rateLimit: { messages: 2, windowMs: 60_000 } });
      const { chatId, prompterId } = await startReply(server, "one");
      const post = async () => (await postJson(server, "/api/chat/assistant_message", body(chatId, prompterId))).status;
      expect(await post()).toBe(200);
      vi.advanceTimersByTime(59_999);
      for (let i = 0; i < 3; i++) expect(await post()).toBe(500);
      vi.advanceTimersByTime(1);
      expect(await post()).toBe(200);
      expect(await post()).toBe(200);
      expect(await post()).toBe(500);
    } finally {
      vi.useRealTimers();
    }
  });

  it("rateLimit: false switches it off", async () => {
    const server = await emulator({ rateLimit: false });
    for (let i = 0; i < 25; i++) expect((await postJson(server, "/api/chat/assistant_message", { chat_id: "x" })).status).toBe(422);
  });
});

describe("connectionClose", () => {
  it("answers with Connection: close, as Next.js 13", async () => {
    const server = await emulator({ connectionClose: true });
    const response = await http(server, "GET", "/api/chat/models");
    expect(response.headers.connection).toBe("close");
    expect(response.headers["keep-alive"]).toBe("timeout=5");
    const { eventsPath } = await startReply(server, "Hi");
    expect((await http(server, "GET", eventsPath)).headers.connection).toBe("close");
  });

  it("is off by default (keep-alive)", async () => {
    const server = await emulator();
    const response = await fetch(`${server.url}/api/chat/models`, { headers: { cookie: server.cookie } });
    await response.text();
    expect(response.headers.get("connection")).toBe("keep-alive");
  });
});
