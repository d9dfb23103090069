import { describe, expect, it } from "vitest";
import type { ChatEvent, MessageEvent, MessageRead } from "../../src/client/wire-types.js";
import { replyTokens } from "../../src/emulator/emulator.js";
import { dataPayloads, emulator, http, postJson, rawExchange, startReply } from "./helpers.js";

const PROMPT = "<s>[INST]\nHello\n[/INST]";

describe("event stream", () => {
  it("is 200, chunked, without content-type or SSE headers, framed with CRLF", async () => {
    const server = await emulator({ replyTokens: 5, pendingEvents: 1 });
    const { eventsPath } = await startReply(server, PROMPT);
    const exchange = await rawExchange(server, "GET", eventsPath);
    expect(exchange.head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(exchange.head).toMatch(/\r\nTransfer-Encoding: chunked/i);
    expect(exchange.head).not.toMatch(/content-type|cache-control|x-accel-buffering/i);
    expect(exchange.cut).toBe(false);
    const body = exchange.body.toString("latin1");
    expect(body).toMatch(/^data: \{"event_type": "pending", "queue_position": 1, "queue_size": 1\}\r\n\r\n/);
    expect(body.endsWith("}}\r\n\r\n")).toBe(true);
    expect(body.replaceAll("\r\n", "")).not.toMatch(/[\r\n]/);
  });

  it("writes each event as pydantic JSON: `, ` and `: ` separators, \\uXXXX escapes, surrogate pairs", async () => {
    const server = await emulator({ replyTokens: 400 });
    const { eventsPath } = await startReply(server, PROMPT);
    const body = (await http(server, "GET", eventsPath)).body;
    // Pure ASCII on the wire: every non-ASCII character is escaped.
    expect([...body].every((byte) => byte < 0x80)).toBe(true);
    const tokens = replyTokens(PROMPT, 400);
    const payloads = dataPayloads(body).filter((payload) => payload.includes('"token"'));
    expect(payloads).toHaveLength(400);
    const pyEscape = (text: string) => JSON.stringify(text).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
    payloads.forEach((payload, i) => expect(payload).toBe(`{"event_type": "token", "text": ${pyEscape(tokens[i]!)}}`));
    const text = body.toString("latin1");
    expect(text).toContain('"text": " w\\u00f6rld"');
    expect(text).toContain('"text": " \\ud83d\\ude42"');
    expect(text).toContain('"text": " \\"quoted\\""');
    expect(text).toContain('"text": " back\\\\slash"');
  });

  it("sends pending events counting down, then tokens, then the complete message, then ends", async () => {
    const server = await emulator({ replyTokens: 7, pendingEvents: 3 });
    const { eventsPath, assistant } = await startReply(server, PROMPT);
    const events = dataPayloads((await http(server, "POST", eventsPath)).body).map((payload) => JSON.parse(payload) as ChatEvent);
    expect(events.map((event) => event.event_type)).toEqual(["pending", "pending", "pending", ...Array(7).fill("token"), "message"]);
    expect(events.slice(0, 3)).toEqual([3, 2, 1].map((position) => ({ event_type: "pending", queue_position: position, queue_size: 3 })));
    const final = (events.at(-1) as MessageEvent).message;
    const text = events.flatMap((event) => (event.event_type === "token" ? [event.text] : [])).join("");
    expect(text).toBe(server.expectedReply(PROMPT));
    expect(final.content).toBe(text);
    expect(final).toMatchObject({ id: assistant.id, state: "complete", role: "assistant", parent_id: assistant.parent_id });
  });

  it("writes the final message like pydantic: every field, in order, floats as Python floats, the exact seed", async () => {
    const server = await emulator({ replyTokens: 2 });
    const { eventsPath, assistant } = await startReply(server, PROMPT, {
      samplingParameters: { top_k: 50, temperature: 1, repetition_penalty: 1.1111111111111112, top_p: 0.00001 },
    });
    const payloads = dataPayloads((await http(server, "GET", eventsPath)).body);
    const final = payloads.at(-1)!;
    expect(final).toMatch(
      /^\{"event_type": "message", "message": \{"id": "[0-9a-f-]{36}", "parent_id": "[0-9a-f-]{36}", "content": ".*", "chat_id": "[0-9a-f-]{36}", "created_at": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?", "role": "assistant", "state": "complete", "score": 0, "reports": \[\], "work_parameters": \{"model_config": \{"model_id": "OpenAssistant\/oasst-sft-6-llama-30b", "max_input_length": 1024, "max_total_length": 1792, "quantized": false\}, "sampling_parameters": \{"top_k": 50, "top_p": 1e-05, "typical_p": null, "temperature": 1\.0, "repetition_penalty": 1\.1111111111111112, "max_new_tokens": 1024\}, "do_sample": true, "seed": \d+, "system_prompt": null, "user_profile": null, "user_response_instructions": null, "plugins": \[\], "plugin_max_depth": 4\}, "safe_content": null, "safety_level": null, "safety_label": null, "safety_rots": null, "used_plugin": null\}\}$/,
    );
    // The REST view went through JSON.parse on the website: its seed is the exact one rounded to a double.
    const exactSeed = BigInt(/"seed": (\d+)/.exec(final)![1]!);
    expect(exactSeed).toBeLessThanOrEqual(0xffff_ffff_ffff_fffen);
    expect(Number(exactSeed)).toBe(assistant.work_parameters!.seed);
  });

  it("sends ping comments every pingIntervalMs, with a naive UTC str(datetime)", async () => {
    const server = await emulator({ replyTokens: 3, pendingEvents: 2, pendingIntervalMs: 130, pingIntervalMs: 50 });
    const { eventsPath } = await startReply(server, PROMPT);
    const started = Date.now();
    const text = (await http(server, "GET", eventsPath)).text;
    const pings = text.match(/: ping - [^\r\n]*\r\n\r\n/g) ?? [];
    expect(pings.length).toBeGreaterThanOrEqual(3);
    for (const ping of pings) expect(ping).toMatch(/^: ping - \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\r\n\r\n$/);
    const first = /: ping - (\S+ \S+)/.exec(text)![1]!;
    expect(Math.abs(Date.parse(`${first.replace(" ", "T")}Z`) - (started + 50))).toBeLessThan(1000);
    // Pings interleave between events, never inside one.
    expect(dataPayloads(text).every((payload) => payload.startsWith("{") && payload.endsWith("}"))).toBe(true);
  });

  it("caps the reply at the request's max_new_tokens", async () => {
    const server = await emulator({ replyTokens: 30 });
    const { eventsPath } = await startReply(server, PROMPT, { samplingParameters: { max_new_tokens: 4 } });
    const tokens = dataPayloads((await http(server, "GET", eventsPath)).body).filter((payload) => payload.includes('"token"'));
    expect(tokens).toHaveLength(4);
    expect(server.expectedReply(PROMPT, { maxNewTokens: 4 })).toBe(replyTokens(PROMPT, 4).join(""));
  });

  it("spaces tokens by tokenDelayMs", async () => {
    const server = await emulator({ replyTokens: 6, tokenDelayMs: 40 });
    const { eventsPath } = await startReply(server, PROMPT);
    const started = Date.now();
    const response = await fetch(`${server.url}${eventsPath}`, { headers: { cookie: server.cookie } });
    const text = await response.text();
    // The worker started at the POST: the stream waits for the tokens still to come (no pending event: a free worker).
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * 40 - 10);
    expect(dataPayloads(text)).toHaveLength(6 + 1);
  });

  it("answers a second events request for the finished message with an empty chunked 200", async () => {
    const server = await emulator();
    const { eventsPath } = await startReply(server, PROMPT);
    await http(server, "GET", eventsPath);
    const again = await rawExchange(server, "GET", eventsPath);
    expect(again.head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    // The website pipes the inference server's empty 204 body into `res`: chunked, no Content-Length.
    expect(again.head).toMatch(/\r\nTransfer-Encoding: chunked/i);
    expect(again.head).not.toMatch(/content-length/i);
    expect(again.cut).toBe(false);
    expect(again.head).not.toMatch(/content-type/i);
    expect(again.body).toHaveLength(0);
  });

  it("answers 500 text for an unknown message or a prompter message", async () => {
    const server = await emulator();
    const { chatId, prompterId } = await startReply(server, PROMPT);
    for (const messageId of ["nope", prompterId]) {
      const response = await http(server, "GET", `/api/chat/events?chat_id=${chatId}&message_id=${messageId}`);
      expect(response.status).toBe(500);
      expect(response.text).toBe("Internal Server Error");
    }
  });

  it("lets the chat continue: a prompter message may follow the completed assistant message", async () => {
    const server = await emulator({ replyTokens: 3 });
    const first = await startReply(server, PROMPT);
    const early = await postJson(server, "/api/chat/prompter_message", { chat_id: first.chatId, parent_id: first.assistant.id, content: "More" });
    expect(early.status).toBe(400);
    expect(JSON.parse(early.text)).toEqual({ message: "Parent message is not complete" });
    await http(server, "GET", first.eventsPath);
    const second = await startReply(server, "More", { chatId: first.chatId, parentId: first.assistant.id });
    await http(server, "GET", second.eventsPath);
    const chat = JSON.parse((await http(server, "GET", `/api/chat?chat_id=${first.chatId}`)).text) as { messages: MessageRead[] };
    expect(chat.messages.map((message) => [message.role, message.state])).toEqual([
      ["prompter", "manual"],
      ["assistant", "complete"],
      ["prompter", "manual"],
      ["assistant", "complete"],
    ]);
    expect(chat.messages[3]!.content).toBe(server.expectedReply("More"));
  });

  it("marks the message in_progress while it streams, and finishes it even when the client leaves", async () => {
    const server = await emulator({ replyTokens: 50, tokenDelayMs: 20 });
    const { eventsPath, chatId, assistant } = await startReply(server, PROMPT);
    const controller = new AbortController();
    const response = await fetch(`${server.url}${eventsPath}`, { headers: { cookie: server.cookie }, signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    const read = async () => JSON.parse((await http(server, "GET", `/api/chat/message?chat_id=${chatId}&message_id=${assistant.id}`)).text) as MessageRead;
    expect((await read()).state).toMatch(/pending|in_progress/);
    controller.abort();
    // The worker goes on for the rest of the reply (about a second here), however loaded the machine.
    await expect.poll(async () => (await read()).state, { timeout: 10_000 }).toBe("complete");
    expect((await read()).content).toBe(server.expectedReply(PROMPT));
  });
});

describe("replies", () => {
  it("are deterministic per prompt, one word per token with a leading space after the first", () => {
    const tokens = replyTokens("Hi", 50);
    expect(replyTokens("Hi", 50)).toEqual(tokens);
    expect(replyTokens("Hi", 10)).toEqual(tokens.slice(0, 10));
    expect(replyTokens("Ho", 50)).not.toEqual(tokens);
    expect(tokens[0]).not.toMatch(/^ /);
    for (const token of tokens.slice(1)) expect(token).toMatch(/^ \S+$/);
    expect(replyTokens("Hi", 0)).toEqual([]);
  });

  it("include non-ASCII words, an astral emoji and JSON-escaped characters over a long reply", () => {
    const text = replyTokens("Hello", 2000).join("");
    for (const word of ["wörld", "café", "naïve", "🙂", '"quoted"', "back\\slash"]) expect(text).toContain(word);
  });
});
