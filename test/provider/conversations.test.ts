import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, OpenAssistant, OpenAssistantClient, StreamError, type Conversation, type OpenAssistantOptions } from "../../src/index.js";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/index.js";

const MODEL = "OA_SFT_Llama_30B_6";

const running: Emulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.stop()));
});

async function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const server = await startEmulator({ quiet: true, replyTokens: 6, ...options });
  running.push(server);
  return server;
}

/** The bodies the server got on `path`, in order. */
function posted(server: Emulator, path: string): Array<Record<string, unknown>> {
  return server.requests
    .filter((request) => request.path === path && request.method === "POST")
    .map((request) => JSON.parse(request.body) as Record<string, unknown>);
}

/** One call that keeps its chat; returns the reply and the handle that continues it. */
async function turn(server: Emulator, options: OpenAssistantOptions, messages: Parameters<typeof OpenAssistant.createAsync>[1]) {
  let handle: Conversation | undefined;
  const text = await OpenAssistant.createAsync(MODEL, messages, {
    baseUrl: server.url,
    cookies: server.cookies,
    ...options,
    onConversation: (conversation) => (handle = conversation),
  });
  return { text, handle };
}

describe("conversations", () => {
  it('"new" keeps the chat; the handle continues it with the new user message alone, under the last reply', async () => {
    const server = await emulator();
    const first = await turn(server, { conversation: "new" }, [{ role: "user", content: "first question" }]);
    expect(first.text).toBe(server.expectedReply("first question"));
    expect(first.handle).toEqual({ chatId: expect.any(String), messageId: expect.any(String), parentId: expect.any(String) });
    expect(server.liveChats()).toBe(1);

    // An OpenAI-style caller sends the whole history: only the last message is posted.
    const history = [
      { role: "user", content: "first question" },
      { role: "assistant", content: first.text },
      { role: "user", content: "second question" },
    ];
    const second = await turn(server, { conversation: first.handle }, history);
    expect(second.text).toBe(server.expectedReply("second question"));
    expect(second.handle?.chatId).toBe(first.handle?.chatId);
    expect(server.requests.filter((request) => request.method === "POST" && request.path === "/api/chat")).toHaveLength(1);
    expect(posted(server, "/api/chat/prompter_message").at(-1)).toMatchObject({ parent_id: first.handle?.messageId, content: "second question" });
    expect(server.liveChats()).toBe(1);

    const client = new OpenAssistantClient({ baseUrl: server.url, cookies: server.cookies });
    const chat = await client.getChat(first.handle!.chatId);
    await client.close();
    expect(chat.messages.map((message) => message.role)).toEqual(["prompter", "assistant", "prompter", "assistant"]);
  });

  it("regenerate posts another reply to the same user message, and no prompter message", async () => {
    const server = await emulator();
    const first = await turn(server, { conversation: "new" }, [{ role: "user", content: "pick a number" }]);
    const prompters = posted(server, "/api/chat/prompter_message").length;
    const again = await turn(server, { conversation: first.handle, regenerate: true }, []);
    expect(posted(server, "/api/chat/prompter_message")).toHaveLength(prompters);
    expect(posted(server, "/api/chat/assistant_message").at(-1)).toMatchObject({ parent_id: first.handle?.parentId });
    expect(again.handle).toMatchObject({ chatId: first.handle?.chatId, parentId: first.handle?.parentId });
    expect(again.handle?.messageId).not.toBe(first.handle?.messageId);
    expect(again.text).toBe(server.expectedReply("pick a number"));
  });

  it("system messages go to system_prompt, not into the prompter message", async () => {
    const server = await emulator();
    await turn(server, { conversation: "new" }, [
      { role: "system", content: "Answer in French." },
      { role: "user", content: "Hello" },
    ]);
    expect(posted(server, "/api/chat/prompter_message").at(-1)).toMatchObject({ content: "Hello" });
    expect(posted(server, "/api/chat/assistant_message").at(-1)).toMatchObject({ system_prompt: "Answer in French." });
  });

  it("without a conversation nothing changes: the chat is deleted, no system_prompt is sent", async () => {
    const server = await emulator();
    const { handle } = await turn(server, {}, [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hello" },
    ]);
    expect(handle).toBeUndefined();
    expect(server.liveChats()).toBe(0);
    expect(posted(server, "/api/chat/assistant_message").at(-1)).not.toHaveProperty("system_prompt");
  });

  it("a continued chat is kept when its reply fails or is left, and the old handle still continues it", async () => {
    const server = await emulator();
    const first = await turn(server, { conversation: "new" }, [{ role: "user", content: "one" }]);
    // The server refuses the parent: the chat holds the history, so it stays.
    await expect(turn(server, { conversation: { ...first.handle!, messageId: "no-such-message" } }, [{ role: "user", content: "two" }])).rejects.toThrow(
      /Parent message not found/,
    );
    const controller = new AbortController();
    const left = OpenAssistant.createAsyncGenerator(MODEL, [{ role: "user", content: "two" }], {
      baseUrl: server.url,
      cookies: server.cookies,
      conversation: first.handle,
      signal: controller.signal,
    });
    controller.abort();
    await expect(left.next()).rejects.toThrow();
    expect(server.liveChats()).toBe(1);
    const third = await turn(server, { conversation: first.handle }, [{ role: "user", content: "three" }]);
    expect(third.text).toBe(server.expectedReply("three"));
  });

  it('a "new" chat whose reply fails is deleted: there is nothing to continue', async () => {
    const server = await emulator({ faults: ["error-event"] });
    let handle: Conversation | undefined;
    const run = OpenAssistant.createAsync(MODEL, [{ role: "user", content: "x" }], {
      baseUrl: server.url,
      cookies: server.cookies,
      conversation: "new",
      onConversation: (conversation) => (handle = conversation),
    });
    await expect(run).rejects.toBeInstanceOf(StreamError);
    expect(handle).toBeUndefined();
    expect(server.liveChats()).toBe(0);
  });

  it("refuses a broken handle, a regenerate without one, and a history that does not end with the user, before sending anything", async () => {
    const server = await emulator();
    const cases: OpenAssistantOptions[] = [
      { conversation: { chatId: "c" } as unknown as Conversation },
      { conversation: "yes" as unknown as "new" },
      { regenerate: true },
      { conversation: "new", regenerate: true },
    ];
    for (const options of cases) {
      await expect(turn(server, options, [{ role: "user", content: "hi" }])).rejects.toBeInstanceOf(ConfigError);
    }
    const handle = { chatId: "c", messageId: "m", parentId: "p" };
    await expect(turn(server, { conversation: handle }, [{ role: "assistant", content: "hi" }])).rejects.toThrow(/user message last/);
    expect(server.requests).toHaveLength(0);
  });
});
