/**
 * The client's calls for conversations (updateChat, vote, listPlugins, the assistant
 * message's instructions) against the emulator, and what they refuse before any request.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, OpenAssistantClient, ProtocolError, ServerError, type Vote } from "../../src/index.js";
import { startEmulator, type Emulator } from "../../src/emulator/index.js";

const MODEL = "OA_SFT_Llama_30B_6";
let server: Emulator | undefined;
let client: OpenAssistantClient | undefined;
afterEach(async () => {
  await client?.close();
  await server?.stop();
  client = server = undefined;
});

async function setUp(): Promise<{ server: Emulator; client: OpenAssistantClient }> {
  server = await startEmulator({ quiet: true, replyTokens: 4 });
  client = new OpenAssistantClient({ baseUrl: server.url, cookies: server.cookies, env: {} });
  return { server, client };
}

async function replied(client: OpenAssistantClient, content = "Hello") {
  const chat = await client.createChat();
  const prompter = await client.postPrompterMessage({ chat_id: chat.id, parent_id: null, content });
  const assistant = await client.postAssistantMessage({ chat_id: chat.id, parent_id: prompter.id, model_config_name: MODEL });
  for await (const event of client.streamEvents({ chatId: chat.id, messageId: assistant.id })) void event;
  return { chat, prompter, assistant };
}

describe("updateChat", () => {
  it("sends only the fields given, under the server's names, and the chat shows them", async () => {
    const { server, client } = await setUp();
    const { chat, assistant } = await replied(client);
    await client.updateChat({ chatId: chat.id, title: "Renamed", hidden: true, allowDataUse: false, activeThreadTailMessageId: assistant.id });
    await client.updateChat({ chatId: chat.id, hidden: false });
    const bodies = server.requests.filter((request) => request.method === "PUT").map((request) => JSON.parse(request.body) as unknown);
    expect(bodies).toEqual([
      { chat_id: chat.id, title: "Renamed", hidden: true, allow_data_use: false, active_thread_tail_message_id: assistant.id },
      { chat_id: chat.id, hidden: false },
    ]);
    expect(await client.getChat(chat.id)).toMatchObject({
      title: "Renamed",
      hidden: false,
      allow_data_use: false,
      active_thread_tail_message_id: assistant.id,
    });
  });

  it("refuses a title over 100 characters before sending (the server's limit, in code points)", async () => {
    const { server, client } = await setUp();
    const chat = await client.createChat();
    await client.updateChat({ chatId: chat.id, title: "🙂".repeat(100) });
    const error = await client.updateChat({ chatId: chat.id, title: "x".repeat(101) }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).summary).toBe("The chat title is 101 characters long");
    expect(server.requests.filter((request) => request.method === "PUT")).toHaveLength(1);
  });

  it("an unknown chat: a ServerError 500 saying what a 500 means on this route", async () => {
    const { client } = await setUp();
    const error = await client.updateChat({ chatId: "no-such-chat", title: "x" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ status: 500, chatId: "no-such-chat", summary: "PUT /api/chat failed (HTTP 500: Internal Server Error)" });
    expect((error as ServerError).hint).toMatch(/chat does not exist/);
  });
});

describe("vote", () => {
  it("sets the assistant message's score", async () => {
    const { server, client } = await setUp();
    const { chat, assistant } = await replied(client);
    await client.vote({ chatId: chat.id, messageId: assistant.id, score: -1 });
    expect((await client.getMessage(chat.id, assistant.id)).score).toBe(-1);
    expect(JSON.parse(server.requests.find((request) => request.path === "/api/chat/vote")!.body)).toEqual({
      chat_id: chat.id,
      message_id: assistant.id,
      score: -1,
    });
  });

  it("refuses scores other than -1, 0 and 1 before sending", async () => {
    const { server, client } = await setUp();
    const vote = { chatId: "c", messageId: "m", score: 2 } as unknown as Vote;
    await expect(client.vote(vote)).rejects.toBeInstanceOf(ConfigError);
    expect(server.requests).toHaveLength(0);
  });

  it("a prompter message: a ServerError 500 saying what a 500 means on this route", async () => {
    const { client } = await setUp();
    const { chat, prompter } = await replied(client);
    const error = await client.vote({ chatId: chat.id, messageId: prompter.id, score: 1 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ServerError);
    expect((error as ServerError).hint).toMatch(/not an assistant message of this account/);
  });
});

describe("listPlugins", () => {
  it("gives the built-in plugins with their configs", async () => {
    const { client } = await setUp();
    const plugins = await client.listPlugins();
    expect(plugins.map((plugin) => plugin.plugin_config?.name_for_human)).toEqual(["Super Aligned GAGLETO", "Unaligned GAGLETO", "Web Retriever"]);
  });

  it("a ProtocolError for an answer that is not a list of plugins", async () => {
    for (const [body, summary] of [
      ['{"plugins":[]}', "GET /api/chat/plugins did not answer a list"],
      ['[{"enabled":true}]', 'GET /api/chat/plugins answered a plugin without "url"'],
    ]) {
      const fake = new OpenAssistantClient({ baseUrl: "http://site.test", env: {}, fetch: async () => new Response(body, { status: 200 }) });
      const error = await fake.listPlugins().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).summary).toBe(summary);
    }
  });
});

describe("postAssistantMessage", () => {
  it("sends system_prompt, user_profile and user_response_instructions; the server keeps them in the work parameters", async () => {
    const { client } = await setUp();
    const chat = await client.createChat();
    const prompter = await client.postPrompterMessage({ chat_id: chat.id, parent_id: null, content: "Hi" });
    const assistant = await client.postAssistantMessage({
      chat_id: chat.id,
      parent_id: prompter.id,
      model_config_name: MODEL,
      system_prompt: "Be brief.",
      user_profile: "A tester.",
      user_response_instructions: "Answer in English.",
    });
    expect(assistant.work_parameters).toMatchObject({
      system_prompt: "Be brief.",
      user_profile: "A tester.",
      user_response_instructions: "Answer in English.",
    });
  });
});
