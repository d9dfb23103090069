/**
 * `oasst` on a terminal, in tmux: the interactive session, the spinner, Ctrl-C and
 * Ctrl-D, colours. Each test has its own tmux session, killed afterwards.
 */
import { afterAll, beforeAll, describe, expect } from "vitest";
import { OpenAssistantClient } from "../../src/client/client.js";
import type { Emulator } from "../../src/emulator/emulator.js";
import { prompterContent } from "../../src/provider/format-prompt.js";
import type { Messages } from "../../src/provider/provider-types.js";
import { assertBuilt, cliTest, eventually } from "./cli-harness.js";
import { stopTmuxServer, TmuxPane } from "./tmux-harness.js";

/**
 * cliTest's home and emulators, and `pane(args, server, env)`: oasst in a tmux session of its own, killed
 * when the test ends. The tests run at once (describe.concurrent), each with its own sessions.
 */
const it = cliTest.extend<{ pane: (args: string[], server: Emulator, env?: Record<string, string | undefined>) => Promise<TmuxPane> }>({
  pane: async ({ home }, use) => {
    const panes: TmuxPane[] = [];
    await use(async (args, server, env = {}) => {
      const started = await TmuxPane.start(args, home, { OASST_BASE_URL: server.url, OASST_COOKIES: server.cookie, ...env });
      panes.push(started);
      return started;
    });
    await Promise.all(panes.map((p) => p.kill()));
  },
});

function prompterContents(server: Emulator): string[] {
  return server.requests.filter((r) => r.path === "/api/chat/prompter_message").map((r) => (JSON.parse(r.body) as { content: string }).content);
}

function reply(server: Emulator, messages: Messages): string {
  return server.expectedReply(prompterContent(messages));
}

/** A reply of about 1.5 s: stopped in its middle, the server finishes it anyway, and only then is the chat deleted. */
const SLOW_REPLY = { replyTokens: 60, tokenDelayMs: 25 };

/** The `reply_still_running` warning's line, as a pattern for the screen (the line may wrap: capture joins it). */
function waitingLine(server: Emulator): RegExp {
  const chatId = server.requests.find((r) => r.path === "/api/chat/events")!.query.chat_id!;
  return new RegExp(
    `warning: Waiting for the server to finish the reply before deleting chat ${chatId}: Open-Assistant aborts other replies when a chat is deleted while its reply runs\\.\\n`,
  );
}

/** The chat's delete came last, after the message's state was read (the reply had finished). */
function expectDeletedAfterTheReplyEnded(server: Emulator): void {
  expect(server.liveChats()).toBe(0);
  const calls = server.requests.map((r) => `${r.method} ${r.path}`);
  expect(calls.filter((call) => call === "DELETE /api/chat")).toHaveLength(1);
  expect(calls.at(-1)).toBe("DELETE /api/chat");
  expect(calls.at(-2)).toBe("GET /api/chat/message");
}

beforeAll(() => assertBuilt());
afterAll(() => stopTmuxServer());

describe.concurrent("the interactive session", () => {
  it("continues one chat: the second message goes under the first reply, alone", async ({ emulator, pane }) => {
    const server = await emulator({ replyTokens: 6 });
    const session = await pane(["chat"], server);
    await session.waitFor(/^you> $/m);

    await session.typeLine("Hello there");
    await session.waitFor(`assistant> ${server.expectedReply("Hello there")}`);
    await session.typeLine("And then?");
    await session.waitFor(`assistant> ${server.expectedReply("And then?")}`);
    expect(prompterContents(server)).toEqual(["Hello there", "And then?"]);
    expect(server.requests.filter((r) => r.method === "POST" && r.path === "/api/chat")).toHaveLength(1);
    expect(server.liveChats()).toBe(1);
  });

  it("sends --system with every message as the system prompt, switches models with /model, and shows /help", async ({ emulator, pane }) => {
    const server = await emulator({ replyTokens: 4 });
    const session = await pane(["chat", "--system", "Be brief."], server);
    await session.waitFor(/^you> $/m);
    await session.typeLine("/model OA_SFT_Llama_30B_7");
    await session.waitFor("model: OA_SFT_Llama_30B_7");
    await session.typeLine("Hi");
    await session.waitFor(`assistant> ${server.expectedReply("Hi")}`);
    await session.typeLine("More");
    await session.waitFor(`assistant> ${server.expectedReply("More")}`);
    const assistants = server.requests.filter((r) => r.path === "/api/chat/assistant_message").map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(assistants).toHaveLength(2);
    for (const body of assistants) expect(body).toMatchObject({ model_config_name: "OA_SFT_Llama_30B_7", system_prompt: "Be brief." });
    expect(prompterContents(server)).toEqual(["Hi", "More"]);
    await session.typeLine("/help");
    await session.waitFor("/new           start a new chat; the current one stays on the site (/reset does the same)");
    await session.waitFor("/good, /bad    vote the last reply up or down");
  });

  it("/model refuses a name the server does not list, naming the ones it does; the model stays", async ({ emulator, pane }) => {
    const server = await emulator({ replyTokens: 3, models: ["OA_SFT_Llama_30B_6", "_lorem"] });
    const session = await pane(["chat"], server);
    await session.waitFor(/^you> $/m);
    await session.typeLine("/model NOPE");
    await session.waitFor("warning: Unknown model NOPE; the server has: _lorem, OA_SFT_Llama_30B_6.");
    await session.waitFor("model: OA_SFT_Llama_30B_6");
    await session.typeLine("/model _lorem");
    await session.waitFor("model: _lorem");
    await session.typeLine("Hi");
    await session.waitFor(`assistant> ${server.expectedReply("Hi")}`);
    const assistants = server.requests.filter((r) => r.path === "/api/chat/assistant_message").map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(assistants).toMatchObject([{ model_config_name: "_lorem" }]);
  });

  it("recalls earlier lines with the up arrow", async ({ emulator, pane }) => {
    const server = await emulator({ replyTokens: 3 });
    const session = await pane(["chat"], server);
    await session.waitFor(/^you> $/m);
    await session.typeLine("first line");
    await session.waitFor(/assistant> .*\n+you> $/m);
    await session.keys("Up");
    await session.waitFor(/you> first line$/m);
    await session.keys("Enter");
    await eventually(() => prompterContents(server).length === 2, "the recalled line to be sent");
    expect(prompterContents(server)[1]).toBe("first line");
  });

  it("stops a reply on Ctrl-C, says it waits for the server to finish the reply, deletes its chat and goes on", async ({ emulator, pane }) => {
    const server = await emulator(SLOW_REPLY);
    const session = await pane(["chat"], server);
    await session.waitFor(/^you> $/m);
    await session.typeLine("Tell me a long story");
    await session.waitFor(/assistant> \S+/);
    await session.keys("C-c");
    const screen = await session.waitFor(/\(reply stopped\)\nyou> $/m);
    expect(screen).toMatch(waitingLine(server));
    expectDeletedAfterTheReplyEnded(server);

    // The stopped first reply left nothing to continue: the next prompt starts a new chat.
    await session.typeLine("Short one");
    await session.waitFor(`assistant> ${server.expectedReply("Short one")}`);
    expect(prompterContents(server)[1]).toBe("Short one");
    expect(server.requests.filter((r) => r.method === "POST" && r.path === "/api/chat")).toHaveLength(2);
    expect(server.liveChats()).toBe(1);
  });

  it("leaves with exit status 0 on Ctrl-D at an empty prompt", async ({ emulator, pane }) => {
    const server = await emulator();
    const session = await pane(["chat"], server);
    await session.waitFor(/^you> $/m);
    await session.keys("C-d");
    expect(await session.exitStatus()).toBe(0);
  });

  it("clears a typed line on Ctrl-C, and leaves on Ctrl-C at an empty prompt", async ({ emulator, pane }) => {
    const server = await emulator();
    const session = await pane(["chat"], server);
    await session.waitFor(/^you> $/m);
    await session.keys("-l", "half a thought");
    await session.waitFor("you> half a thought");
    await session.keys("C-c");
    await session.waitFor(/you> half a thought\^C\nyou> $/m);
    await session.keys("C-c");
    expect(await session.exitStatus()).toBe(0);
    expect(server.requests).toHaveLength(0);
  });

  it("is not started with --json: that is a usage error", async ({ emulator, pane }) => {
    const server = await emulator();
    const session = await pane(["chat", "--json"], server);
    const screen = await session.waitFor(/EXIT=\d+/);
    expect(screen).toMatch(/^error: --json needs a prompt\nhint: Pass it as an argument or on stdin/m);
    expect(await session.exitStatus()).toBe(1);
  });

  it("prints an error as two lines and keeps the session", async ({ emulator, pane }) => {
    const server = await emulator({ faults: ["error-first"] });
    const session = await pane(["chat"], server);
    await session.waitFor(/^you> $/m);
    await session.typeLine("Hi");
    const screen = await session.waitFor(/^hint: .*\nyou> $/m);
    expect(screen).toMatch(/^error: The server stopped the reply: /m);
    await session.typeLine("/exit");
    expect(await session.exitStatus()).toBe(0);
  });
});

describe.concurrent("one reply on a terminal", () => {
  it("shows the queue position on a spinner until the first token, then only the reply", async ({ emulator, pane }) => {
    const server = await emulator({ pendingEvents: 3, pendingIntervalMs: 700, replyTokens: 5 });
    const session = await pane(["chat", "Hi"], server);
    await session.waitFor(/queued: position 2 of 3/);
    expect(await session.exitStatus()).toBe(0);
    const screen = await session.capture();
    expect(screen).not.toContain("queued");
    expect(screen).toContain(`${reply(server, [{ role: "user", content: "Hi" }])}\nEXIT=0`);
  });

  it("exits 130 on Ctrl-C, after the server finished the reply and the chat was deleted", async ({ emulator, pane }) => {
    const server = await emulator(SLOW_REPLY);
    const session = await pane(["chat", "Tell me a long story"], server);
    await eventually(() => server.liveChats() === 1, "the chat to be created");
    // The reply's first words on the screen (the spinner's "waiting for the server" would match any two words).
    const firstWords = reply(server, [{ role: "user", content: "Tell me a long story" }])
      .split(" ")
      .slice(0, 2)
      .join(" ");
    await session.waitFor(firstWords);
    await session.keys("C-c");
    expect(await session.exitStatus()).toBe(130);
    expect(await session.capture()).toMatch(waitingLine(server));
    expectDeletedAfterTheReplyEnded(server);
  });

  it("colours the prompt on a terminal, and not when NO_COLOR is set", async ({ emulator, pane }) => {
    const server = await emulator();
    const coloured = await pane(["chat"], server, { NO_COLOR: undefined });
    await coloured.waitFor(/^you> $/m);
    const ESC = "\x1b[";
    const promptLine = (await coloured.capture(true)).split("\n").find((line) => line.includes("you> "));
    expect(promptLine).toContain(ESC);
    const plain = await pane(["chat"], server);
    await plain.waitFor(/^you> $/m);
    expect(await plain.capture(true)).not.toContain(ESC);
  });
});

describe.concurrent("oasst chats --delete-all on a terminal", () => {
  async function withChats(emulator: () => Promise<Emulator>, count: number): Promise<Emulator> {
    const server = await emulator();
    const client = new OpenAssistantClient({ baseUrl: server.url, cookies: server.cookies });
    for (let i = 0; i < count; i++) await client.createChat();
    await client.close();
    return server;
  }

  it("asks first: no keeps the chats", async ({ emulator, pane }) => {
    const server = await withChats(emulator, 2);
    const session = await pane(["chats", "--delete-all"], server);
    await session.waitFor("Delete all 2 chats? This cannot be undone. [y/N] ");
    await session.typeLine("n");
    await session.waitFor("Nothing was deleted.");
    expect(await session.exitStatus()).toBe(0);
    expect(server.liveChats()).toBe(2);
  });

  it("asks about the only chat in the singular", async ({ emulator, pane }) => {
    const server = await withChats(emulator, 1);
    const session = await pane(["chats", "--delete-all"], server);
    await session.waitFor("Delete the only chat? This cannot be undone. [y/N] ");
    await session.typeLine("n");
    expect(await session.exitStatus()).toBe(0);
    expect(server.liveChats()).toBe(1);
  });

  it("asks first: yes deletes them", async ({ emulator, pane }) => {
    const server = await withChats(emulator, 2);
    const session = await pane(["chats", "--delete-all"], server);
    await session.waitFor("[y/N] ");
    await session.typeLine("y");
    expect(await session.exitStatus()).toBe(0);
    expect(server.liveChats()).toBe(0);
  });
});
