/**
 * Conversations on the emulator as the real server keeps them: a chat continues under a
 * complete assistant message, siblings (regenerations, edited prompts) share a parent, the
 * thread tail is only what PUT stores, votes, hidden chats and the plugin list.
 */
import { describe, expect, it } from "vitest";
import type { ChatRead, ListChatsResponse, MessageRead, PluginEntryRead } from "../../src/client/wire-types.js";
import { dataPayloads, emulator, http, MODEL, postJson, startReply } from "./helpers.js";
import type { Emulator } from "../../src/emulator/emulator.js";

const parse = <T>(text: string) => JSON.parse(text) as T;

function prompter(server: Emulator, chatId: string, parentId: string | null, content: string, cookie?: string) {
  return postJson(server, "/api/chat/prompter_message", { chat_id: chatId, parent_id: parentId, content }, cookie ? { cookie } : {});
}

function assistant(server: Emulator, chatId: string, parentId: string) {
  return postJson(server, "/api/chat/assistant_message", { chat_id: chatId, parent_id: parentId, model_config_name: MODEL });
}

/** Reads the reply's event stream to its end; the final event's message. */
async function finish(server: Emulator, chatId: string, messageId: string): Promise<MessageRead> {
  const events = await http(server, "GET", `/api/chat/events?chat_id=${chatId}&message_id=${messageId}`);
  return parse<{ message: MessageRead }>(dataPayloads(events.body).at(-1)!).message;
}

const readChat = async (server: Emulator, chatId: string) => parse<ChatRead>((await http(server, "GET", `/api/chat?chat_id=${chatId}`)).text);
const put = (server: Emulator, body: unknown) =>
  http(server, "PUT", "/api/chat", { headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("continuing a chat", () => {
  it("a prompter message under the complete reply continues it; the next reply is made from the new message", async () => {
    const server = await emulator({ replyTokens: 6 });
    const first = await startReply(server, "Hello");
    const firstReply = await finish(server, first.chatId, first.assistant.id);
    expect(firstReply).toMatchObject({ state: "complete", content: server.expectedReply("Hello") });

    const next = await prompter(server, first.chatId, first.assistant.id, "And then?");
    expect(next.status).toBe(200);
    const nextMessage = parse<MessageRead>(next.text);
    expect(nextMessage).toMatchObject({ parent_id: first.assistant.id, role: "prompter", state: "manual", content: "And then?" });
    const reply = parse<MessageRead>((await assistant(server, first.chatId, nextMessage.id)).text);
    expect((await finish(server, first.chatId, reply.id)).content).toBe(server.expectedReply("And then?"));

    const chat = await readChat(server, first.chatId);
    expect(chat.messages.map((message) => [message.role, message.parent_id])).toEqual([
      ["prompter", null],
      ["assistant", first.prompterId],
      ["prompter", first.assistant.id],
      ["assistant", nextMessage.id],
    ]);
    // The first message named the chat; the server never moves the thread tail by itself.
    expect(chat).toMatchObject({ title: "Hello", active_thread_tail_message_id: null, modified_at: nextMessage.created_at });
  });

  it("refuses parents that are not a complete assistant message of the chat, with the server's texts", async () => {
    const server = await emulator({ replyTokens: 200, tokenDelayMs: 50 });
    const running = await startReply(server, "Slow");
    const done = await startReply(server, "Other chat");
    const message = (text: string) => ({ status: 400, text: JSON.stringify({ message: text }) });
    const answer = async (response: Promise<{ status: number; text: string }>) => {
      const { status, text } = await response;
      return { status, text };
    };
    expect(await answer(prompter(server, running.chatId, running.assistant.id, "too early"))).toEqual(message("Parent message is not complete"));
    expect(await answer(prompter(server, running.chatId, running.prompterId, "under a prompt"))).toEqual(message("Parent message is not an assistant message"));
    // A message of the user's other chat is not in this one.
    expect(await answer(prompter(server, running.chatId, done.assistant.id, "elsewhere"))).toEqual(message("Parent message not found"));
    expect(await answer(prompter(server, running.chatId, null, "again"))).toEqual(message("Trying to add first message to non-empty chat"));
  });

  it("an aborted or cancelled reply is not complete: no prompter message under it, but a regeneration is allowed", async () => {
    const server = await emulator({ faults: ["error-event"], replyTokens: 4 });
    const aborted = await startReply(server, "Breaks");
    expect((await finish(server, aborted.chatId, aborted.assistant.id)).state).toBe("aborted_by_worker");
    const refused = await prompter(server, aborted.chatId, aborted.assistant.id, "after the error");
    expect([refused.status, refused.text]).toEqual([400, '{"message":"Parent message is not complete"}']);
    const again = await assistant(server, aborted.chatId, aborted.prompterId);
    expect([again.status, parse<MessageRead>(again.text).state]).toEqual([200, "pending"]);

    const queued = await emulator({ workerSlots: 1, tokenDelayMs: 50, replyTokens: 100 });
    await startReply(queued, "holds the only slot");
    const first = await startReply(queued, "first");
    await startReply(queued, "second");
    const cancelled = parse<MessageRead>((await http(queued, "GET", `/api/chat/message?chat_id=${first.chatId}&message_id=${first.assistant.id}`)).text);
    expect(cancelled.state).toBe("cancelled");
    const underCancelled = await prompter(queued, first.chatId, first.assistant.id, "x");
    expect([underCancelled.status, underCancelled.text]).toEqual([400, '{"message":"Parent message is not complete"}']);
  });
});

describe("siblings", () => {
  it("a second assistant message on the same prompter is a regeneration: the first is not cancelled, both stay in the chat", async () => {
    const server = await emulator({ replyTokens: 30, tokenDelayMs: 5 });
    const started = await startReply(server, "Regenerate me");
    const second = await assistant(server, started.chatId, started.prompterId);
    expect(second.status).toBe(200);
    const regenerated = parse<MessageRead>(second.text);
    expect(regenerated).toMatchObject({ parent_id: started.prompterId, state: "pending" });
    const [a, b] = await Promise.all([finish(server, started.chatId, started.assistant.id), finish(server, started.chatId, regenerated.id)]);
    expect([a.state, b.state]).toEqual(["complete", "complete"]);
    // Replies depend only on the prompt: a regeneration repeats the text.
    expect(b.content).toBe(a.content);
    const chat = await readChat(server, started.chatId);
    expect(chat.messages.filter((message) => message.parent_id === started.prompterId).map((message) => message.id)).toEqual([
      started.assistant.id,
      regenerated.id,
    ]);
  });

  it("two prompter messages under one assistant message (an edited prompt) both stand, each with its own reply", async () => {
    const server = await emulator({ replyTokens: 5 });
    const started = await startReply(server, "Hi");
    await finish(server, started.chatId, started.assistant.id);
    const ids: string[] = [];
    for (const content of ["Version one", "Version two"]) {
      const response = await prompter(server, started.chatId, started.assistant.id, content);
      expect(response.status).toBe(200);
      const message = parse<MessageRead>(response.text);
      ids.push(message.id);
      const reply = parse<MessageRead>((await assistant(server, started.chatId, message.id)).text);
      expect((await finish(server, started.chatId, reply.id)).content).toBe(server.expectedReply(content));
    }
    const chat = await readChat(server, started.chatId);
    expect(chat.messages.filter((message) => message.parent_id === started.assistant.id).map((message) => message.id)).toEqual(ids);
    expect(chat.messages).toHaveLength(6);
  });
});

describe("PUT /api/chat", () => {
  it("stores the thread tail as given (unchecked); the list never shows it", async () => {
    const server = await emulator({ replyTokens: 3 });
    const started = await startReply(server, "Tail");
    const stored = await put(server, { chat_id: started.chatId, active_thread_tail_message_id: started.assistant.id });
    expect([stored.status, stored.text, stored.headers["content-type"], stored.headers["transfer-encoding"]]).toEqual([200, "", undefined, "chunked"]);
    expect((await readChat(server, started.chatId)).active_thread_tail_message_id).toBe(started.assistant.id);
    expect((await put(server, { chat_id: started.chatId, active_thread_tail_message_id: "not-a-message" })).status).toBe(200);
    expect((await readChat(server, started.chatId)).active_thread_tail_message_id).toBe("not-a-message");
    const list = parse<ListChatsResponse>((await http(server, "GET", "/api/chat")).text);
    expect(list.chats.map((chat) => chat.active_thread_tail_message_id)).toEqual([null]);
  });

  it("absent and null fields leave the chat as it is; an empty title is a title", async () => {
    const server = await emulator();
    const started = await startReply(server, "Named");
    expect((await put(server, { chat_id: started.chatId })).status).toBe(200);
    expect((await put(server, { chat_id: started.chatId, title: null, hidden: null })).status).toBe(200);
    expect(await readChat(server, started.chatId)).toMatchObject({ title: "Named", hidden: false, allow_data_use: true });
    expect((await put(server, { chat_id: started.chatId, title: "" })).status).toBe(200);
    expect((await readChat(server, started.chatId)).title).toBe("");
  });

  it("hidden chats leave the list unless include_hidden=true, and can still be read and continued", async () => {
    const server = await emulator({ replyTokens: 3 });
    const visible = await startReply(server, "Visible");
    const hidden = await startReply(server, "Hidden");
    await finish(server, hidden.chatId, hidden.assistant.id);
    expect((await put(server, { chat_id: hidden.chatId, hidden: true, title: "Renamed" })).status).toBe(200);
    const ids = async (query: string) => parse<ListChatsResponse>((await http(server, "GET", `/api/chat${query}`)).text).chats.map((chat) => chat.id);
    expect(await ids("")).toEqual([visible.chatId]);
    expect(await ids("?include_hidden=false")).toEqual([visible.chatId]);
    expect(await ids("?include_hidden=true")).toEqual([hidden.chatId, visible.chatId]);
    expect(await readChat(server, hidden.chatId)).toMatchObject({ title: "Renamed", hidden: true });
    expect((await prompter(server, hidden.chatId, hidden.assistant.id, "still here")).status).toBe(200);
    expect((await put(server, { chat_id: hidden.chatId, hidden: false })).status).toBe(200);
    expect(await ids("")).toEqual([hidden.chatId, visible.chatId]);
  });

  it("another user's chat is a 500 text, as every upstream failure of this route", async () => {
    const server = await emulator();
    const started = await startReply(server, "Mine");
    const other = server.addSession();
    const response = await http(server, "PUT", "/api/chat", {
      headers: { "content-type": "application/json", cookie: other.cookie },
      body: JSON.stringify({ chat_id: started.chatId, title: "Theirs" }),
    });
    expect([response.status, response.text]).toEqual([500, "Internal Server Error"]);
    expect((await readChat(server, started.chatId)).title).toBe("Mine");
  });
});

describe("POST /api/chat/vote", () => {
  it("sets the score of an assistant message, whatever its state; the chat id is not checked", async () => {
    const server = await emulator({ replyTokens: 50, tokenDelayMs: 20 });
    const started = await startReply(server, "Vote");
    for (const [chatId, score] of [
      [started.chatId, -1],
      ["another-chat", 0],
      [started.chatId, 1],
    ] as const) {
      const vote = await postJson(server, "/api/chat/vote", { chat_id: chatId, message_id: started.assistant.id, score });
      expect([vote.status, vote.text]).toEqual([200, '""']);
      const read = parse<MessageRead>((await http(server, "GET", `/api/chat/message?chat_id=${started.chatId}&message_id=${started.assistant.id}`)).text);
      expect(read.score).toBe(score);
    }
  });

  it('refuses other scores with the website\'s own 400 "Invalid score": Content-Length, no content-type', async () => {
    const server = await emulator();
    const started = await startReply(server, "Vote");
    for (const score of [2, "1", null, 0.5]) {
      const vote = await postJson(server, "/api/chat/vote", { chat_id: started.chatId, message_id: started.assistant.id, score });
      expect([vote.status, vote.statusMessage, vote.text]).toEqual([400, "Bad Request", "Invalid score"]);
      expect([vote.headers["content-length"], vote.headers["content-type"], vote.headers["transfer-encoding"]]).toEqual(["13", undefined, undefined]);
    }
  });

  it("a prompter message, an unknown one or another user's is an upstream failure: 500 text", async () => {
    const server = await emulator();
    const started = await startReply(server, "Vote");
    const other = server.addSession();
    for (const [messageId, cookie] of [
      [started.prompterId, server.cookie],
      ["0188e8e8-0000-7000-8000-000000000000", server.cookie],
      [started.assistant.id, other.cookie],
    ] as const) {
      const vote = await postJson(server, "/api/chat/vote", { chat_id: started.chatId, message_id: messageId, score: 1 }, { cookie });
      expect([vote.status, vote.text]).toEqual([500, "Internal Server Error"]);
    }
  });
});

describe("GET /api/chat/plugins", () => {
  it("lists the server's three built-in plugins with their configs, on any method; 403 without a session", async () => {
    const server = await emulator();
    const response = await http(server, "GET", "/api/chat/plugins");
    expect([response.status, response.headers["content-type"]]).toEqual([200, "application/json; charset=utf-8"]);
    const plugins = parse<PluginEntryRead[]>(response.text);
    expect(plugins.map((plugin) => plugin.url)).toEqual([
      "http://localhost:8000/plugins/gale_pleaser/ai-plugin.json",
      "http://localhost:8000/plugins/gale_roaster/ai-plugin.json",
      "http://localhost:8000/plugins/web_retriever/ai-plugin.json",
    ]);
    expect(Object.keys(plugins[0]!)).toEqual(["url", "enabled", "plugin_config", "trusted"]);
    expect(plugins[0]).toMatchObject({
      enabled: true,
      trusted: true,
      plugin_config: {
        name_for_human: "Super Aligned GAGLETO",
        api: { type: "openapi", url: "http://localhost:8000/plugins/gale_pleaser/openapi.json", has_user_authentication: false, is_user_authenticated: false },
        auth: { type: "none" },
        logo_url: "http://localhost:8000/plugins/gale_pleaser/icon.png",
        endpoints: null,
      },
    });
    expect(plugins[1]!.plugin_config!.logo_url).toBe("https://upload.wikimedia.org/wikipedia/en/9/9a/Trollface_non-free.png");
    expect((await http(server, "POST", "/api/chat/plugins")).text).toBe(response.text);
    const anonymous = await http(server, "GET", "/api/chat/plugins", { cookie: false });
    expect([anonymous.status, anonymous.text]).toEqual([403, ""]);
  });
});
