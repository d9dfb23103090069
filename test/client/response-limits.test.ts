/**
 * Answers that never end are cut at a limit on every transport (direct, HTTP proxy,
 * SOCKS5 proxy, a caller's fetch): a JSON answer (or an error body) at
 * `maxResponseBytes`, one event of the event stream at `maxLineLength`. The caller gets
 * a ProtocolError naming the limit, soon, and the connection is dropped, never reused.
 */
import type { Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_MAX_RESPONSE_BYTES, type ClientOptions } from "../../src/client/client.js";
import { ProtocolError, TimeoutError } from "../../src/errors.js";
import { DEFAULT_MAX_LINE_LENGTH } from "../../src/sse/sse-decoder.js";
import {
  clientOn,
  rawHttpServer,
  TRANSPORTS,
  writeEndlessly,
  writeJson,
  type ClientOn,
  type RawHttpServer,
  type Transport,
} from "../helpers/raw-http-server.js";

const MODELS = [{ name: "m", sampling_parameters: {} }];
const KiB = 1024;
const MiB = 1024 * KiB;
/** What sockets, the kernel and the proxies may hold between the server's writes and the client's reads. */
const IN_FLIGHT_SLACK = 16 * MiB;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** One chunk of a chunked body, whole. */
function chunk(data: string): string {
  return `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`;
}

/** The first request gets `head` and then `piece` without end; later ones get the models. */
async function endlessServer(head: string, piece: string): Promise<{ server: RawHttpServer; sent: { bytes: number } }> {
  const sent = { bytes: 0 };
  const server = await rawHttpServer((socket: Socket, _request, index) => {
    if (index > 0) return writeJson(socket, MODELS);
    socket.write(head);
    const writer = writeEndlessly(socket, piece);
    Object.defineProperty(sent, "bytes", { get: () => writer.bytes });
  });
  cleanups.push(() => server.stop());
  return { server, sent };
}

async function client(transport: Transport, server: RawHttpServer, options: ClientOptions): Promise<ClientOn> {
  const oa = await clientOn(transport, server.url, { timeout: 10_000, ...options });
  cleanups.push(() => oa.close());
  return oa;
}

async function failureOf(promise: Promise<unknown>): Promise<ProtocolError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProtocolError);
  return error as ProtocolError;
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const event of stream) void event;
}

/**
 * The cut connection (the first) is closed on the server's side too, and the next request gets a new one
 * with its own answer. undici may open a spare connection after the abort, which it keeps idle until its
 * keep-alive timeout: the next request need not come on connection 1, nor all connections be closed.
 */
async function expectConnectionDropped(oa: ClientOn, server: RawHttpServer): Promise<void> {
  await expect.poll(() => server.open.has(0)).toBe(false);
  await expect(oa.client.listModels()).resolves.toEqual(MODELS);
  expect(server.requests).toHaveLength(2);
  expect(server.requests[1]?.connection).toBeGreaterThan(0);
}

const JSON_HEAD = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n" + chunk("[");
const EVENTS_HEAD = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";

describe.each(TRANSPORTS)("%s", (transport) => {
  it("a JSON answer that never ends: a ProtocolError at `maxResponseBytes`, the connection dropped", async () => {
    const { server } = await endlessServer(JSON_HEAD, chunk("0,".repeat(8 * KiB)));
    const oa = await client(transport, server, { maxResponseBytes: 256 * KiB });
    const failure = await failureOf(oa.client.createChat());
    expect(failure.summary).toBe("POST /api/chat answered more than 256 KiB (the `maxResponseBytes` limit); the rest was not read");
    expect(failure.hint).toMatch(/raise `maxResponseBytes`/);
    await expectConnectionDropped(oa, server);
  });

  it("an error body that never ends, before the event stream: the same", async () => {
    const { server } = await endlessServer("HTTP/1.1 500 Internal Server Error\r\ntransfer-encoding: chunked\r\n\r\n", chunk("x".repeat(16 * KiB)));
    const oa = await client(transport, server, { maxResponseBytes: 100_000 });
    const failure = await failureOf(drain(oa.client.streamEvents({ chatId: "c1", messageId: "m1" })));
    expect(failure.summary).toBe("POST /api/chat/events answered more than 100000 bytes (the `maxResponseBytes` limit); the rest was not read");
    expect(failure.chatId).toBe("c1");
    await expectConnectionDropped(oa, server);
  });

  it("a JSON answer that trickles in without end: a TimeoutError that says it did not finish (not that the server went silent)", async () => {
    const server = await rawHttpServer((socket) => {
      socket.write(JSON_HEAD);
      const timer = setInterval(() => socket.write(chunk(" ")), 20);
      socket.on("close", () => clearInterval(timer));
    });
    cleanups.push(() => server.stop());
    const oa = await client(transport, server, { timeout: 300 });
    const failure = await oa.client.listModels().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TimeoutError);
    expect((failure as TimeoutError).summary).toBe("GET /api/chat/models did not finish its answer within 300 ms");
  });

  it("an event of endless short `data:` lines: a ProtocolError at `maxLineLength`, the connection dropped", async () => {
    const { server } = await endlessServer(EVENTS_HEAD, chunk("data: x\r\n".repeat(4 * KiB)));
    const oa = await client(transport, server, { maxLineLength: 64 * KiB });
    const failure = await failureOf(drain(oa.client.streamEvents({ chatId: "c1", messageId: "m1" })));
    expect(failure.summary).toBe(`POST /api/chat/events sent an event longer than ${64 * KiB} characters (its data lines together)`);
    expect(failure.hint).toMatch(/Raise `maxLineLength`/);
    await expectConnectionDropped(oa, server);
  });
});

describe("the default limits (direct connections)", () => {
  it("8 MiB for a JSON answer: the error comes once about that much was sent", async () => {
    const { server, sent } = await endlessServer(JSON_HEAD, chunk("0,".repeat(32 * KiB)));
    const oa = await client("direct", server, {});
    const failure = await failureOf(oa.client.listModels());
    expect(failure.summary).toBe("GET /api/chat/models answered more than 8 MiB (the `maxResponseBytes` limit); the rest was not read");
    expect(sent.bytes).toBeGreaterThan(DEFAULT_MAX_RESPONSE_BYTES);
    expect(sent.bytes).toBeLessThan(DEFAULT_MAX_RESPONSE_BYTES + IN_FLIGHT_SLACK);
    await expectConnectionDropped(oa, server);
  });

  it("16 Mi characters for one event: the error comes once about that much was sent", async () => {
    const { server, sent } = await endlessServer(EVENTS_HEAD, chunk(`data: ${"y".repeat(1000)}\n`.repeat(64)));
    const oa = await client("direct", server, {});
    const failure = await failureOf(drain(oa.client.streamEvents({ chatId: "c1", messageId: "m1" })));
    expect(failure.summary).toBe(`POST /api/chat/events sent an event longer than ${DEFAULT_MAX_LINE_LENGTH} characters (its data lines together)`);
    expect(sent.bytes).toBeGreaterThan(DEFAULT_MAX_LINE_LENGTH);
    expect(sent.bytes).toBeLessThan(DEFAULT_MAX_LINE_LENGTH + IN_FLIGHT_SLACK);
    await expectConnectionDropped(oa, server);
  });
});
