/**
 * An answer with both Content-Length and Transfer-Encoding (RFC 9112 §6.3: a request
 * smuggling pattern) is refused on every transport, and its connection is never used
 * again: the next request gets a fresh connection and its own answer.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ProtocolError } from "../../src/errors.js";
import { clientOn, rawHttpServer, TRANSPORTS, writeJson } from "../helpers/raw-http-server.js";

const MODELS = [{ name: "m", sampling_parameters: {} }];
/** Content-Length says 2 bytes, the chunked body carries `[]` and then, to a parser that trusted the length, a smuggled answer. */
const SMUGGLED = [{ name: "smuggled", sampling_parameters: {} }];

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

describe.each(TRANSPORTS)("%s: both Content-Length and Transfer-Encoding", (transport) => {
  it("is a ProtocolError; the next request runs on a new connection and gets its own answer", async () => {
    const smuggled = JSON.stringify(SMUGGLED);
    const server = await rawHttpServer((socket, _request, index) => {
      if (index > 0) return writeJson(socket, MODELS);
      const chunked = `2\r\n[]\r\n0\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: ${smuggled.length}\r\n\r\n${smuggled}`;
      socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n${chunked}`);
    });
    const oa = await clientOn(transport, server.url);
    cleanups.push(
      () => server.stop(),
      () => oa.close(),
    );
    const failure = await oa.client.listModels().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProtocolError);
    expect((failure as ProtocolError).summary).toMatch(
      /^GET \/api\/chat\/models: the server's answer is not valid HTTP\/1\.1 \((HPE_|UND_ERR_RES_CONTENT_LENGTH_MISMATCH)/,
    );
    await new Promise((resolve) => setImmediate(resolve));
    await expect(oa.client.listModels()).resolves.toEqual(MODELS);
    expect(server.requests.map((request) => request.connection)).toEqual([0, 1]);
  });
});
