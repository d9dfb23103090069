/**
 * The client's conversation calls against the real stack: updateChat, vote, listPlugins and
 * the assistant message's instructions, each as the real website and server take them.
 */
import { afterEach, describe, expect, it } from "vitest";
import { OpenAssistantClient, ServerError } from "../../src/index.js";
import { MODEL, realStack, userCookie } from "./stack.js";

let client: OpenAssistantClient | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

async function newClient(): Promise<OpenAssistantClient> {
  client = new OpenAssistantClient({ baseUrl: realStack().website, cookies: await userCookie("conv"), env: {} });
  return client;
}

describe("conversation calls on the real stack", () => {
  it("continues a chat, regenerates, votes and updates it; the chat reads back as sent", async () => {
    const client = await newClient();
    const chat = await client.createChat();
    const first = await client.postPrompterMessage({ chat_id: chat.id, parent_id: null, content: "One [[fake:tokens=3]]" });
    const reply = await client.postAssistantMessage({
      chat_id: chat.id,
      parent_id: first.id,
      model_config_name: MODEL,
      system_prompt: "Be brief.",
      user_profile: "A tester.",
      user_response_instructions: "Answer in English.",
    });
    expect(reply.work_parameters).toMatchObject({ system_prompt: "Be brief.", user_profile: "A tester.", user_response_instructions: "Answer in English." });
    const regenerated = await client.postAssistantMessage({ chat_id: chat.id, parent_id: first.id, model_config_name: MODEL });
    for (const message of [reply, regenerated]) {
      for await (const event of client.streamEvents({ chatId: chat.id, messageId: message.id })) void event;
    }
    const next = await client.postPrompterMessage({ chat_id: chat.id, parent_id: regenerated.id, content: "Two" });
    await client.vote({ chatId: chat.id, messageId: reply.id, score: -1 });
    await client.vote({ chatId: chat.id, messageId: regenerated.id, score: 1 });
    await client.updateChat({ chatId: chat.id, title: "Two replies", hidden: true, activeThreadTailMessageId: next.id });

    const read = await client.getChat(chat.id);
    expect(read).toMatchObject({ title: "Two replies", hidden: true, allow_data_use: true, active_thread_tail_message_id: next.id });
    const byId = new Map(read.messages.map((message) => [message.id, message]));
    expect(byId.get(reply.id)).toMatchObject({ state: "complete", score: -1, parent_id: first.id });
    expect(byId.get(regenerated.id)).toMatchObject({ state: "complete", score: 1, parent_id: first.id });
    expect(byId.get(next.id)).toMatchObject({ parent_id: regenerated.id });
    expect((await client.listChats()).chats).toEqual([]);
    expect((await client.listChats({ includeHidden: true })).chats.map((listed) => [listed.id, listed.active_thread_tail_message_id])).toEqual([
      [chat.id, null],
    ]);
    await client.deleteChat(chat.id);
  });

  it("updateChat and vote failures: a ServerError 500 with the route's own hint", async () => {
    const client = await newClient();
    const update = await client.updateChat({ chatId: "0188e8e8-0000-7000-8000-000000000000", title: "x" }).catch((caught: unknown) => caught);
    expect(update).toBeInstanceOf(ServerError);
    expect((update as ServerError).hint).toMatch(/chat does not exist/);
    const vote = await client.vote({ chatId: "c", messageId: "0188e8e8-0000-7000-8000-000000000000", score: 1 }).catch((caught: unknown) => caught);
    expect(vote).toBeInstanceOf(ServerError);
    expect((vote as ServerError).status).toBe(500);
  });

  it("listPlugins gives the server's built-in plugins", async () => {
    const client = await newClient();
    const plugins = await client.listPlugins();
    expect(plugins.map((plugin) => plugin.url)).toEqual(
      ["gale_pleaser", "gale_roaster", "web_retriever"].map((name) => `${realStack().inference}/plugins/${name}/ai-plugin.json`),
    );
    expect(plugins.every((plugin) => plugin.enabled && plugin.trusted && plugin.plugin_config?.auth.type === "none")).toBe(true);
  });
});
