import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NoSuchModelError, UnsupportedFunctionalityError, type LanguageModelV3StreamPart } from "@ai-sdk/provider";
import { generateText, NoOutputGeneratedError, streamText, type ModelMessage } from "ai";
import { afterEach, beforeAll, describe, expect, test } from "vitest";
import { createOpenAssistant } from "../../src/ai-sdk/index.js";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/emulator.js";
import { AuthError, ModelNotFoundError, StreamError } from "../../src/errors.js";
import { prompterContent } from "../../src/provider/format-prompt.js";

const MODEL = "OA_SFT_Llama_30B_6";
const HELLO = [{ role: "user" as const, content: "Hello" }];

beforeAll(() => {
  // The warnings are asserted on the results; the SDK would print them too.
  (globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;
});

const running: Emulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((emulator) => emulator.stop()));
});

async function setup(options: EmulatorOptions = {}) {
  const emulator = await startEmulator({ quiet: true, ...options });
  running.push(emulator);
  const openAssistant = createOpenAssistant({ baseURL: emulator.url, cookies: emulator.cookie });
  const assistantRequests = () =>
    emulator.requests
      .filter((request) => request.path === "/api/chat/assistant_message")
      .map((request) => JSON.parse(request.body) as { model_config_name: string; sampling_parameters: Record<string, number | null> });
  return { emulator, openAssistant, assistantRequests };
}

async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("generateText", () => {
  test("the whole reply, finish reason stop, output tokens counted, input tokens estimated; the chat is deleted", async () => {
    const { emulator, openAssistant } = await setup();
    const result = await generateText({ model: openAssistant(MODEL), prompt: "Hello" });
    expect(result.text).toBe(emulator.expectedReply(prompterContent(HELLO)));
    expect(result.finishReason).toBe("stop");
    expect(result.usage.outputTokens).toBe(24);
    // One token per 4 characters of "Hello", rounded up, as the gateway's prompt_tokens.
    expect(result.usage.inputTokens).toBe(2);
    expect(result.response.modelId).toBe(MODEL);
    expect(emulator.liveChats()).toBe(0);
  });

  test("system and conversation messages are flattened as formatPrompt does", async () => {
    const { emulator, openAssistant } = await setup();
    const messages: ModelMessage[] = [
      {
        role: "user",
        content: [
          { type: "text", text: "Hi" },
          { type: "text", text: "there" },
        ],
      },
      { role: "assistant", content: "Hello!" },
      { role: "user", content: "How are you?" },
    ];
    const result = await generateText({ model: openAssistant.languageModel(MODEL), system: "Be brief.", messages });
    const flattened = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi\nthere" },
      { role: "assistant", content: "Hello!" },
      { role: "user", content: "How are you?" },
    ];
    const prompts = emulator.requests
      .filter((request) => request.path === "/api/chat/prompter_message")
      .map((request) => (JSON.parse(request.body) as { content: string }).content);
    expect(prompts).toEqual([prompterContent(flattened)]);
    expect(result.text).toBe(emulator.expectedReply(prompterContent(flattened)));
  });

  test("settings reach the server as sampling parameters; a reply that uses all of maxOutputTokens finishes with length", async () => {
    const { emulator, openAssistant, assistantRequests } = await setup();
    const result = await generateText({
      model: openAssistant("OA_SFT_Llama2_70B_10"),
      prompt: "Hello",
      temperature: 0.7,
      topP: 0.9,
      topK: 40,
      maxOutputTokens: 6,
      providerOptions: { openAssistant: { typicalP: 0.5, repetitionPenalty: 1.3 } },
    });
    expect(assistantRequests()[0]).toMatchObject({
      model_config_name: "OA_SFT_Llama2_70B_10",
      sampling_parameters: { temperature: 0.7, top_p: 0.9, top_k: 40, max_new_tokens: 6, typical_p: 0.5, repetition_penalty: 1.3 },
    });
    expect(result.finishReason).toBe("length");
    expect(result.text).toBe(emulator.expectedReply(prompterContent(HELLO), { maxNewTokens: 6 }));
  });

  test("stopSequences cut the text, and the finish reason is stop", async () => {
    const { emulator, openAssistant } = await setup({ tokenDelayMs: 2 });
    const full = emulator.expectedReply(prompterContent(HELLO));
    const stop = full.slice(10, 14);
    const result = await generateText({ model: openAssistant(MODEL), prompt: "Hello", stopSequences: [stop] });
    expect(result.text).toBe(full.slice(0, full.indexOf(stop)));
    expect(result.finishReason).toBe("stop");
    await eventually(() => emulator.liveChats() === 0, "the chat is deleted");
  });

  test("settings Open-Assistant lacks come back as warnings", async () => {
    const { openAssistant } = await setup();
    const result = await generateText({ model: openAssistant(MODEL), prompt: "Hello", frequencyPenalty: 0.5, seed: 1 });
    expect(result.warnings).toEqual([
      expect.objectContaining({ type: "unsupported", feature: "frequencyPenalty" }),
      expect.objectContaining({ type: "unsupported", feature: "seed" }),
    ]);
  });

  test("an image is refused before anything is sent", async () => {
    const { emulator, openAssistant } = await setup();
    const error = await generateText({
      model: openAssistant(MODEL),
      messages: [{ role: "user", content: [{ type: "image", image: new Uint8Array([1, 2, 3]), mediaType: "image/png" }] }],
    }).catch((caught: unknown) => caught);
    expect(UnsupportedFunctionalityError.isInstance(error)).toBe(true);
    expect(emulator.requests).toEqual([]);
  });

  test("failures reject with oasst's typed errors", async () => {
    const { openAssistant } = await setup({ faults: ["auth"] });
    await expect(generateText({ model: openAssistant(MODEL), prompt: "Hello" })).rejects.toBeInstanceOf(AuthError);
  });
});

describe("streamText", () => {
  test("text deltas that add up to the reply, between text-start and text-end, then finish", async () => {
    const { emulator, openAssistant } = await setup({ tokenDelayMs: 2 });
    const result = streamText({ model: openAssistant(MODEL), prompt: "Hello" });
    let text = "";
    for await (const delta of result.textStream) text += delta;
    expect(text).toBe(emulator.expectedReply(prompterContent(HELLO)));
    expect(await result.finishReason).toBe("stop");
    expect((await result.usage).outputTokens).toBe(24);
    expect(emulator.liveChats()).toBe(0);
  });

  test("the model's own stream parts, in order", async () => {
    const { emulator, openAssistant } = await setup();
    const { stream } = await openAssistant(MODEL).doStream({ prompt: [{ role: "user", content: [{ type: "text", text: "Hello" }] }], includeRawChunks: true });
    const parts: LanguageModelV3StreamPart[] = [];
    const reader = stream.getReader();
    for (let step = await reader.read(); !step.done; step = await reader.read()) parts.push(step.value);
    const types = parts.map((part) => part.type).filter((type) => type !== "raw");
    expect(types[0]).toBe("stream-start");
    expect(types[1]).toBe("response-metadata");
    expect(types[2]).toBe("text-start");
    // One delta per network read: the tokens that arrived together come as one delta.
    const deltas = parts.flatMap((part) => (part.type === "text-delta" ? [part.delta] : []));
    expect(deltas.length).toBeGreaterThanOrEqual(1);
    expect(deltas.length).toBeLessThanOrEqual(24);
    expect(deltas.join("")).toBe(emulator.expectedReply(prompterContent(HELLO)));
    expect(types.slice(-2)).toEqual(["text-end", "finish"]);
    expect(parts.filter((part) => part.type === "raw").map((part) => (part as { rawValue: { event_type: string } }).rawValue.event_type)).toContain("token");
    expect(parts.at(-1)).toMatchObject({
      type: "finish",
      finishReason: { unified: "stop" },
      usage: { inputTokens: { total: 2 }, outputTokens: { total: 24 } },
    });
  });

  test("a failure before the first part rejects doStream, as @ai-sdk/openai-compatible does when its HTTP call fails", async () => {
    const { emulator, openAssistant } = await setup({ faults: ["auth"] });
    await expect(openAssistant(MODEL).doStream({ prompt: [{ role: "user", content: [{ type: "text", text: "Hello" }] }] })).rejects.toBeInstanceOf(AuthError);
    expect(emulator.liveChats()).toBe(0);
  });

  test("streamText with an unknown model: onError gets the typed error, result.text rejects, no text part", async () => {
    const { emulator, openAssistant } = await setup();
    const errors: unknown[] = [];
    const result = streamText({ model: openAssistant("no-such-model"), prompt: "Hello", onError: ({ error }) => void errors.push(error) });
    await expect(result.text).rejects.toBeInstanceOf(NoOutputGeneratedError);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ModelNotFoundError);
    expect(emulator.liveChats()).toBe(0);
  });

  test("a failure mid-stream arrives as an error part after the text so far; the chat is deleted", async () => {
    const { emulator, openAssistant } = await setup({ faults: ["error-event"] });
    const errors: unknown[] = [];
    const result = streamText({ model: openAssistant(MODEL), prompt: "Hello", onError: ({ error }) => void errors.push(error) });
    const parts = [];
    for await (const part of result.fullStream) parts.push(part);
    const text = parts.map((part) => (part.type === "text-delta" ? part.text : "")).join("");
    expect(text.length).toBeGreaterThan(0);
    expect(emulator.expectedReply(prompterContent(HELLO)).startsWith(text)).toBe(true);
    const error = parts.find((part) => part.type === "error");
    expect(error && "error" in error ? error.error : undefined).toBeInstanceOf(StreamError);
    expect(errors[0]).toBeInstanceOf(StreamError);
    expect(await result.text).toBe(text);
    expect(emulator.liveChats()).toBe(0);
  });

  // The reply goes on on the server; its chat is deleted once it has finished (deleting it sooner makes a real server abort other replies).
  test("abortSignal: the upstream reply is aborted mid-stream and the chat deleted", async () => {
    const { emulator, openAssistant } = await setup({ tokenDelayMs: 30, replyTokens: 30 });
    const controller = new AbortController();
    let aborted = false;
    const result = streamText({ model: openAssistant(MODEL), prompt: "Hello", abortSignal: controller.signal, onAbort: () => void (aborted = true) });
    let deltas = 0;
    for await (const part of result.fullStream) {
      if (part.type === "text-delta" && ++deltas === 3) controller.abort();
    }
    expect(aborted).toBe(true);
    await eventually(() => emulator.liveChats() === 0, "the chat is deleted");
  });

  test("a consumer that stops reading: the chat is deleted", async () => {
    const { emulator, openAssistant } = await setup({ tokenDelayMs: 30, replyTokens: 30 });
    const { stream } = await openAssistant(MODEL).doStream({ prompt: [{ role: "user", content: [{ type: "text", text: "Hello" }] }] });
    const reader = stream.getReader();
    while ((await reader.read()).value?.type !== "text-delta");
    await reader.cancel();
    await eventually(() => emulator.liveChats() === 0, "the chat is deleted");
  });

  test("a consumer that stops before the first text part (the reply has started): the chat is deleted", async () => {
    const { emulator, openAssistant } = await setup({ tokenDelayMs: 30, replyTokens: 30 });
    const { stream } = await openAssistant(MODEL).doStream({ prompt: [{ role: "user", content: [{ type: "text", text: "Hello" }] }] });
    const reader = stream.getReader();
    while ((await reader.read()).value?.type !== "response-metadata");
    expect(emulator.liveChats()).toBe(1);
    await reader.cancel();
    await eventually(() => emulator.liveChats() === 0, "the chat is deleted");
  });
});

describe("the provider", () => {
  test("is a v3 provider of language models only", () => {
    const provider = createOpenAssistant();
    expect(provider.specificationVersion).toBe("v3");
    const model = provider(MODEL);
    expect(model).toMatchObject({ specificationVersion: "v3", provider: "open-assistant.chat", modelId: MODEL });
    expect(() => provider.embeddingModel("x")).toThrow(NoSuchModelError);
    expect(() => provider.imageModel("x")).toThrow(NoSuchModelError);
  });

  test("a mistyped setting is refused when the provider is made, not at its first call", () => {
    expect(() => createOpenAssistant({ cookie: "a=b" } as Parameters<typeof createOpenAssistant>[0])).toThrow(/Unknown option "cookie"/);
    // The AI SDK's spelling is baseURL: the provider's baseUrl would otherwise be dropped without a word.
    expect(() => createOpenAssistant({ baseUrl: "http://127.0.0.1:1" } as Parameters<typeof createOpenAssistant>[0])).toThrow(
      expect.objectContaining({ name: "ConfigError", summary: 'createOpenAssistant takes "baseURL", not "baseUrl"' }),
    );
  });

  test("headers and fetch from the settings are used for every request", async () => {
    const emulator = await startEmulator({ quiet: true });
    running.push(emulator);
    const seen: string[] = [];
    const provider = createOpenAssistant({
      baseURL: emulator.url,
      cookies: { [emulator.cookieName]: emulator.sessionToken },
      headers: { "x-trace": "t1" },
      fetch: (url, init) => {
        seen.push(`${init.method} ${new URL(url).pathname}`);
        return fetch(url, init);
      },
    });
    await generateText({ model: provider(MODEL), prompt: "Hello", headers: { "x-call": "c1" } });
    expect(seen).toEqual([
      "POST /api/chat",
      "POST /api/chat/prompter_message",
      "POST /api/chat/assistant_message",
      "POST /api/chat/events",
      "DELETE /api/chat",
    ]);
    expect(emulator.requests.every((request) => request.headers["x-trace"] === "t1" && request.headers["x-call"] === "c1")).toBe(true);
  });
  test("take the provider's connection options: a cookies file, a user agent, a request trail", async () => {
    const emulator = await startEmulator({ quiet: true });
    running.push(emulator);
    const dir = await mkdtemp(join(tmpdir(), "oasst-ai-sdk-"));
    const cookiesFile = join(dir, "cookies.txt");
    const { hostname } = new URL(emulator.url);
    await writeFile(cookiesFile, `${hostname}\tFALSE\t/\tFALSE\t0\t${emulator.cookieName}\t${emulator.sessionToken}\n`);
    const trail: string[] = [];
    const provider = createOpenAssistant({
      baseURL: emulator.url,
      cookiesFile,
      userAgent: "oasst-test/1",
      env: {},
      onRequest: (entry) => trail.push(`${entry.method} ${entry.status ?? "-"}`),
    });
    const { text } = await generateText({ model: provider(MODEL), prompt: "Hello" });
    expect(text).toBe(emulator.expectedReply(prompterContent(HELLO)));
    expect(trail).toContain("POST 200");
    expect(emulator.requests.every((request) => request.headers["user-agent"] === "oasst-test/1")).toBe(true);
    await rm(dir, { recursive: true, force: true });
  });
});

describe("conversations", () => {
  test("providerMetadata.openAssistant names the kept chat; passed back in providerOptions, the next turn sends the new message alone", async () => {
    const { emulator, openAssistant } = await setup({ replyTokens: 5 });
    const first = await generateText({
      model: openAssistant(MODEL),
      prompt: "first turn",
      providerOptions: { openAssistant: { conversation: "new" } },
    });
    const handle = first.providerMetadata?.openAssistant;
    expect(handle).toEqual({ chatId: expect.any(String), messageId: expect.any(String), parentId: expect.any(String) });
    expect(emulator.liveChats()).toBe(1);

    const messages: ModelMessage[] = [
      { role: "user", content: "first turn" },
      { role: "assistant", content: first.text },
      { role: "user", content: "second turn" },
    ];
    const second = streamText({ model: openAssistant(MODEL), messages, providerOptions: { openAssistant: { conversation: handle! } } });
    expect(await second.text).toBe(emulator.expectedReply("second turn"));
    const next = await second.providerMetadata;
    expect(next?.openAssistant?.chatId).toBe(handle!.chatId);
    expect(next?.openAssistant?.messageId).not.toBe(handle!.messageId);
    const prompters = emulator.requests
      .filter((request) => request.path === "/api/chat/prompter_message")
      .map((request) => JSON.parse(request.body) as { parent_id: string | null; content: string });
    expect(prompters.at(-1)).toEqual({ chat_id: handle!.chatId, parent_id: handle!.messageId, content: "second turn" });
    expect(emulator.liveChats()).toBe(1);
  });

  test("without the option nothing is kept and no metadata comes back; a broken handle is an InvalidArgumentError", async () => {
    const { emulator, openAssistant } = await setup({ replyTokens: 3 });
    const plain = await generateText({ model: openAssistant(MODEL), prompt: "hi" });
    expect(plain.providerMetadata?.openAssistant).toBeUndefined();
    expect(emulator.liveChats()).toBe(0);
    await expect(
      generateText({ model: openAssistant(MODEL), prompt: "hi", providerOptions: { openAssistant: { conversation: { chatId: "x" } } } }),
    ).rejects.toMatchObject({ name: "AI_InvalidArgumentError", argument: "providerOptions.openAssistant.conversation" });
  });
});
