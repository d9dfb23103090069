/**
 * Conversations against the real stack: the provider continues a kept chat and
 * regenerates a reply, and `serveGateway({ conversations })` turns the openai client's
 * whole-history requests into one chat on the site, each follow-up sent alone.
 * The fake worker answers "You said: <the thread's last prompter message>…".
 */
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { serveGateway } from "../../src/gateway/index.js";
import { OpenAssistant, OpenAssistantClient, type Conversation, type MessageRead } from "../../src/index.js";
import { MODEL, chatIds, realStack, userCookie } from "./stack.js";

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

function client(cookie: string): OpenAssistantClient {
  const api = new OpenAssistantClient({ baseUrl: realStack().website, cookies: cookie });
  stops.push(() => api.close());
  return api;
}

async function messagesOf(cookie: string, chatId: string): Promise<MessageRead[]> {
  return (await client(cookie).getChat(chatId)).messages;
}

describe("the provider's conversations on the real stack", () => {
  it("a kept chat continues with the new message alone, and a regeneration is a sibling reply", async () => {
    const cookie = await userCookie("conv");
    let handle: Conversation | undefined;
    const options = { baseUrl: realStack().website, cookies: cookie, env: {}, onConversation: (kept: Conversation) => (handle = kept) };
    const first = await OpenAssistant.createAsync(MODEL, [{ role: "user", content: "first question [[fake:tokens=2]]" }], { ...options, conversation: "new" });
    expect(first).toMatch(/^You said: first question/);
    const firstHandle = handle!;
    const second = await OpenAssistant.createAsync(MODEL, [{ role: "user", content: "second question [[fake:tokens=2]]" }], {
      ...options,
      conversation: firstHandle,
    });
    expect(second).toMatch(/^You said: second question/);
    const again = await OpenAssistant.createAsync(MODEL, [], { ...options, conversation: handle!, regenerate: true });
    expect(again).toMatch(/^You said: second question/);
    expect(handle!.chatId).toBe(firstHandle.chatId);

    const messages = await messagesOf(cookie, firstHandle.chatId);
    const prompters = messages.filter((message) => message.role === "prompter");
    const assistants = messages.filter((message) => message.role === "assistant");
    expect(prompters).toHaveLength(2);
    expect(assistants).toHaveLength(3);
    const secondPrompter = prompters.find((message) => message.parent_id === firstHandle.messageId);
    expect(secondPrompter?.content).toBe("second question [[fake:tokens=2]]");
    expect(assistants.filter((message) => message.parent_id === secondPrompter?.id)).toHaveLength(2);
    expect(await chatIds(cookie)).toEqual([firstHandle.chatId]);
    await client(cookie).deleteChat(firstHandle.chatId);
  });
});

describe("serveGateway({ conversations }) with the openai client", () => {
  it("two turns make one chat of four messages, the second turn sent alone; an edited turn makes a sibling branch", async () => {
    const cookie = await userCookie("gwconv");
    const served = await serveGateway({ port: 0, baseUrl: realStack().website, cookies: cookie, maxRetries: 0, env: {}, conversations: {} });
    stops.push(() => served.close());
    const openai = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: "unused", maxRetries: 0 });
    type Turn = { role: "user" | "assistant"; content: string };
    const ask = async (messages: Turn[]) => {
      const { data, response } = await openai.chat.completions.create({ model: MODEL, messages }).withResponse();
      return { text: data.choices[0]?.message.content ?? "", chatId: response.headers.get("x-oasst-chat-id") };
    };
    const u1 = "the first turn [[fake:tokens=2]]";
    const first = await ask([{ role: "user", content: u1 }]);
    const history: Turn[] = [
      { role: "user", content: u1 },
      { role: "assistant", content: first.text },
    ];
    const second = await ask([...history, { role: "user", content: "the second turn [[fake:tokens=2]]" }]);
    expect(second.chatId).toBe(first.chatId);
    expect(second.text).toMatch(/^You said: the second turn/);

    let messages = await messagesOf(cookie, first.chatId!);
    expect(messages).toHaveLength(4);
    const prompters = messages.filter((message) => message.role === "prompter");
    expect(prompters.map((message) => message.content).sort()).toEqual(["the first turn [[fake:tokens=2]]", "the second turn [[fake:tokens=2]]"]);

    const edited = await ask([...history, { role: "user", content: "the second turn, edited [[fake:tokens=2]]" }]);
    expect(edited.chatId).toBe(first.chatId);
    expect(edited.text).toMatch(/^You said: the second turn, edited/);
    messages = await messagesOf(cookie, first.chatId!);
    expect(messages).toHaveLength(6);
    const firstReply = messages.find((message) => message.role === "assistant" && message.parent_id === prompters.find((p) => p.parent_id === null)?.id);
    expect(messages.filter((message) => message.role === "prompter" && message.parent_id === firstReply?.id)).toHaveLength(2);
    expect(await chatIds(cookie)).toEqual([first.chatId]);
    await client(cookie).deleteChat(first.chatId!);
  });
});
