import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { OpenAssistantClient } from "../../src/client/client.js";
import { CHAT_ID_HEADER } from "../../src/gateway/index.js";
import { eventually, MODEL, setup } from "./gateway-harness.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function storeFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "oasst-gateway-conversations-"));
  dirs.push(dir);
  return join(dir, "conversations.json");
}

type ChatMessage = { role: "system" | "user" | "assistant"; content: string };

describe("oasst serve --conversations", () => {
  it("two turns with the openai client make one chat of four messages; the second turn is sent alone", async () => {
    const { emulator, openai, prompts } = await setup({ replyTokens: 5 }, { conversations: { file: storeFile() } });
    const client = openai();
    const history: ChatMessage[] = [{ role: "user", content: "first turn" }];
    const first = await client.chat.completions.create({ model: MODEL, messages: history }).withResponse();
    const chatId = first.response.headers.get(CHAT_ID_HEADER);
    expect(chatId).toEqual(expect.any(String));
    history.push({ role: "assistant", content: first.data.choices[0]!.message.content! }, { role: "user", content: "second turn" });
    // The second turn streams: the same rules hold.
    const second = await client.chat.completions.create({ model: MODEL, messages: history, stream: true }).withResponse();
    let text = "";
    for await (const chunk of second.data) text += chunk.choices[0]?.delta.content ?? "";
    expect(second.response.headers.get(CHAT_ID_HEADER)).toBe(chatId);
    expect(text).toBe(emulator.expectedReply("second turn"));
    expect(prompts()).toEqual(["first turn", "second turn"]);
    expect(emulator.liveChats()).toBe(1);
    const api = new OpenAssistantClient({ baseUrl: emulator.url, cookies: emulator.cookie });
    const chat = await api.getChat(chatId!);
    await api.close();
    expect(chat.messages.map((message) => message.role)).toEqual(["prompter", "assistant", "prompter", "assistant"]);
  });

  it("an edited earlier turn branches beside the original, in the same chat", async () => {
    const { emulator, openai } = await setup({ replyTokens: 4 }, { conversations: {} });
    const client = openai();
    const ask = async (messages: ChatMessage[]) => (await client.chat.completions.create({ model: MODEL, messages })).choices[0]!.message.content!;
    const a1 = await ask([{ role: "user", content: "u1" }]);
    const a2 = await ask([
      { role: "user", content: "u1" },
      { role: "assistant", content: a1 },
      { role: "user", content: "u2" },
    ]);
    expect(a2).toBe(emulator.expectedReply("u2"));
    await ask([
      { role: "user", content: "u1" },
      { role: "assistant", content: a1 },
      { role: "user", content: "u2, edited" },
    ]);
    const prompters = emulator.requests
      .filter((request) => request.path === "/api/chat/prompter_message")
      .map((request) => JSON.parse(request.body) as { parent_id: string | null });
    expect(prompters).toHaveLength(3);
    // Both follow-ups hang under the first reply: siblings.
    expect(prompters[2]!.parent_id).toBe(prompters[1]!.parent_id);
    expect(emulator.liveChats()).toBe(1);
  });

  it("survives a restart through its file, and a chat deleted on the site starts anew with the whole history", async () => {
    const file = storeFile();
    const one = await setup({ replyTokens: 4 }, { conversations: { file } });
    const reply = (await one.openai().chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "u1" }] })).choices[0]!.message.content!;
    await one.gateway.close(); // writes the store
    expect(readFileSync(file, "utf8")).not.toContain("u1");
    const history: ChatMessage[] = [
      { role: "user", content: "u1" },
      { role: "assistant", content: reply },
      { role: "user", content: "u2" },
    ];
    // A second gateway on the same site and account, with the same file.
    const { serveGateway } = await import("../../src/gateway/index.js");
    const again = await serveGateway({ port: 0, baseUrl: one.emulator.url, cookies: one.emulator.cookie, env: {}, conversations: { file } });
    try {
      const client = new (await import("openai")).default({ baseURL: `${again.url}/v1`, apiKey: "x", maxRetries: 0 });
      await client.chat.completions.create({ model: MODEL, messages: history });
      expect(one.prompts()).toEqual(["u1", "u2"]);
      // Deleted behind the gateway's back: the follow-up is not lost, it starts a new chat.
      const chats = new OpenAssistantClient({ baseUrl: one.emulator.url, cookies: one.emulator.cookie });
      for (const chat of (await chats.listChats()).chats) await chats.deleteChat(chat.id);
      await chats.close();
      const reply2 = history.concat({ role: "assistant", content: one.emulator.expectedReply("u2") }, { role: "user", content: "u3" });
      const answer = await client.chat.completions.create({ model: MODEL, messages: reply2 });
      expect(answer.choices[0]!.message.content).toBe(one.emulator.expectedReply(one.prompts().at(-1)!));
      expect(one.prompts().at(-1)).toContain("User: u3");
      expect(one.emulator.liveChats()).toBe(1);
    } finally {
      await again.close();
    }
  });

  it("a chat unused for the TTL is deleted on the site", async () => {
    const { emulator, openai } = await setup({ replyTokens: 3 }, { conversations: { ttlMs: 200 } });
    await openai().chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "short-lived" }] });
    expect(emulator.liveChats()).toBe(1);
    await eventually(() => emulator.liveChats() === 0, "the expired chat is deleted", 5_000);
  });

  it("without the flag nothing is kept, as before", async () => {
    const { emulator, openai } = await setup({ replyTokens: 3 });
    const result = await openai()
      .chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    expect(result.response.headers.get(CHAT_ID_HEADER)).toEqual(expect.any(String));
    await eventually(() => emulator.liveChats() === 0, "the chat is deleted");
  });
});
