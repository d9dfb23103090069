import OpenAI from "openai";
import { describe, expect, test } from "vitest";
import { prompterContent } from "../../src/provider/format-prompt.js";
import { MODEL, eventually, post, setup } from "./gateway-harness.js";

const HELLO = [{ role: "user" as const, content: "Hello" }];

/** The status, Retry-After and error body of a failing call. */
async function failure(response: Response) {
  return { status: response.status, retryAfter: response.headers.get("retry-after"), body: (await response.json()) as { error: Record<string, unknown> } };
}

describe("requests the gateway refuses (400) say why", () => {
  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ["frequency_penalty", { frequency_penalty: 0.5 }, "frequency_penalty", /not supported/],
    ["presence_penalty", { presence_penalty: -1 }, "presence_penalty", /not supported/],
    ["n > 1", { n: 2 }, "n", /not supported/],
    ["tools", { tools: [{ type: "function", function: { name: "f", parameters: {} } }] }, "tools", /not supported/],
    [
      "an image part",
      { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }] },
      "messages[0].content[0]",
      /Images are not supported/,
    ],
    ["a tool message", { messages: [{ role: "tool", content: "42", tool_call_id: "1" }] }, "messages[0].role", /Tools are not supported/],
    ["JSON mode", { response_format: { type: "json_object" } }, "response_format", /not supported/],
    ["a wrong type", { temperature: "hot" }, "temperature", /must be a number/],
    ["an out-of-range value", { top_p: 2 }, "top_p", /between 0 and 1/],
    ["max_tokens 0", { max_tokens: 0 }, "max_tokens", /at least 1/],
    ["no model", { model: undefined }, "model", /model/],
    ["no messages", { messages: [] }, "messages", /non-empty array/],
    ["an unknown role", { messages: [{ role: "robot", content: "x" }] }, "messages[0].role", /must be one of/],
    ["a bad stop", { stop: [1] }, "stop", /string/],
  ];
  test.each(cases)("%s", async (_name, change, param, message) => {
    const { gateway, emulator } = await setup();
    const { status, body } = await failure(await post(gateway, "/v1/chat/completions", { model: MODEL, messages: HELLO, ...change }));
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ type: "invalid_request_error", param });
    expect(body.error.message).toMatch(message);
    expect(emulator.requests).toEqual([]);
  });

  test("the openai client sees a BadRequestError with the message", async () => {
    const { openai } = await setup();
    await expect(openai().chat.completions.create({ model: MODEL, messages: HELLO, n: 3 })).rejects.toMatchObject({
      status: 400,
      param: "n",
      message: expect.stringMatching(/`n` > 1 is not supported/),
    });
  });

  test("0 penalties, n 1 and empty tools are OpenAI's defaults, and are served", async () => {
    const { openai } = await setup();
    const completion = await openai().chat.completions.create({ model: MODEL, messages: HELLO, frequency_penalty: 0, presence_penalty: 0, n: 1, tools: [] });
    expect(completion.choices[0]?.finish_reason).toBe("stop");
  });

  test("malformed JSON is a 400, and the gateway keeps serving", async () => {
    const { gateway, openai } = await setup();
    for (const body of ["{", "null", "[]", '"text"']) {
      const { status, body: answer } = await failure(await post(gateway, "/v1/chat/completions", body));
      expect(status).toBe(400);
      expect(answer.error.type).toBe("invalid_request_error");
    }
    await expect(openai().chat.completions.create({ model: MODEL, messages: HELLO })).resolves.toBeTruthy();
  });

  test("an unknown route is a 404 in OpenAI's shape", async () => {
    const { gateway } = await setup();
    const { status, body } = await failure(await fetch(`${gateway.url}/v1/embeddings`, { method: "POST" }));
    expect(status).toBe(404);
    expect(body.error.code).toBe("unknown_url");
  });
});

describe("upstream failures keep their meaning", () => {
  test("rejected session cookie: 401", async () => {
    const { openai } = await setup({ faults: ["auth"] });
    await expect(openai().chat.completions.create({ model: MODEL, messages: HELLO })).rejects.toMatchObject({ status: 401, type: "authentication_error" });
  });

  test("rate limit: 429 with the server's Retry-After", async () => {
    const { gateway } = await setup({ faults: ["rate-limit"] });
    const { status, retryAfter, body } = await failure(await post(gateway, "/v1/chat/completions", { model: MODEL, messages: HELLO }));
    expect(status).toBe(429);
    expect(retryAfter).toBe("2");
    expect(body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
  });

  test("busy: 503", async () => {
    const { openai } = await setup({ faults: ["busy"] });
    await expect(openai().chat.completions.create({ model: MODEL, messages: HELLO, stream: true })).rejects.toMatchObject({ status: 503, code: "server_busy" });
  });

  test("unknown model: 404 listing the server's models", async () => {
    const { openai } = await setup({ models: [MODEL] });
    const error = await openai()
      .chat.completions.create({ model: "gpt-4o", messages: HELLO })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({ code: "model_not_found", param: "model", message: expect.stringContaining(MODEL) });
  });

  test.each([["html"], ["redirect"], ["close-mid-json"]] as const)("upstream %s: 502", async (fault) => {
    const { openai } = await setup({ faults: [fault] });
    await expect(openai().chat.completions.create({ model: MODEL, messages: HELLO })).rejects.toMatchObject({ status: 502, type: "server_error" });
  });

  test("a failure after streaming began arrives as an error chunk, after the text so far; the chat is deleted", async () => {
    const { openai, emulator } = await setup({ faults: ["error-event"] });
    const stream = await openai().chat.completions.create({ model: MODEL, messages: HELLO, stream: true });
    let text = "";
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toMatch(/worker error/);
    expect(text.length).toBeGreaterThan(0);
    expect(emulator.expectedReply(prompterContent(HELLO)).startsWith(text)).toBe(true);
    // The delete runs after the answer.
    await eventually(() => emulator.liveChats() === 0, "the chat's delete");
  });

  test("the raw stream: an error chunk, then the end, without [DONE]", async () => {
    const { gateway } = await setup({ faults: ["drop"] });
    const response = await post(gateway, "/v1/chat/completions", { model: MODEL, messages: HELLO, stream: true });
    expect(response.status).toBe(200);
    const frames = (await response.text()).split("\n\n").filter(Boolean);
    const last = JSON.parse(frames.at(-1)?.replace(/^data: /, "") ?? "") as { error: { type: string; code: string } };
    expect(last.error).toMatchObject({ type: "server_error", code: "upstream_stream" });
    expect(frames).not.toContain("data: [DONE]");
  });

  test("a server that sends only the final message still gives the reply", async () => {
    const { openai, emulator } = await setup({ faults: ["message-only"] });
    const completion = await openai().chat.completions.create({ model: MODEL, messages: HELLO });
    expect(completion.choices[0]?.message.content).toBe(emulator.expectedReply(prompterContent(HELLO)));
  });
});
