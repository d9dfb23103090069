/**
 * The gateway answers as soon as a reply is whole and deletes its chat after
 * (`serveGateway`, or `createGateway` with `waitUntil`): one round trip to
 * Open-Assistant less on every answer. A front between the gateway and the emulator
 * holds each DELETE back, and can hold back the end of each event stream (after its
 * final `message` event), so that "answered before the delete" shows.
 */
import OpenAI from "openai";
import { afterEach, describe, expect, test } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { createGateway, serveGateway, type GatewayOptions, type ServedGateway } from "../../src/gateway/index.js";
import { gate, startFlakyFront, type FlakyFront, type Gate } from "../reliability/helpers/flaky-front.js";
import { MODEL, eventually } from "./gateway-harness.js";

/** How long the front holds each DELETE where the test does not release them itself: long enough to be seen. */
const HOLD_MS = 300;
const HELLO = [{ role: "user" as const, content: "Hello" }];

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/**
 * The emulator behind a front that holds each DELETE back for `deleteMs` (and, given `deletes`, until
 * the test releases it), and the end of each event stream for `streamEndMs`.
 */
async function upstream({ deleteMs = HOLD_MS, streamEndMs = 0, deletes = undefined as Gate | undefined } = {}): Promise<{
  emulator: Emulator;
  front: FlakyFront;
  options: GatewayOptions;
}> {
  const emulator = await startEmulator({ quiet: true });
  stops.push(() => emulator.stop());
  const front = await startFlakyFront(emulator.url, (request, path) => {
    if (request.method === "DELETE") return { holdMs: deletes ? 0 : deleteMs, until: deletes?.wait() };
    return path === "/api/chat/events" ? { endAfterMs: streamEndMs } : undefined;
  });
  stops.push(() => front.close());
  return { emulator, front, options: { baseUrl: front.url, cookies: emulator.cookie, maxRetries: 0, env: {} } };
}

async function served(options: GatewayOptions, extra: { maxConcurrent?: number } = {}): Promise<{ gateway: ServedGateway; openai: OpenAI }> {
  const gateway = await serveGateway({ port: 0, ...options, ...extra });
  stops.push(() => gateway.close());
  return { gateway, openai: new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "unused", maxRetries: 0 }) };
}

function completionRequest(stream: boolean): RequestInit {
  return { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: MODEL, messages: HELLO, stream }) };
}

describe("serveGateway answers before the chat's delete", () => {
  test("not streamed: the completion arrives while the chat still exists, and the chat is deleted after", async () => {
    const deletes = gate();
    const { emulator, options } = await upstream({ deletes });
    const { openai } = await served(options);
    const completion = await openai.chat.completions.create({ model: MODEL, messages: HELLO });
    expect(completion.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(emulator.liveChats()).toBe(1);
    // The delete was sent, and the front holds it until now.
    await eventually(() => deletes.waiting() === 1, "the delete is held");
    deletes.release();
    await eventually(() => emulator.liveChats() === 0, "the chat is deleted");
  });

  test("streamed: the stream ends ([DONE], then its end) at the final message event, while the chat still exists; the chat is deleted after", async () => {
    const deletes = gate();
    const { emulator, options } = await upstream({ streamEndMs: HOLD_MS, deletes });
    const { openai } = await served(options);
    let text = "";
    for await (const chunk of await openai.chat.completions.create({ model: MODEL, messages: HELLO, stream: true }))
      text += chunk.choices[0]?.delta.content ?? "";
    expect(text.length).toBeGreaterThan(0);
    expect(emulator.liveChats()).toBe(1);
    await eventually(() => deletes.waiting() === 1, "the delete is held");
    deletes.release();
    await eventually(() => emulator.liveChats() === 0, "the chat is deleted");
  });

  test("a reply keeps its slot until its chat is deleted: with one slot, the next chat starts after that delete", async () => {
    const { emulator, options } = await upstream();
    const { openai } = await served(options, { maxConcurrent: 1 });
    await openai.chat.completions.create({ model: MODEL, messages: HELLO });
    await openai.chat.completions.create({ model: MODEL, messages: HELLO });
    const order = emulator.requests.map((request) => `${request.method} ${request.path}`);
    const firstDelete = order.indexOf("DELETE /api/chat");
    const secondCreate = order.indexOf("POST /api/chat", order.indexOf("POST /api/chat") + 1);
    expect(firstDelete).toBeGreaterThan(-1);
    expect(secondCreate).toBeGreaterThan(firstDelete);
  });

  test("close() waits for the deletes that follow the answers", async () => {
    const deletes = gate();
    const { emulator, options } = await upstream({ deletes });
    const { gateway, openai } = await served(options);
    await openai.chat.completions.create({ model: MODEL, messages: HELLO });
    expect(emulator.liveChats()).toBe(1);
    let released = false;
    setTimeout(() => {
      released = true;
      deletes.release();
    }, 100);
    await gateway.close();
    expect(released).toBe(true);
    expect(emulator.liveChats()).toBe(0);
  });

  test("the end of the event stream is still read after the answer: one upstream connection carries reply after reply", async () => {
    const { emulator, front, options } = await upstream({ deleteMs: 0, streamEndMs: 100 });
    // One slot: the next reply starts once the last one's delete was answered and its connection is idle again.
    const { openai } = await served(options, { maxConcurrent: 1 });
    for (const stream of [false, true, false]) {
      if (stream) for await (const chunk of await openai.chat.completions.create({ model: MODEL, messages: HELLO, stream })) void chunk;
      else await openai.chat.completions.create({ model: MODEL, messages: HELLO });
      await eventually(() => emulator.liveChats() === 0, "the chat is deleted");
    }
    expect(emulator.requests.filter((request) => request.method === "DELETE")).toHaveLength(3);
    expect(front.connections()).toBe(1);
  });

  test("an error event in the same read as the final message still fails the reply: an error chunk, not a finish", async () => {
    const emulator = await startEmulator({ quiet: true });
    stops.push(() => emulator.stop());
    const events = [
      { event_type: "token", text: "Hel" },
      { event_type: "error", error: "Aborted due to worker error." },
      { event_type: "message", message: { id: "m", content: "Hel", state: "complete" } },
    ];
    const body = events.map((event) => `data: ${JSON.stringify(event)}\r\n\r\n`).join("");
    const front = await startFlakyFront(emulator.url, (_request, path) =>
      path === "/api/chat/events" ? { status: 200, headers: { "content-type": "text/event-stream" }, body } : undefined,
    );
    stops.push(() => front.close());
    const { openai } = await served({ baseUrl: front.url, cookies: emulator.cookie, maxRetries: 0, env: {} });
    let text = "";
    const error = await (async () => {
      for await (const chunk of await openai.chat.completions.create({ model: MODEL, messages: HELLO, stream: true }))
        text += chunk.choices[0]?.delta.content ?? "";
    })().catch((caught: unknown) => caught);
    expect(text).toBe("Hel");
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toMatch(/worker error/);
    await eventually(() => emulator.liveChats() === 0, "the chat is deleted");
  });
});

describe("createGateway and waitUntil", () => {
  test("without waitUntil, the answer waits for the chat's delete (a runtime may stop the handler once it has answered)", async () => {
    const { emulator, options } = await upstream();
    const app = createGateway(options);
    for (const stream of [false, true]) {
      const response = await app.request("/v1/chat/completions", completionRequest(stream));
      expect(response.status).toBe(200);
      await response.text();
      expect(emulator.liveChats()).toBe(0);
    }
  });

  test("with waitUntil, the answer comes first and the delete is handed over; the task settles once the chat is gone", async () => {
    const deletes = gate();
    const { emulator, options } = await upstream({ deletes });
    const tasks: Array<Promise<void>> = [];
    const app = createGateway({ ...options, waitUntil: (task) => tasks.push(task) });
    for (const stream of [false, true]) {
      const response = await app.request("/v1/chat/completions", completionRequest(stream));
      const body = await response.text();
      expect(body).toMatch(stream ? /data: \[DONE\]\n\n$/ : /"finish_reason":"stop"/);
      expect(emulator.liveChats()).toBe(1);
      expect(tasks).toHaveLength(stream ? 2 : 1);
      let settled = false;
      void tasks.at(-1)!.then(() => (settled = true));
      await eventually(() => deletes.waiting() === 1, "the delete is held");
      expect(settled).toBe(false);
      deletes.release();
      await tasks.at(-1);
      expect(emulator.liveChats()).toBe(0);
    }
  });
});
