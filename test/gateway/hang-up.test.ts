import { describe, expect, test } from "vitest";
import { MODEL, eventually, post, setup, type Setup } from "./gateway-harness.js";

const HELLO = [{ role: "user" as const, content: "Hello" }];
/** A reply of 1.2 s: a caller hangs up in its middle; the server finishes it anyway, and only then is the chat deleted. */
const SLOW_REPLY = { tokenDelayMs: 30, replyTokens: 40 };

/** The reply was left running: a `reply_still_running` warning, the chat deleted once the server finished the reply, nothing else. */
async function expectDeletedAfterTheReplyEnded({ emulator, warnings }: Setup): Promise<void> {
  await eventually(() => emulator.liveChats() === 0, "the chat is deleted");
  expect(warnings.map((w) => w.code)).toEqual(["reply_still_running"]);
  const chatId = warnings[0]!.chatId!;
  const ofChat = emulator.requests.filter((r) => r.query.chat_id === chatId).map((r) => `${r.method} ${r.path}`);
  // The message's state was read (until it was complete) before the delete, which came last.
  expect(ofChat.at(-1)).toBe("DELETE /api/chat");
  expect(ofChat.at(-2)).toBe("GET /api/chat/message");
}

// The tests run at once, each with its own emulator and gateway: the replies they wait for overlap.
describe.concurrent("a caller that hangs up", () => {
  test("mid-stream (openai client abort): the upstream reply is left, and its chat deleted once the server finished it", async ({ onTestFinished }) => {
    const parts = await setup(SLOW_REPLY, {}, onTestFinished);
    const { openai, emulator } = parts;
    const controller = new AbortController();
    const stream = await openai().chat.completions.create({ model: MODEL, messages: HELLO, stream: true }, { signal: controller.signal });
    let chunks = 0;
    // The openai client ends the iteration quietly on its own abort.
    for await (const _chunk of stream) {
      if (++chunks === 4) controller.abort();
    }
    expect(chunks).toBe(4);
    // Not at once: the server is still generating the reply.
    await eventually(() => parts.warnings.length > 0, "the wait for the reply's end");
    expect(emulator.liveChats()).toBe(1);
    await expectDeletedAfterTheReplyEnded(parts);
  });

  test("mid-stream (socket closed): the slot is freed for the next caller once the chat is deleted", async ({ onTestFinished }) => {
    const parts = await setup(SLOW_REPLY, { maxConcurrent: 1, maxQueue: 0 }, onTestFinished);
    const { gateway, openai } = parts;
    const response = await post(gateway, "/v1/chat/completions", { model: MODEL, messages: HELLO, stream: true });
    const reader = response.body!.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    await eventually(() => parts.warnings.length > 0, "the wait for the reply's end");
    // The slot is held while the provider waits: a caller now finds no room (maxQueue 0).
    await expect(openai().chat.completions.create({ model: MODEL, messages: HELLO, max_tokens: 2 })).rejects.toMatchObject({ status: 503 });
    await expectDeletedAfterTheReplyEnded(parts);
    await expect(openai().chat.completions.create({ model: MODEL, messages: HELLO, max_tokens: 2 })).resolves.toMatchObject({ object: "chat.completion" });
  });

  test("before a non-streamed reply is complete: the chat is deleted once the server finished the reply", async ({ onTestFinished }) => {
    const parts = await setup(SLOW_REPLY, {}, onTestFinished);
    const { gateway, emulator } = parts;
    const controller = new AbortController();
    const call = fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, messages: HELLO }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await eventually(() => emulator.requests.some((r) => r.path === "/api/chat/events"), "the reply started");
    controller.abort();
    expect(await call).toMatchObject({ name: "AbortError" });
    await expectDeletedAfterTheReplyEnded(parts);
  });

  test("while queued: it leaves the queue and never reaches the server", async ({ onTestFinished }) => {
    const { gateway, emulator, openai } = await setup({ tokenDelayMs: 20, replyTokens: 15 }, { maxConcurrent: 1, maxQueue: 1 }, onTestFinished);
    const first = openai().chat.completions.create({ model: MODEL, messages: HELLO });
    await eventually(() => emulator.liveChats() === 1, "the first reply started");
    const controller = new AbortController();
    const queued = fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "queued" }] }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    await queued;
    // The queue has room again: this one waits for the first, then runs. The gateway may learn of the hang-up
    // a moment after the caller (a loaded machine): then it answers 503 with Retry-After, and the client retries.
    // Had the queued request stayed in the queue, it would have run once the first ended: the check below.
    const third = openai().chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "third" }] }, { maxRetries: 3 });
    await expect(first).resolves.toMatchObject({ object: "chat.completion" });
    await expect(third).resolves.toMatchObject({ object: "chat.completion" });
    const prompts = emulator.requests.filter((r) => r.path === "/api/chat/prompter_message").map((r) => r.body);
    expect(prompts.some((body) => body.includes("queued"))).toBe(false);
  });
});

describe.concurrent("shutdown", () => {
  test("close() ends a stream in flight with an error chunk, deletes its chat once the server finished the reply, and resolves", async ({ onTestFinished }) => {
    const parts = await setup(SLOW_REPLY, {}, onTestFinished);
    const { gateway, emulator } = parts;
    const response = await post(gateway, "/v1/chat/completions", { model: MODEL, messages: HELLO, stream: true });
    const body = response.text();
    await eventually(() => emulator.requests.some((r) => r.path === "/api/chat/events"), "the reply started");
    await gateway.close();
    expect(emulator.liveChats()).toBe(0);
    expect(parts.warnings.map((w) => w.code)).toEqual(["reply_still_running"]);
    const last = (await body).trim().split("\n\n").at(-1) ?? "";
    expect(JSON.parse(last.replace(/^data: /, ""))).toMatchObject({ error: { code: "gateway_shutting_down" } });
  });
});
