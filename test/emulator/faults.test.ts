import { request } from "node:http";
import { describe, expect, it } from "vitest";
import type { ChatRead, ErrorEvent, MessageEvent, MessageRead } from "../../src/client/wire-types.js";
import { replyTokens } from "../../src/emulator/emulator.js";
import { resolveSettings } from "../../src/emulator/settings.js";
import { dataPayloads, emulator, http, MODEL, postJson, rawExchange, startReply } from "./helpers.js";

const PROMPT = "Hello";

function tokenPayloads(body: Buffer | string, separator = "\r\n"): string[] {
  return dataPayloads(body, separator).filter((payload) => payload.startsWith('{"event_type": "token"'));
}

describe("faults on REST routes", () => {
  it("auth: 403 empty on every /api/chat route even with the right cookie", async () => {
    const server = await emulator({ faults: ["auth"] });
    for (const path of ["/api/chat", "/api/chat/models", "/api/chat/prompter_message"]) {
      const response = await http(server, "POST", path);
      expect([response.status, response.body.length]).toEqual([403, 0]);
    }
  });

  it("rate-limit: 429 with Retry-After: 2 on assistant_message", async () => {
    const server = await emulator({ faults: ["rate-limit"] });
    const response = await postJson(server, "/api/chat/assistant_message", {});
    expect(response.status).toBe(429);
    expect(response.headers["retry-after"]).toBe("2");
    expect(response.text).toBe('{"message":"Too Many Requests. Retry After 2 seconds."}');
  });

  it("rate-limit-500: what the real stack answers, 500 Something went wrong", async () => {
    const server = await emulator({ faults: ["rate-limit-500"] });
    const response = await postJson(server, "/api/chat/assistant_message", {});
    expect([response.status, response.text]).toEqual([500, '{"message":"Something went wrong"}']);
  });

  it("busy: 503 after the message row was inserted (it stays pending)", async () => {
    const server = await emulator({ faults: ["busy"] });
    const chatId = (JSON.parse((await http(server, "POST", "/api/chat")).text) as { id: string }).id;
    const prompter = JSON.parse((await postJson(server, "/api/chat/prompter_message", { chat_id: chatId, content: "Hi" })).text) as MessageRead;
    const response = await postJson(server, "/api/chat/assistant_message", { chat_id: chatId, parent_id: prompter.id, model_config_name: MODEL });
    expect([response.status, response.text]).toEqual([503, '{"message":"The server is currently busy. Please try again later."}']);
    const chat = JSON.parse((await http(server, "GET", `/api/chat?chat_id=${chatId}`)).text) as ChatRead;
    expect(chat.messages.map((message) => message.state)).toEqual(["manual", "pending"]);
  });

  it("delete-500: the delete fails with 500 text and the chat stays live", async () => {
    const server = await emulator({ faults: ["delete-500"] });
    const chatId = (JSON.parse((await http(server, "POST", "/api/chat")).text) as { id: string }).id;
    const response = await http(server, "DELETE", `/api/chat?chat_id=${chatId}`);
    expect([response.status, response.text]).toEqual([500, "Internal Server Error"]);
    expect(server.liveChats()).toBe(1);
  });

  it("html: POST /api/chat answers 200 with an HTML page", async () => {
    const server = await emulator({ faults: ["html"] });
    const response = await http(server, "POST", "/api/chat");
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(response.text).toMatch(/^<!DOCTYPE html>/);
    expect(server.liveChats()).toBe(0);
  });

  it("redirect: every /api/chat route answers 302 to another host", async () => {
    const server = await emulator({ faults: ["redirect"] });
    for (const path of ["/api/chat", "/api/chat/events?chat_id=a&message_id=b"]) {
      const response = await http(server, "POST", path);
      expect(response.status).toBe(302);
      expect(response.headers.location).toMatch(/^http:\/\/evil\.example\//);
    }
  });

  it("close-mid-json: half of the chat's JSON, then the socket is destroyed", async () => {
    const server = await emulator({ faults: ["close-mid-json"] });
    const received = await new Promise<{ status: number; bytes: number; declared: number; error: string }>((resolve) => {
      const outgoing = request(`${server.url}/api/chat`, { method: "POST", headers: { cookie: server.cookie }, agent: false }, (incoming) => {
        let bytes = 0;
        incoming.on("data", (chunk: Buffer) => (bytes += chunk.length));
        incoming.on("error", (error) =>
          resolve({ status: incoming.statusCode ?? 0, bytes, declared: Number(incoming.headers["content-length"]), error: error.message }),
        );
      });
      outgoing.end();
    });
    expect(received.status).toBe(200);
    expect(received.error).toBe("aborted");
    expect(received.bytes).toBe(received.declared >> 1);
  });

  it("slow-headers: nothing for slowHeadersMs (10 s by default), then the normal answer", async () => {
    expect(resolveSettings({}).slowHeadersMs).toBe(10_000);
    const server = await emulator({ faults: ["slow-headers"], slowHeadersMs: 1_000 });
    const started = Date.now();
    const early = await fetch(`${server.url}/api/chat/models`, { headers: { cookie: server.cookie }, signal: AbortSignal.timeout(300) }).catch(
      (error: Error) => error.name,
    );
    expect(early).toBe("TimeoutError");
    const response = await http(server, "GET", "/api/chat/models");
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });
});

describe("faults on the event stream", () => {
  it("error-event: half the tokens, then an error event with the aborted message, then the end", async () => {
    const server = await emulator({ faults: ["error-event"], replyTokens: 10 });
    const { eventsPath, chatId, assistant } = await startReply(server, PROMPT);
    const exchange = await rawExchange(server, "GET", eventsPath);
    expect(exchange.cut).toBe(false);
    const payloads = dataPayloads(exchange.body);
    expect(tokenPayloads(exchange.body)).toHaveLength(5);
    const last = payloads.at(-1)!;
    expect(last).toMatch(/^\{"event_type": "error", "error": "Aborted due to worker error\.", "message": \{"id": /);
    const error = JSON.parse(last) as ErrorEvent;
    expect(error.message).toMatchObject({ id: assistant.id, state: "aborted_by_worker", content: null });
    // Finished: a second request is empty, and no prompter message may follow it.
    expect((await http(server, "GET", eventsPath)).body).toHaveLength(0);
    const next = await postJson(server, "/api/chat/prompter_message", { chat_id: chatId, parent_id: assistant.id, content: "x" });
    expect(JSON.parse(next.text)).toEqual({ message: "Parent message is not complete" });
  });

  it("error-first: the error comes before any token", async () => {
    const server = await emulator({ faults: ["error-first"], pendingEvents: 1 });
    const { eventsPath } = await startReply(server, PROMPT);
    const types = dataPayloads((await http(server, "GET", eventsPath)).body).map((payload) => (JSON.parse(payload) as { event_type: string }).event_type);
    expect(types).toEqual(["pending", "error"]);
  });

  it("drop: half the tokens, then the connection is cut without the terminal chunk", async () => {
    const server = await emulator({ faults: ["drop"], replyTokens: 10 });
    const { eventsPath, chatId, assistant } = await startReply(server, PROMPT);
    const exchange = await rawExchange(server, "GET", eventsPath);
    expect(exchange.cut).toBe(true);
    expect(tokenPayloads(exchange.body)).toHaveLength(5);
    expect(exchange.body.toString()).not.toContain('"event_type": "message"');
    // The worker finished anyway.
    const message = JSON.parse((await http(server, "GET", `/api/chat/message?chat_id=${chatId}&message_id=${assistant.id}`)).text) as MessageRead;
    expect(message.state).toBe("complete");
  });

  it("hang: only ping comments until the client leaves", async () => {
    const server = await emulator({ faults: ["hang"], pingIntervalMs: 30 });
    const { eventsPath } = await startReply(server, PROMPT);
    const response = await fetch(`${server.url}${eventsPath}`, { headers: { cookie: server.cookie } });
    const reader = response.body!.getReader();
    let text = "";
    while ((text.match(/: ping/g) ?? []).length < 3) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toMatch(/^(: ping - [\d-]+ [\d:.]+\r\n\r\n)+$/);
  });

  it("endless: token events and nothing else, for as long as the client reads", async () => {
    const server = await emulator({ faults: ["endless"], replyTokens: 5, pendingEvents: 1 });
    const { eventsPath } = await startReply(server, PROMPT);
    const response = await fetch(`${server.url}${eventsPath}`, { headers: { cookie: server.cookie } });
    const reader = response.body!.getReader();
    let text = "";
    while (text.length < 200_000) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const complete = text.slice(0, text.lastIndexOf("\r\n\r\n") + 4);
    const payloads = dataPayloads(complete);
    expect(payloads.length).toBeGreaterThan(2000);
    expect(payloads.slice(1).every((payload) => payload.startsWith('{"event_type": "token"'))).toBe(true);
    const texts = payloads.slice(1, 101).map((payload) => (JSON.parse(payload) as { text: string }).text);
    expect(texts).toEqual(replyTokens(PROMPT, 100));
  });

  it("malformed-json: an unparsable data line after 3 tokens", async () => {
    const server = await emulator({ faults: ["malformed-json"], replyTokens: 6, pendingEvents: 1 });
    const { eventsPath } = await startReply(server, PROMPT);
    const payloads = dataPayloads((await http(server, "GET", eventsPath)).body);
    expect(payloads[4]).toBe('{"event_type": "token", "text": "unterminated');
    expect(() => JSON.parse(payloads[4]!) as unknown).toThrow(SyntaxError);
    expect(payloads.slice(1, 4).every((payload) => payload.startsWith('{"event_type": "token"'))).toBe(true);
  });

  it("empty-events: 200 with an empty body; the message is finished (the client reads it instead)", async () => {
    const server = await emulator({ faults: ["empty-events"] });
    const { eventsPath, chatId, assistant } = await startReply(server, PROMPT);
    const response = await http(server, "GET", eventsPath);
    expect([response.status, response.body.length]).toEqual([200, 0]);
    const message = JSON.parse((await http(server, "GET", `/api/chat/message?chat_id=${chatId}&message_id=${assistant.id}`)).text) as MessageRead;
    expect([message.state, message.content]).toEqual(["complete", server.expectedReply(PROMPT)]);
  });

  it("message-only: the final message with no token before it", async () => {
    const server = await emulator({ faults: ["message-only"], pendingEvents: 1 });
    const { eventsPath } = await startReply(server, PROMPT);
    const payloads = dataPayloads((await http(server, "GET", eventsPath)).body);
    expect(payloads.map((payload) => (JSON.parse(payload) as { event_type: string }).event_type)).toEqual(["pending", "message"]);
    expect((JSON.parse(payloads[1]!) as MessageEvent).message.content).toBe(server.expectedReply(PROMPT));
  });

  it("byte-chunks: every chunk of the body is one byte, and the bytes are the normal stream", async () => {
    const server = await emulator({ faults: ["byte-chunks"], replyTokens: 6, pingIntervalMs: 5 });
    const { eventsPath } = await startReply(server, PROMPT);
    const exchange = await rawExchange(server, "GET", eventsPath);
    expect(exchange.chunks.length).toBeGreaterThan(500);
    expect(exchange.chunks.every((chunk) => chunk.length === 1)).toBe(true);
    const withoutPings = exchange.body.toString().replace(/: ping - [^\r]*\r\n\r\n/g, "");
    expect(
      tokenPayloads(withoutPings)
        .map((payload) => (JSON.parse(payload) as { text: string }).text)
        .join(""),
    ).toBe(server.expectedReply(PROMPT));
    // Pings wait for the event being written: every event is still whole.
    expect(dataPayloads(withoutPings).every((payload) => (JSON.parse(payload) as object) !== null)).toBe(true);
  });

  it.each([
    ["lf", "\n"],
    ["cr", "\r"],
  ] as const)("%s: framing with that separator alone", async (fault, separator) => {
    const server = await emulator({ faults: [fault], replyTokens: 4, pendingEvents: 2, pendingIntervalMs: 40, pingIntervalMs: 20 });
    const { eventsPath } = await startReply(server, PROMPT);
    const body = (await http(server, "GET", eventsPath)).text;
    expect(body).not.toContain(separator === "\n" ? "\r" : "\n");
    expect(body).toMatch(new RegExp(`^data: \\{"event_type": "pending"[^${separator}]*${separator}${separator}`));
    expect(body).toMatch(new RegExp(`: ping - [^${separator}]+${separator}${separator}`));
    expect(dataPayloads(body, separator)).toHaveLength(2 + 4 + 1);
  });

  it("oversized-line: one data line of 17 MiB after the first token", async () => {
    const server = await emulator({ faults: ["oversized-line"], replyTokens: 3 });
    const { eventsPath } = await startReply(server, PROMPT);
    const lines = (await http(server, "GET", eventsPath)).text.split("\r\n");
    const longest = Math.max(...lines.map((line) => line.length));
    expect(longest).toBeGreaterThan(17 * 1024 * 1024);
    expect(tokenPayloads(lines.join("\r\n"))).toHaveLength(4);
  });

  it("invalid-utf8: a token event with the bytes 0xff 0xfe inside its JSON string", async () => {
    const server = await emulator({ faults: ["invalid-utf8"], replyTokens: 5 });
    const { eventsPath } = await startReply(server, PROMPT);
    const body = (await http(server, "GET", eventsPath)).body;
    const bad = Buffer.concat([Buffer.from('data: {"event_type": "token", "text": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\r\n\r\n')]);
    const at = body.indexOf(bad);
    expect(at).toBeGreaterThan(0);
    expect(tokenPayloads(body.subarray(0, at))).toHaveLength(3);
  });
});
