import { describe, expect, test } from "vitest";
import { MODEL, eventually, post, setup } from "./gateway-harness.js";

const HELLO = [{ role: "user" as const, content: "Hello" }];

describe("a caller that hangs up", () => {
  test("mid-stream (openai client abort): the upstream reply is aborted and the chat deleted", async () => {
    const { openai, emulator } = await setup({ tokenDelayMs: 30, replyTokens: 500 });
    const controller = new AbortController();
    const stream = await openai().chat.completions.create({ model: MODEL, messages: HELLO, stream: true }, { signal: controller.signal });
    let chunks = 0;
    // The openai client ends the iteration quietly on its own abort.
    for await (const _chunk of stream) {
      if (++chunks === 4) controller.abort();
    }
    expect(chunks).toBe(4);
    await eventually(() => emulator.liveChats() === 0, "the chat is deleted");
  });

  test("mid-stream (socket closed): the slot is freed for the next caller", async () => {
    const { gateway, emulator, openai } = await setup({ tokenDelayMs: 30, replyTokens: 500 }, { maxConcurrent: 1, maxQueue: 0 });
    const response = await post(gateway, "/v1/chat/completions", { model: MODEL, messages: HELLO, stream: true });
    const reader = response.body!.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    await eventually(() => emulator.liveChats() === 0, "the chat is deleted");
    await expect(openai().chat.completions.create({ model: MODEL, messages: HELLO, max_tokens: 2 })).resolves.toMatchObject({ object: "chat.completion" });
  });

  test("before a non-streamed reply is complete: the chat is deleted", async () => {
    const { gateway, emulator } = await setup({ tokenDelayMs: 30, replyTokens: 500 });
    const controller = new AbortController();
    const call = fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, messages: HELLO }),
      signal: controller.signal,
    }).catch((error: unknown) => error);
    await eventually(() => emulator.liveChats() === 1, "the reply started");
    controller.abort();
    expect(await call).toMatchObject({ name: "AbortError" });
    await eventually(() => emulator.liveChats() === 0, "the chat is deleted");
  });

  test("while queued: it leaves the queue and never reaches the server", async () => {
    const { gateway, emulator, openai } = await setup({ tokenDelayMs: 20, replyTokens: 15 }, { maxConcurrent: 1, maxQueue: 1 });
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
    // The queue has room again: this one waits for the first, then runs.
    const third = openai().chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "third" }] });
    await expect(first).resolves.toMatchObject({ object: "chat.completion" });
    await expect(third).resolves.toMatchObject({ object: "chat.completion" });
    const prompts = emulator.requests.filter((r) => r.path === "/api/chat/prompter_message").map((r) => r.body);
    expect(prompts.some((body) => body.includes("queued"))).toBe(false);
  });
});

describe("shutdown", () => {
  test("close() ends a stream in flight with an error chunk, deletes its chat, and resolves", async () => {
    const { gateway, emulator } = await setup({ tokenDelayMs: 30, replyTokens: 500 });
    const response = await post(gateway, "/v1/chat/completions", { model: MODEL, messages: HELLO, stream: true });
    const body = response.text();
    await eventually(() => emulator.liveChats() === 1, "the reply started");
    await gateway.close();
    expect(emulator.liveChats()).toBe(0);
    const last = (await body).trim().split("\n\n").at(-1) ?? "";
    expect(JSON.parse(last.replace(/^data: /, ""))).toMatchObject({ error: { code: "gateway_shutting_down" } });
  });
});
