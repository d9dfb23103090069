/**
 * A request is never sent twice, on any transport: a kept-alive connection that the
 * server closes just as the next POST arrives fails that POST with a ConnectionError,
 * and the server has seen it once (a resent POST would add a second message).
 */
import { afterEach, describe, expect, it } from "vitest";
import { ConnectionError } from "../../src/errors.js";
import { clientOn, rawHttpServer, writeJson, type ClientOn, type RawHttpServer } from "../helpers/raw-http-server.js";

const MODELS = [{ name: "m", sampling_parameters: {} }];

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function setUp(transport: "direct" | "http proxy" | "socks5 proxy"): Promise<{ server: RawHttpServer; oa: ClientOn }> {
  // Answers the GET; reads the POST whole, then drops the connection without a byte of answer.
  const server = await rawHttpServer((socket, request) => {
    if (request.method === "GET") writeJson(socket, MODELS);
    else socket.destroy();
  });
  const oa = await clientOn(transport, server.url);
  cleanups.push(
    () => server.stop(),
    () => oa.close(),
  );
  return { server, oa };
}

/** The GET, then a turn of the event loop: undici gives a request made in the tick its pool's last answer ended another connection. */
async function keptAlive(oa: ClientOn): Promise<void> {
  await expect(oa.client.listModels()).resolves.toEqual(MODELS);
  await new Promise((resolve) => setImmediate(resolve));
}

describe.each(["direct", "http proxy", "socks5 proxy"] as const)("%s: a POST on a kept-alive connection that breaks", (transport) => {
  it("reaches the server once, and the caller gets a ConnectionError", async () => {
    const { server, oa } = await setUp(transport);
    await keptAlive(oa);
    const failure = await oa.client.createChat().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConnectionError);
    expect((failure as ConnectionError).summary).toMatch(/^POST \/api\/chat /);
    // Give a resend every chance to show up.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(server.requests.map((request) => [request.method, request.connection])).toEqual([
      ["GET", 0],
      ["POST", 0],
    ]);
  });

  it("the same for a POST whose body takes many packets", async () => {
    const { server, oa } = await setUp(transport);
    await keptAlive(oa);
    const content = "x".repeat(256 * 1024);
    await expect(oa.client.postPrompterMessage({ chat_id: "c1", parent_id: null, content })).rejects.toBeInstanceOf(ConnectionError);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(server.requests.filter((request) => request.method === "POST")).toHaveLength(1);
    expect(server.connections).toBe(1);
  });
});
