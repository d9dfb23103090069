/**
 * Kept chats in the CLI: the interactive session continues one chat (tmux), `oasst chat
 * --keep` and `--continue` (piped), and `oasst chats show`. Child processes of the built
 * binary against the emulator.
 */
import { afterAll, beforeAll, describe, expect } from "vitest";
import { OpenAssistantClient } from "../../src/client/client.js";
import type { ChatRead, MessageRead } from "../../src/client/wire-types.js";
import type { Emulator } from "../../src/emulator/emulator.js";
import { OpenAssistant, type Conversation, type OpenAssistantOptions } from "../../src/index.js";
import { assertBuilt, cliTestWith, runCli, serverEnv, type CliResult, type TempHome } from "./cli-harness.js";
import { stopTmuxServer, TmuxPane } from "./tmux-harness.js";

/**
 * cliTest's home; emulators with short replies (5 tokens); `pane(args, server)`: oasst in a tmux session of its
 * own. All stopped when the test ends: the tests run at once (describe.concurrent), each with its own.
 */
const it = cliTestWith({ replyTokens: 5 }).extend<{ pane: (args: string[], server: Emulator) => Promise<TmuxPane> }>({
  pane: async ({ home }, use) => {
    const panes: TmuxPane[] = [];
    await use(async (args, server) => {
      const started = await TmuxPane.start(args, home, serverEnv(server));
      panes.push(started);
      return started;
    });
    await Promise.all(panes.map((p) => p.kill()));
  },
});

/** The JSON bodies of the requests `METHOD path`, in order. */
function bodies(server: Emulator, method: string, path: string): Array<Record<string, unknown>> {
  return server.requests.filter((r) => r.method === method && r.path === path).map((r) => JSON.parse(r.body) as Record<string, unknown>);
}

const chatsCreated = (server: Emulator) => server.requests.filter((r) => r.method === "POST" && r.path === "/api/chat").length;

async function withClient<T>(server: Emulator, use: (client: OpenAssistantClient) => Promise<T>): Promise<T> {
  const client = new OpenAssistantClient({ baseUrl: server.url, cookies: server.cookies });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

const readChat = (server: Emulator, chatId: string): Promise<ChatRead> => withClient(server, (client) => client.getChat(chatId));

function messagesOf(chat: ChatRead, role: MessageRead["role"]): MessageRead[] {
  return chat.messages.filter((message) => message.role === role);
}

/** The stderr line that names a kept chat. */
const keptLine = (chatId: string) =>
  `Chat ${chatId} is kept: continue it with \`oasst chat --continue ${chatId}\`, delete it with \`oasst chats --delete ${chatId}\`.`;

/** A kept chat made by `oasst chat --keep PROMPT`; its id from the stderr line. */
async function keptChat(home: TempHome, server: Emulator, prompt: string): Promise<string> {
  const result = await runCli(["chat", "--keep", prompt], home, { env: serverEnv(server) });
  expect(result.code).toBe(0);
  const chatId = /^Chat (\S+) is kept/.exec(result.stderr)?.[1];
  if (!chatId) throw new Error(`no kept chat in ${JSON.stringify(result.stderr)}`);
  return chatId;
}

/** One reply through the library, in a kept chat. */
async function libraryTurn(server: Emulator, options: OpenAssistantOptions, content: string | undefined): Promise<Conversation> {
  let handle: Conversation | undefined;
  await OpenAssistant.createAsync("OA_SFT_Llama_30B_6", content === undefined ? [] : [{ role: "user", content }], {
    baseUrl: server.url,
    cookies: server.cookies,
    ...options,
    onConversation: (conversation) => (handle = conversation),
  });
  if (!handle) throw new Error("no handle");
  return handle;
}

function expectTwoLineError(result: CliResult, cause: RegExp, hint: RegExp): void {
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines.at(-2)).toMatch(/^error: /);
  expect(lines.at(-2)).toMatch(cause);
  expect(lines.at(-1)).toMatch(/^hint: /);
  expect(lines.at(-1)).toMatch(hint);
}

beforeAll(() => assertBuilt());
afterAll(() => stopTmuxServer());

describe.concurrent("the interactive session keeps one chat", () => {
  it("two messages make one chat of four messages, the second under the first reply; leaving names the chat", async ({ emulator, pane }) => {
    const server = await emulator();
    const session = await pane(["chat"], server);
    await session.waitFor(/^you> $/m);
    await session.typeLine("Hello there");
    await session.waitFor(`assistant> ${server.expectedReply("Hello there")}`);
    await session.typeLine("And then?");
    await session.waitFor(`assistant> ${server.expectedReply("And then?")}`);
    await session.keys("C-d");
    expect(await session.exitStatus()).toBe(0);

    expect(chatsCreated(server)).toBe(1);
    expect(server.liveChats()).toBe(1);
    const [chatId] = bodies(server, "POST", "/api/chat/prompter_message").map((body) => body.chat_id as string);
    const chat = await readChat(server, chatId!);
    expect(chat.messages).toHaveLength(4);
    const [firstPrompt, secondPrompt] = messagesOf(chat, "prompter");
    const [firstReply, secondReply] = messagesOf(chat, "assistant");
    expect(firstPrompt).toMatchObject({ parent_id: null, content: "Hello there" });
    expect(firstReply).toMatchObject({ parent_id: firstPrompt?.id, state: "complete" });
    expect(secondPrompt).toMatchObject({ parent_id: firstReply?.id, content: "And then?" });
    expect(secondReply).toMatchObject({ parent_id: secondPrompt?.id, state: "complete" });
    expect(await session.capture()).toContain(keptLine(chatId!));
  });

  it("/retry posts another reply to the same message, and the next message goes under the new reply", async ({ emulator, pane }) => {
    const server = await emulator();
    const session = await pane(["chat"], server);
    await session.waitFor(/^you> $/m);
    await session.typeLine("/retry");
    await session.waitFor("There is no reply to retry yet.");
    await session.typeLine("Hi");
    const text = server.expectedReply("Hi");
    await session.waitFor(`assistant> ${text}`);
    await session.typeLine("/retry");
    await session.waitFor(`you> /retry\nassistant> ${text}\n`);
    await session.typeLine("Next");
    await session.waitFor(`assistant> ${server.expectedReply("Next")}`);

    const replies = bodies(server, "POST", "/api/chat/assistant_message");
    expect(replies).toHaveLength(3);
    expect(replies[1]?.parent_id).toBe(replies[0]?.parent_id);
    const chat = await readChat(server, replies[0]?.chat_id as string);
    const [first, retried] = messagesOf(chat, "assistant");
    expect(retried?.parent_id).toBe(first?.parent_id);
    expect(messagesOf(chat, "prompter").map((message) => [message.content, message.parent_id])).toEqual([
      ["Hi", null],
      ["Next", retried?.id],
    ]);
    expect(chatsCreated(server)).toBe(1);
  });

  it("/good and /bad vote on the last reply", async ({ emulator, pane }) => {
    const server = await emulator();
    const session = await pane(["chat"], server);
    await session.waitFor(/^you> $/m);
    await session.typeLine("/good");
    await session.waitFor("There is no reply to vote on yet.");
    await session.typeLine("Hi");
    await session.waitFor(`assistant> ${server.expectedReply("Hi")}`);
    await session.typeLine("/good");
    await session.waitFor("voted: good");
    const [vote] = bodies(server, "POST", "/api/chat/vote");
    const chat = await readChat(server, vote?.chat_id as string);
    const [reply] = messagesOf(chat, "assistant");
    expect(vote).toEqual({ chat_id: chat.id, message_id: reply?.id, score: 1 });
    expect(reply?.score).toBe(1);
    await session.typeLine("/bad");
    await session.waitFor("voted: bad");
    expect(messagesOf(await readChat(server, chat.id), "assistant")[0]?.score).toBe(-1);
  });

  it("/new starts a second chat and the first stays on the site; /reset does the same", async ({ emulator, pane }) => {
    const server = await emulator();
    const session = await pane(["chat"], server);
    await session.waitFor(/^you> $/m);
    await session.typeLine("One");
    await session.waitFor(`assistant> ${server.expectedReply("One")}`);
    const firstChat = bodies(server, "POST", "/api/chat/prompter_message")[0]?.chat_id as string;
    await session.typeLine("/new");
    await session.waitFor(`New chat: your next message starts it. The last one stays on the site: oasst chat --continue ${firstChat}`);
    await session.typeLine("Two");
    await session.waitFor(`assistant> ${server.expectedReply("Two")}`);
    await session.typeLine("/reset");
    await session.waitFor(/New chat: your next message starts it\. The last one stays on the site: oasst chat --continue \S+\nyou> $/m);
    await session.typeLine("Three");
    await session.waitFor(`assistant> ${server.expectedReply("Three")}`);

    expect(chatsCreated(server)).toBe(3);
    expect(server.liveChats()).toBe(3);
    const prompts = bodies(server, "POST", "/api/chat/prompter_message");
    expect(prompts.map((body) => body.parent_id)).toEqual([null, null, null]);
    expect(new Set(prompts.map((body) => body.chat_id)).size).toBe(3);
    await session.typeLine("/exit");
    expect(await session.exitStatus()).toBe(0);
    expect(await session.capture()).toContain(keptLine(prompts[2]?.chat_id as string));
  });

  it("a stopped reply leaves the chat where it was: the next message goes on from the last whole reply", async ({ emulator, pane }) => {
    const server = await emulator({ replyTokens: 40, tokenDelayMs: 25 });
    const session = await pane(["chat"], server);
    await session.waitFor(/^you> $/m);
    await session.typeLine("Hi");
    await session.waitFor(`assistant> ${server.expectedReply("Hi")}`, 15_000);
    await session.typeLine("Tell me a long story");
    await session.waitFor(/you> Tell me a long story\nassistant> \S+/);
    await session.keys("C-c");
    await session.waitFor(/\(reply stopped\)\nyou> $/m);
    await session.typeLine("Short one");
    await session.waitFor(`assistant> ${server.expectedReply("Short one")}`, 15_000);

    const prompts = bodies(server, "POST", "/api/chat/prompter_message");
    const chat = await readChat(server, prompts[0]?.chat_id as string);
    const firstReply = messagesOf(chat, "assistant")[0];
    expect(prompts.map((body) => [body.content, body.parent_id])).toEqual([
      ["Hi", null],
      ["Tell me a long story", firstReply?.id],
      ["Short one", firstReply?.id],
    ]);
    expect(chatsCreated(server)).toBe(1);
    expect(server.requests.some((r) => r.method === "DELETE")).toBe(false);
  });

  it("oasst chat --continue goes on with the most recent chat, after showing its last exchange", async ({ home, emulator, pane }) => {
    const server = await emulator();
    const chatId = await keptChat(home, server, "Name a colour.");
    const session = await pane(["chat", "--continue"], server);
    const screen = await session.waitFor(/^you> $/m);
    expect(screen).toContain(`continuing chat ${chatId}.`);
    expect(screen).toContain(`you> Name a colour.\nassistant> ${server.expectedReply("Name a colour.")}\nyou> `);
    await session.typeLine("Another?");
    await session.waitFor(`assistant> ${server.expectedReply("Another?")}`);
    const reply = messagesOf(await readChat(server, chatId), "assistant")[0];
    expect(bodies(server, "POST", "/api/chat/prompter_message").at(-1)).toEqual({ chat_id: chatId, parent_id: reply?.id, content: "Another?" });
    expect(chatsCreated(server)).toBe(1);
  });
});

describe.concurrent("oasst chat --keep and --continue", () => {
  it("--keep keeps the chat and names it on stderr; --system goes as the system prompt", async ({ home, emulator }) => {
    const server = await emulator();
    const result = await runCli(["chat", "--keep", "--system", "Be brief.", "Hello"], home, { env: serverEnv(server) });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${server.expectedReply("Hello")}\n`);
    const chatId = bodies(server, "POST", "/api/chat/prompter_message")[0]?.chat_id as string;
    expect(result.stderr).toBe(`${keptLine(chatId)}\n`);
    expect(server.liveChats()).toBe(1);
    expect(server.requests.some((r) => r.method === "DELETE")).toBe(false);
    expect(bodies(server, "POST", "/api/chat/prompter_message")[0]?.content).toBe("Hello");
    expect(bodies(server, "POST", "/api/chat/assistant_message")[0]?.system_prompt).toBe("Be brief.");
  });

  it("--continue goes on with the most recent chat; a word after it that is not a chat id starts the prompt", async ({ home, emulator }) => {
    const server = await emulator();
    await keptChat(home, server, "Older");
    const chatId = await keptChat(home, server, "Name a colour.");
    const result = await runCli(["chat", "--continue", "And", "another?"], home, { env: serverEnv(server) });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${server.expectedReply("And another?")}\n`);
    expect(result.stderr).toBe(`${keptLine(chatId)}\n`);
    const reply = messagesOf(await readChat(server, chatId), "assistant")[0];
    expect(bodies(server, "POST", "/api/chat/prompter_message").at(-1)).toEqual({ chat_id: chatId, parent_id: reply?.id, content: "And another?" });
    expect(chatsCreated(server)).toBe(2);
    expect(server.liveChats()).toBe(2);
  });

  it("--continue ID goes on with that chat, also with flags between the two", async ({ home, emulator }) => {
    const server = await emulator();
    const older = await keptChat(home, server, "Older");
    await keptChat(home, server, "Newer");
    for (const args of [
      ["chat", "--continue", older, "More"],
      ["chat", "--continue", "--max-new-tokens", "3", older, "More"],
    ]) {
      const newest = messagesOf(await readChat(server, older), "assistant").at(-1);
      const result = await runCli(args, home, { env: serverEnv(server) });
      expect(result.code).toBe(0);
      expect(bodies(server, "POST", "/api/chat/prompter_message").at(-1)).toEqual({ chat_id: older, parent_id: newest?.id, content: "More" });
    }
    expect(chatsCreated(server)).toBe(2);
  });

  it("--continue goes on from the chat's active thread tail when it is a complete reply", async ({ home, emulator }) => {
    const server = await emulator();
    const first = await libraryTurn(server, { conversation: "new" }, "Question");
    const retried = await libraryTurn(server, { conversation: first, regenerate: true }, undefined);
    // Without a tail: the newest complete reply.
    expect((await runCli(["chat", "--continue", first.chatId, "After the newest"], home, { env: serverEnv(server) })).code).toBe(0);
    expect(bodies(server, "POST", "/api/chat/prompter_message").at(-1)).toMatchObject({ parent_id: retried.messageId });
    await withClient(server, (client) => client.updateChat({ chatId: first.chatId, activeThreadTailMessageId: first.messageId }));
    const result = await runCli(["chat", "--continue", first.chatId, "After the tail"], home, { env: serverEnv(server) });
    expect(result.code).toBe(0);
    expect(bodies(server, "POST", "/api/chat/prompter_message").at(-1)).toMatchObject({ parent_id: first.messageId, content: "After the tail" });
  });

  it("--json: the message line carries the kept chat's handle, and stderr stays empty", async ({ home, emulator }) => {
    const server = await emulator();
    const result = await runCli(["chat", "--keep", "--json", "Hello"], home, { env: serverEnv(server) });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const last = JSON.parse(result.stdout.trimEnd().split("\n").at(-1) ?? "") as { type: string; message: MessageRead; conversation: Conversation };
    expect(last.type).toBe("message");
    expect(last.conversation).toEqual({ chatId: last.message.chat_id, messageId: last.message.id, parentId: last.message.parent_id });
    const next = await runCli(["chat", "--continue", "--json", "More"], home, { env: serverEnv(server) });
    const line = JSON.parse(next.stdout.trimEnd().split("\n").at(-1) ?? "") as { conversation: Conversation };
    expect(line.conversation).toMatchObject({ chatId: last.conversation.chatId });
    expect(bodies(server, "POST", "/api/chat/prompter_message").at(-1)).toMatchObject({ parent_id: last.conversation.messageId });
    // Without --keep or --continue the line is as before: no handle, the chat is deleted.
    const once = await runCli(["chat", "--json", "Once"], home, { env: serverEnv(server) });
    expect(JSON.parse(once.stdout.trimEnd().split("\n").at(-1) ?? "")).not.toHaveProperty("conversation");
    expect(server.liveChats()).toBe(1);
  });

  it("exits 1 with a hint for a chat without a complete reply, and sends nothing to it", async ({ home, emulator }) => {
    const server = await emulator();
    const chatId = await withClient(server, async (client) => {
      const chat = await client.createChat();
      await client.postPrompterMessage({ chat_id: chat.id, parent_id: null, content: "Unanswered" });
      return chat.id;
    });
    const result = await runCli(["chat", "--continue", chatId, "Hi"], home, { env: serverEnv(server) });
    expect(result.code).toBe(1);
    expectTwoLineError(result, new RegExp(`^error: Chat ${chatId} has no complete reply to continue from$`), new RegExp(`oasst chats show ${chatId}`));
    expect(bodies(server, "POST", "/api/chat/prompter_message")).toHaveLength(1);
    expect(bodies(server, "POST", "/api/chat/assistant_message")).toHaveLength(0);
  });

  it("exits 1 with a hint when there is no chat to continue, or the chat is unknown", async ({ home, emulator }) => {
    const server = await emulator();
    const none = await runCli(["chat", "--continue", "Hi"], home, { env: serverEnv(server) });
    expect(none.code).toBe(1);
    expectTwoLineError(none, /^error: The account has no chats$/, /oasst chat --keep/);
    const unknown = await runCli(["chat", "--continue", "00000000-0000-7000-8000-000000000000", "Hi"], home, { env: serverEnv(server) });
    expect(unknown.code).toBe(1);
    expectTwoLineError(unknown, /was not found \(HTTP 404\)/, /`oasst chats` lists your chats: pass one of their ids to --continue\./);
    expect(chatsCreated(server)).toBe(0);
  });
});

describe.concurrent("help", () => {
  it("oasst chat --help explains --keep and --continue; oasst chats show --help has its examples", async ({ home }) => {
    const chat = await runCli(["chat", "--help"], home);
    expect(chat.stdout).toContain("--continue [chat-id]");
    expect(chat.stdout).toContain("--keep");
    expect(chat.stdout).toContain("any other word starts the");
    expect(chat.stdout).toContain('$ oasst chat --continue "And another?"');
    const show = await runCli(["chats", "show", "--help"], home);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain("Usage: oasst chats show [options] [chat-id]");
    expect(show.stdout).toMatch(/Examples:\n {2}\$ oasst chats show/);
    expect((await runCli(["chats", "--help"], home)).stdout).toMatch(/^ {2}show \[options\] \[chat-id\]/m);
  });
});

describe.concurrent("oasst chats show", () => {
  /** Question → two replies (the second a regeneration) → a follow-up under the second → its reply. */
  async function branchedChat(server: Emulator): Promise<{ first: Conversation; retried: Conversation; last: Conversation }> {
    const first = await libraryTurn(server, { conversation: "new" }, "Question");
    const retried = await libraryTurn(server, { conversation: first, regenerate: true }, undefined);
    const last = await libraryTurn(server, { conversation: retried }, "Follow-up\nwith a second line");
    return { first, retried, last };
  }

  it("prints the thread as a tree: a regeneration is a branch; the active tail and the reply --continue goes on from are marked", async ({
    home,
    emulator,
  }) => {
    const server = await emulator();
    const { first } = await branchedChat(server);
    const answer = server.expectedReply("Question");
    const followUp = server.expectedReply("Follow-up\nwith a second line");
    const result = await runCli(["chats", "show", first.chatId], home, { env: serverEnv(server) });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(new RegExp(`^Chat ${first.chatId}, created \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC, 5 messages$`));
    expect(lines.slice(1)).toEqual([
      "user: Question",
      `├─ assistant: ${answer}`,
      `└─ assistant: ${answer}`,
      "   user: Follow-up …",
      `   assistant: ${followUp}  ← --continue`,
      "",
    ]);

    await withClient(server, (client) => client.updateChat({ chatId: first.chatId, activeThreadTailMessageId: first.messageId }));
    const marked = await runCli(["chats", "show", first.chatId], home, { env: serverEnv(server) });
    expect(marked.stdout).toContain(`├─ assistant: ${answer}  ← active, --continue\n`);
    expect(marked.stdout).toContain(`   assistant: ${followUp}\n`);
  });

  it("shows the most recent chat without an id; cuts lines to $COLUMNS", async ({ home, emulator }) => {
    const server = await emulator();
    await libraryTurn(server, { conversation: "new" }, "An older chat");
    await libraryTurn(server, { conversation: "new" }, "A question long enough to be cut");
    const result = await runCli(["chats", "show"], home, { env: { ...serverEnv(server), COLUMNS: "24" } });
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")[1]).toBe("user: A question long e…");
    for (const line of result.stdout.split("\n").slice(1)) expect([...line].length).toBeLessThanOrEqual(24);
  });

  it("--json prints the chat with all its messages, before or after show", async ({ home, emulator }) => {
    const server = await emulator();
    const { first } = await branchedChat(server);
    const chat = await readChat(server, first.chatId);
    for (const args of [
      ["chats", "show", first.chatId, "--json"],
      ["chats", "--json", "show", first.chatId],
    ]) {
      const result = await runCli(args, home, { env: serverEnv(server) });
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual(chat);
    }
  });

  it("exits 1 with a hint for an unknown chat; oasst chats and --delete still work beside it", async ({ home, emulator }) => {
    const server = await emulator();
    const unknown = await runCli(["chats", "show", "00000000-0000-7000-8000-000000000000"], home, { env: serverEnv(server) });
    expect(unknown.code).toBe(1);
    expectTwoLineError(unknown, /was not found \(HTTP 404\)/, /pass one of their ids to oasst chats show/);
    const { first } = await branchedChat(server);
    const list = await runCli(["chats"], home, { env: serverEnv(server) });
    expect(list.stdout).toContain(first.chatId);
    const deleted = await runCli(["chats", "--delete", first.chatId], home, { env: serverEnv(server) });
    expect(deleted).toMatchObject({ code: 0, stdout: `deleted ${first.chatId}\n` });
    expect(server.liveChats()).toBe(0);
  });
});
