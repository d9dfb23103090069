/** The provider (OpenAssistant) and the protocol client against the real stack. */
import { describe, expect, it } from "vitest";
import { OpenAssistant, OpenAssistantClient, StreamError, type OpenAssistantWarning } from "../../src/index.js";
import type { ChatEvent } from "../../src/client/wire-types.js";
import { MODEL, chatIds, realStack, userCookie, waitForNoChats } from "./stack.js";

function options(cookies: string, warnings: OpenAssistantWarning[] = []) {
  return { baseUrl: realStack().website, cookies, env: {}, maxRetries: 0, onWarning: (warning: OpenAssistantWarning) => warnings.push(warning) };
}

describe("the seed example", () => {
  it("createAsyncGenerator streams the reply, then the chat is deleted", async () => {
    const cookies = await userCookie();
    const warnings: OpenAssistantWarning[] = [];
    const parts: string[] = [];
    for await (const text of OpenAssistant.createAsyncGenerator(MODEL, [{ role: "user", content: "hello" }], options(cookies, warnings))) {
      expect(typeof text).toBe("string");
      parts.push(text);
    }
    const reply = parts.join("");
    expect(parts.length).toBeGreaterThan(1);
    expect(reply).toMatch(/^You said: /);
    expect(reply).toContain("hello");
    expect(reply).toContain("über 日本語 🙂 lorem ipsum");
    await waitForNoChats(cookies);
    expect(warnings).toEqual([]);
    const client = new OpenAssistantClient({ baseUrl: realStack().website, cookies, env: {} });
    try {
      expect((await client.listChats()).chats).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it("createAsync gives the whole reply as one string", async () => {
    const cookies = await userCookie();
    const reply = await OpenAssistant.createAsync(MODEL, [{ role: "user", content: "hello [[fake:tokens=5]]" }], options(cookies));
    expect(reply).toMatch(/^You said: /);
    expect(reply).toContain("hello");
    expect(reply.endsWith("lorem ipsum dolor sit amet")).toBe(true);
    await waitForNoChats(cookies);
  });

  it("streamEvents yields one token event per token, then the final message event", async () => {
    const cookies = await userCookie();
    const events: ChatEvent[] = [];
    for await (const event of OpenAssistant.streamEvents(MODEL, [{ role: "user", content: "hello [[fake:tokens=4]]" }], options(cookies))) events.push(event);
    const tokens = events.filter((event) => event.event_type === "token");
    const last = events.at(-1);
    expect(tokens.length).toBeGreaterThan(4);
    expect(last?.event_type).toBe("message");
    if (last?.event_type !== "message") throw new Error("no final message event");
    expect(last.message.role).toBe("assistant");
    expect(last.message.state).toBe("complete");
    // The worker's tokens concatenate to the stored content.
    expect(tokens.map((event) => (event.event_type === "token" ? event.text : "")).join("")).toBe(last.message.content);
    expect(last.message.content).toMatch(/^You said: .*hello/s);
    await waitForNoChats(cookies);
  });

  it("streamEventBatches carries the same events, grouped per network read", async () => {
    const cookies = await userCookie();
    const batches: ChatEvent[][] = [];
    for await (const batch of OpenAssistant.streamEventBatches(MODEL, [{ role: "user", content: "batches [[fake:tokens=3]]" }], options(cookies)))
      batches.push([...batch]);
    const events = batches.flat();
    expect(events.at(-1)?.event_type).toBe("message");
    expect(events.filter((event) => event.event_type === "token").length).toBeGreaterThan(3);
    await waitForNoChats(cookies);
  });

  it("a conversation of several messages reaches the model as gpt4free's prompt", async () => {
    const cookies = await userCookie();
    const reply = await OpenAssistant.createAsync(
      MODEL,
      [
        { role: "user", content: "Name a planet. [[fake:tokens=1]]" },
        { role: "assistant", content: "Mars." },
        { role: "user", content: "Another one?" },
      ],
      options(cookies),
    );
    expect(reply).toContain("User: Name a planet.");
    expect(reply).toContain("Assistant: Mars.");
    expect(reply).toContain("User: Another one?");
    await waitForNoChats(cookies);
  });

  it("onEvent and onRequest see the real protocol: chat, prompter, assistant, events, delete", async () => {
    const cookies = await userCookie();
    const trail: string[] = [];
    const seen: string[] = [];
    await OpenAssistant.createAsync(MODEL, [{ role: "user", content: "trail [[fake:tokens=2]]" }], {
      ...options(cookies),
      onRequest: (entry) => trail.push(`${entry.method} ${new URL(entry.url).pathname} ${entry.status}`),
      onEvent: (event) => seen.push(event.event_type),
    });
    // In this order (other requests may come between them).
    const steps = [
      "POST /api/chat 200",
      "POST /api/chat/prompter_message 200",
      "POST /api/chat/assistant_message 200",
      "POST /api/chat/events 200",
      "DELETE /api/chat 200",
    ];
    expect(steps.map((step) => trail.indexOf(step))).toEqual(steps.map((step) => trail.indexOf(step)).sort((a, b) => a - b));
    expect(steps.filter((step) => !trail.includes(step))).toEqual([]);
    expect(seen).toContain("token");
    expect(seen.at(-1)).toBe("message");
    await waitForNoChats(cookies);
  });
});

describe("error events", () => {
  it("[[fake:error]]: a StreamError with the server's text; the chat is deleted", async () => {
    const cookies = await userCookie();
    const parts: string[] = [];
    let caught: unknown;
    try {
      for await (const text of OpenAssistant.createAsyncGenerator(MODEL, [{ role: "user", content: "boom [[fake:error]]" }], options(cookies)))
        parts.push(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StreamError);
    const error = caught as StreamError;
    expect(error.code).toBe("stream");
    expect(error.serverMessage).toBeTruthy();
    expect(error.message).toContain(error.serverMessage);
    expect(error.chatId).toMatch(/^[0-9a-f-]{36}$/);
    expect(parts.join("")).toMatch(/^You said:/); // the 2 tokens before the error
    await waitForNoChats(cookies);
  });

  it("[[fake:error]] through streamEvents: the error event is yielded, then thrown", async () => {
    const cookies = await userCookie();
    const events: ChatEvent[] = [];
    const run = async () => {
      for await (const event of OpenAssistant.streamEvents(MODEL, [{ role: "user", content: "boom [[fake:error]]" }], options(cookies))) events.push(event);
    };
    const error = await run().then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(StreamError);
    const last = events.at(-1);
    expect(last?.event_type).toBe("error");
    if (last?.event_type !== "error") throw new Error("no error event");
    expect((error as StreamError).serverMessage).toBe(last.error);
    await waitForNoChats(cookies);
  });

  it('[[fake:disconnect]]: StreamError "Aborted due to worker error."; the chat is deleted', async () => {
    const cookies = await userCookie();
    const error = await OpenAssistant.createAsync(MODEL, [{ role: "user", content: "cut [[fake:disconnect]]" }], options(cookies)).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(StreamError);
    expect((error as StreamError).serverMessage).toBe("Aborted due to worker error.");
    await waitForNoChats(cookies);
    // The worker reconnects: the next reply works.
    const next = await OpenAssistant.createAsync(MODEL, [{ role: "user", content: "after [[fake:tokens=2]]" }], options(cookies));
    expect(next).toMatch(/^You said:/);
    await waitForNoChats(cookies);
  });
});

describe("the chat is deleted", () => {
  it("after the consumer breaks out of for await", async () => {
    const cookies = await userCookie();
    const warnings: OpenAssistantWarning[] = [];
    let chatSeen = false;
    for await (const text of OpenAssistant.createAsyncGenerator(
      MODEL,
      [{ role: "user", content: "long [[fake:tokens=40]] [[fake:delay=50]]" }],
      options(cookies, warnings),
    )) {
      expect(text.length).toBeGreaterThan(0);
      chatSeen = (await chatIds(cookies)).length === 1;
      break;
    }
    expect(chatSeen).toBe(true);
    // The chat is deleted once the server has finished the reply (deleting it sooner aborts the worker's other replies).
    await waitForNoChats(cookies);
    expect(warnings.map((warning) => warning.code)).toEqual(["reply_still_running"]);
  });

  it("after an abort mid-reply (AbortError)", async () => {
    const cookies = await userCookie();
    const controller = new AbortController();
    const run = (async () => {
      for await (const _text of OpenAssistant.createAsyncGenerator(MODEL, [{ role: "user", content: "long [[fake:tokens=200]] [[fake:delay=50]]" }], {
        ...options(cookies),
        signal: controller.signal,
      })) {
        controller.abort();
      }
    })();
    const error = await run.then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect((error as Error | null)?.name).toBe("AbortError");
    await waitForNoChats(cookies);
  });

  it("after a normal end, an error and a break, one after another on one user", async () => {
    const cookies = await userCookie();
    await OpenAssistant.createAsync(MODEL, [{ role: "user", content: "one [[fake:tokens=2]]" }], options(cookies));
    await expect(OpenAssistant.createAsync(MODEL, [{ role: "user", content: "two [[fake:error]]" }], options(cookies))).rejects.toBeInstanceOf(StreamError);
    for await (const _text of OpenAssistant.createAsyncGenerator(MODEL, [{ role: "user", content: "three [[fake:tokens=50]]" }], options(cookies))) break;
    await waitForNoChats(cookies);
  });
});

describe("the protocol client", () => {
  it("does the chat by hand: create, prompt, reply, events, read back, delete", async () => {
    const cookies = await userCookie();
    const client = new OpenAssistantClient({ baseUrl: realStack().website, cookies, env: {} });
    try {
      const chat = await client.createChat();
      expect((await client.listChats()).chats.map((item) => item.id)).toEqual([chat.id]);
      const prompt = await client.postPrompterMessage({ chat_id: chat.id, parent_id: null, content: "by hand [[fake:tokens=3]]" });
      const reply = await client.postAssistantMessage({
        chat_id: chat.id,
        parent_id: prompt.id,
        model_config_name: MODEL,
        sampling_parameters: { top_k: 50, top_p: null, typical_p: null, temperature: 0.35, repetition_penalty: 1.1111111111111112, max_new_tokens: 1024 },
        plugins: [],
      });
      const events: ChatEvent[] = [];
      for await (const event of client.streamEvents({ chatId: chat.id, messageId: reply.id })) events.push(event);
      const last = events.at(-1);
      expect(last?.event_type).toBe("message");
      const read = await client.getChat(chat.id);
      // The server orders a chat's messages by creation time, which two messages may share.
      expect(read.messages.map((message) => message.role).sort()).toEqual(["assistant", "prompter"]);
      expect(read.messages.find((message) => message.role === "assistant")?.content).toBe("You said: by hand\n\nüber 日本語 🙂 lorem ipsum dolor");
      // Events of a finished message: the website answers 200 with an empty body.
      const again: ChatEvent[] = [];
      for await (const event of client.streamEvents({ chatId: chat.id, messageId: reply.id })) again.push(event);
      expect(again).toEqual([]);
      await client.deleteChat(chat.id);
      expect((await client.listChats({ includeHidden: true })).chats).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it("listModels has the fake worker's model", async () => {
    const client = new OpenAssistantClient({ baseUrl: realStack().website, cookies: await userCookie(), env: {} });
    try {
      const models = await client.listModels();
      expect(models.map((model) => model.name)).toContain(MODEL);
    } finally {
      await client.close();
    }
  });
});
