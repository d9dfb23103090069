import type OpenAI from "openai";
import { describe, expect, test } from "vitest";
import { prompterContent } from "../../src/provider/format-prompt.js";
import type { ChatEvent } from "../../src/client/wire-types.js";
import { MODEL, eventually, setup } from "./gateway-harness.js";

const HELLO = [{ role: "user" as const, content: "Hello" }];

describe("POST /v1/chat/completions with the openai client", () => {
  test("without streaming: one chat.completion with the whole reply, and the chat is deleted after it", async () => {
    const { openai, emulator } = await setup();
    const completion = await openai().chat.completions.create({ model: MODEL, messages: HELLO });
    expect(completion.object).toBe("chat.completion");
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.model).toBe(MODEL);
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]?.message).toMatchObject({ role: "assistant", content: emulator.expectedReply(prompterContent(HELLO)) });
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.usage).toEqual({
      prompt_tokens: Math.ceil(prompterContent(HELLO).length / 4),
      completion_tokens: 24,
      total_tokens: Math.ceil(prompterContent(HELLO).length / 4) + 24,
    });
    await eventually(() => emulator.liveChats() === 0, "the chat is deleted");
  });

  test("with streaming: chunks that add up to the reply, a finish chunk, then [DONE]", async () => {
    const { openai, emulator } = await setup({ tokenDelayMs: 2 });
    const stream = await openai().chat.completions.create({ model: MODEL, messages: HELLO, stream: true });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((chunk) => chunk.object === "chat.completion.chunk" && chunk.id === chunks[0]?.id)).toBe(true);
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe(emulator.expectedReply(prompterContent(HELLO)));
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
    await eventually(() => emulator.liveChats() === 0, "the chat is deleted");
  });

  test("stream_options.include_usage adds a last chunk with no choices and the usage", async () => {
    const { openai } = await setup();
    const stream = await openai().chat.completions.create({ model: MODEL, messages: HELLO, stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBe(24);
    expect(last?.usage?.total_tokens).toBe((last?.usage?.prompt_tokens ?? 0) + 24);
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
  });

  test("model, temperature, top_p and max_tokens reach the server as model_config_name and sampling parameters", async () => {
    const { openai, assistantRequests } = await setup();
    await openai().chat.completions.create({ model: "OA_SFT_Llama2_70B_10", messages: HELLO, temperature: 0.8, top_p: 0.9, max_tokens: 7 });
    await openai().chat.completions.create({ model: MODEL, messages: HELLO, max_completion_tokens: 5 });
    const [first, second] = assistantRequests();
    expect(first?.model_config_name).toBe("OA_SFT_Llama2_70B_10");
    expect(first?.sampling_parameters).toMatchObject({ temperature: 0.8, top_p: 0.9, max_new_tokens: 7 });
    expect(second?.sampling_parameters.max_new_tokens).toBe(5);
  });

  test('a reply that uses all of max_tokens finishes with "length"', async () => {
    const { openai, emulator } = await setup();
    const completion = await openai().chat.completions.create({ model: MODEL, messages: HELLO, max_tokens: 5 });
    expect(completion.choices[0]?.finish_reason).toBe("length");
    expect(completion.choices[0]?.message.content).toBe(emulator.expectedReply(prompterContent(HELLO), { maxNewTokens: 5 }));
    expect(completion.usage?.completion_tokens).toBe(5);
  });

  test("messages of every role, with string or text-part content, are flattened as formatPrompt does", async () => {
    const { openai, prompts, emulator } = await setup();
    const completion = await openai().chat.completions.create({
      model: MODEL,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "developer", content: [{ type: "text", text: "Answer in English." }] },
        {
          role: "user",
          content: [
            { type: "text", text: "Hi" },
            { type: "text", text: "there" },
          ],
        },
        { role: "assistant", content: "Hello!" },
        { role: "user", content: "How are you?" },
      ],
    });
    const flattened = [
      { role: "system", content: "Be brief." },
      { role: "developer", content: "Answer in English." },
      { role: "user", content: "Hi\nthere" },
      { role: "assistant", content: "Hello!" },
      { role: "user", content: "How are you?" },
    ];
    expect(prompts()).toEqual([prompterContent(flattened)]);
    expect(prompts()[0]).toContain("System: Be brief.\nDeveloper: Answer in English.\nUser: Hi\nthere\nAssistant: Hello!\nUser: How are you?\nAssistant:");
    expect(completion.choices[0]?.message.content).toBe(emulator.expectedReply(prompterContent(flattened)));
  });
});

describe("stop", () => {
  const reply = (emulatorReply: string) => emulatorReply;

  /** Whether the provider saw the reply's final event (then the reply was finished when the stop string cut it). */
  function endWatch(): { sawEnd: () => boolean; onEvent: (event: ChatEvent) => void } {
    let seen = false;
    return { sawEnd: () => seen, onEvent: (event) => void (seen ||= event.event_type === "message" || event.event_type === "error") };
  }

  test('cuts the text at the first stop string, finishes with "stop", and deletes the chat once the server finished the reply', async () => {
    const watch = endWatch();
    const { openai, emulator, warnings } = await setup({ tokenDelayMs: 5 }, { onEvent: watch.onEvent });
    const full = reply(emulator.expectedReply(prompterContent(HELLO)));
    // A stop string made of the end of one token and the start of the next.
    const stop = full.slice(7, 12);
    const stream = await openai().chat.completions.create({ model: MODEL, messages: HELLO, stream: true, stop: [stop, "never there"] });
    let text = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(full.slice(0, full.indexOf(stop)));
    expect(finish).toBe("stop");
    await eventually(() => emulator.liveChats() === 0, "the chat is deleted");
    // The rest of the reply is not read, but the server still generates it: the delete waited for its end
    // (unless, on a slow machine, the reply's end had already arrived with the stop string).
    expect(warnings.map((w) => w.code)).toEqual(watch.sawEnd() ? [] : ["reply_still_running"]);
  });

  test("a single stop string, without streaming", async () => {
    const watch = endWatch();
    const { openai, emulator, warnings } = await setup({ tokenDelayMs: 5 }, { onEvent: watch.onEvent });
    const full = emulator.expectedReply(prompterContent(HELLO));
    const stop = full.slice(20, 22);
    const completion = await openai().chat.completions.create({ model: MODEL, messages: HELLO, stop });
    expect(completion.choices[0]?.message.content).toBe(full.slice(0, full.indexOf(stop)));
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    await eventually(() => emulator.liveChats() === 0, "the chat is deleted");
    expect(warnings.map((w) => w.code)).toEqual(watch.sawEnd() ? [] : ["reply_still_running"]);
  });
});

describe("GET /v1/models", () => {
  test("lists the server's models, and retrieves one", async () => {
    const { openai } = await setup({ models: [MODEL, "OA_SFT_Llama2_70B_10"] });
    const models: OpenAI.Models.Model[] = [];
    for await (const model of openai().models.list()) models.push(model);
    expect(models).toEqual([
      { id: MODEL, object: "model", created: 0, owned_by: "open-assistant" },
      { id: "OA_SFT_Llama2_70B_10", object: "model", created: 0, owned_by: "open-assistant" },
    ]);
    await expect(openai().models.retrieve(MODEL)).resolves.toMatchObject({ id: MODEL, object: "model" });
  });

  test("an unknown model is a 404 with code model_not_found", async () => {
    const { openai } = await setup();
    await expect(openai().models.retrieve("no-such-model")).rejects.toMatchObject({ status: 404, code: "model_not_found" });
  });
});

test("GET /health answers ok, with the counts of accounts and of usable ones (no detail, no API key needed)", async () => {
  const { gateway } = await setup({}, { apiKey: "health-needs-no-key" });
  const response = await fetch(`${gateway.url}/health`);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ status: "ok", accounts: 1, usable: 1 });
  // The details are behind the API key.
  expect((await fetch(`${gateway.url}/v1/status`)).status).toBe(401);
  const status = await fetch(`${gateway.url}/v1/status`, { headers: { authorization: "Bearer health-needs-no-key" } });
  expect(status.status).toBe(200);
  expect(((await status.json()) as { accounts: unknown[] }).accounts).toHaveLength(1);
});
