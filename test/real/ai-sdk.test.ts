/** The Vercel AI SDK provider (oasst/ai-sdk) with `generateText` / `streamText` of `ai`, against the real stack. */
import { generateText, streamText } from "ai";
import { beforeAll, describe, expect, it } from "vitest";
import { createOpenAssistant } from "../../src/ai-sdk/index.js";
import { StreamError } from "../../src/index.js";
import { MODEL, chatIds, realStack, userCookie, waitForNoChats } from "./stack.js";

beforeAll(() => {
  (globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;
});

async function provider() {
  const cookie = await userCookie("ai");
  return { cookie, openAssistant: createOpenAssistant({ baseURL: realStack().website, cookies: cookie }) };
}

describe("generateText", () => {
  it("the whole reply, finish reason stop, output tokens counted; the chat is deleted", async () => {
    const { cookie, openAssistant } = await provider();
    const result = await generateText({ model: openAssistant(MODEL), prompt: "hello sdk [[fake:tokens=5]]", maxRetries: 0 });
    expect(result.text).toMatch(/^You said: .*hello sdk/s);
    expect(result.text.endsWith("lorem ipsum dolor sit amet")).toBe(true);
    expect(result.finishReason).toBe("stop");
    expect(result.usage.outputTokens).toBeGreaterThan(5);
    expect(result.response.modelId).toBe(MODEL);
    await waitForNoChats(cookie);
  });

  it("system and messages, and maxOutputTokens: finish reason length", async () => {
    const { cookie, openAssistant } = await provider();
    const result = await generateText({
      model: openAssistant(MODEL),
      system: "Be brief.",
      messages: [
        { role: "user", content: "Name a planet." },
        { role: "assistant", content: "Mars." },
        { role: "user", content: "Another one?" },
      ],
      maxOutputTokens: 4,
      maxRetries: 0,
    });
    expect(result.finishReason).toBe("length");
    expect(result.text.startsWith("You said:")).toBe(true);
    await waitForNoChats(cookie);
  });

  it("an error event rejects with StreamError (the server's text); the chat is deleted", async () => {
    const { cookie, openAssistant } = await provider();
    const error = await generateText({ model: openAssistant(MODEL), prompt: "boom [[fake:error]]", maxRetries: 0 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StreamError);
    expect((error as StreamError).serverMessage).toContain("fake worker error");
    await waitForNoChats(cookie);
  });
});

describe("streamText", () => {
  it("text deltas that add up to the reply, then finish; the chat is deleted", async () => {
    const { cookie, openAssistant } = await provider();
    const result = streamText({ model: openAssistant(MODEL), prompt: "stream sdk [[fake:tokens=6]]", maxRetries: 0 });
    const deltas: string[] = [];
    for await (const delta of result.textStream) deltas.push(delta);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join("")).toMatch(/^You said: .*stream sdk/s);
    expect(await result.finishReason).toBe("stop");
    await waitForNoChats(cookie);
  });

  it('a worker that drops: an error part with StreamError "Aborted due to worker error."; the chat is deleted', async () => {
    const { cookie, openAssistant } = await provider();
    const errors: unknown[] = [];
    const result = streamText({
      model: openAssistant(MODEL),
      prompt: "cut [[fake:disconnect]]",
      maxRetries: 0,
      onError: ({ error }) => void errors.push(error),
    });
    let text = "";
    for await (const part of result.fullStream) if (part.type === "text-delta") text += part.text;
    expect(text).toMatch(/^You said:/);
    expect(errors[0]).toBeInstanceOf(StreamError);
    expect((errors[0] as StreamError).serverMessage).toBe("Aborted due to worker error.");
    await waitForNoChats(cookie);
  });

  it("abortSignal mid-stream: the chat is deleted", async () => {
    const { cookie, openAssistant } = await provider();
    const controller = new AbortController();
    const result = streamText({
      model: openAssistant(MODEL),
      prompt: "long [[fake:tokens=300]] [[fake:delay=50]]",
      abortSignal: controller.signal,
      maxRetries: 0,
    });
    let deltas = 0;
    for await (const part of result.fullStream) {
      if (part.type === "text-delta" && ++deltas === 2) {
        expect(await chatIds(cookie)).toHaveLength(1);
        controller.abort();
      }
    }
    await waitForNoChats(cookie);
  });
});
