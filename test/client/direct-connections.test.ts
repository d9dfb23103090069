/**
 * Direct connections (src/client/connections.ts: Node's HTTP client over keep-alive
 * agents), through the protocol client, against raw servers that do exactly what each
 * case needs: keep-alive reuse, no request ever sent twice, malformed framing refused,
 * idle connections that never hold the process, limits, abort, timeout, close.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { OpenAssistantClient } from "../../src/client/client.js";
import { closeIdleConnections } from "../../src/client/connections.js";
import { AbortError, ConnectionError, ProtocolError, StreamError, TimeoutError } from "../../src/errors.js";
import { closedPort } from "../helpers/closed-port.js";
import { rawHttpServer, type Answer, type RawHttpServer, type SeenRequest } from "../helpers/raw-http-server.js";

const servers: RawHttpServer[] = [];
afterEach(async () => {
  closeIdleConnections();
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

/** A raw server, stopped after the test. */
async function rawServer(answer: Answer): Promise<RawHttpServer> {
  const raw = await rawHttpServer(answer);
  servers.push(raw);
  return raw;
}

/** A whole answer with a JSON body, kept alive. */
function json(socket: Socket, value: unknown, status = 200, extra = ""): void {
  const body = JSON.stringify(value);
  socket.write(`HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`);
}

const MODELS = [{ name: "m", sampling_parameters: {} }];
const CHAT = {
  id: "c1",
  created_at: "2023-07-01T00:00:00Z",
  modified_at: "2023-07-01T00:00:00Z",
  title: null,
  hidden: false,
  allow_data_use: true,
  active_thread_tail_message_id: null,
};

/** A server that answers every request as the site would: models, a new chat, an event stream. */
function siteAnswer(socket: Socket, request: SeenRequest): void {
  if (request.path.startsWith("/api/chat/models")) json(socket, MODELS);
  else if (request.path.startsWith("/api/chat/events")) {
    const events = ['{"event_type": "token", "text": "Hi"}', '{"event_type": "message", "message": {"id": "m", "content": "Hi"}}'];
    const body = events.map((data) => `data: ${data}\r\n\r\n`).join("");
    socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
  } else json(socket, CHAT);
}

/** A chunked event stream's head and first chunk (the stream stays open). */
const STREAM_START = (() => {
  const event = 'data: {"event_type": "token", "text": "Hi"}\r\n\r\n';
  return `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${event.length.toString(16)}\r\n${event}\r\n`;
})();

const client = (url: string, options: ConstructorParameters<typeof OpenAssistantClient>[0] = {}) =>
  new OpenAssistantClient({ baseUrl: url, cookies: "session=x", env: {}, ...options });

describe("direct connections: keep-alive", () => {
  it("runs two sequential requests on one connection, and close() closes it", async () => {
    const server = await rawServer(siteAnswer);
    const oa = client(server.url);
    await expect(oa.listModels()).resolves.toEqual(MODELS);
    await expect(oa.createChat()).resolves.toEqual(CHAT);
    expect(server.requests.map((r) => [r.method, r.connection])).toEqual([
      ["GET", 0],
      ["POST", 0],
    ]);
    expect(server.requests[1]?.headers["content-length"]).toBe("2");
    expect(server.requests[1]?.body).toBe("{}");
    expect(server.requests[0]?.headers.host).toBe(new URL(server.url).host);
    expect(server.connections).toBe(1);
    await oa.close();
    await expect.poll(() => server.open.size).toBe(0);
  });

  it("reuses the connection after a whole event stream", async () => {
    const server = await rawServer(siteAnswer);
    const oa = client(server.url);
    const events = [];
    for await (const event of oa.streamEvents({ chatId: "c1", messageId: "m1" })) events.push(event);
    expect(events.map((event) => event.event_type)).toEqual(["token", "message"]);
    await oa.listModels();
    expect(server.connections).toBe(1);
    await oa.close();
  });

  it("shares the process's connections between clients with shareConnections; closeIdleConnections() closes them", async () => {
    const server = await rawServer(siteAnswer);
    for (let i = 0; i < 3; i++) {
      const oa = client(server.url, { shareConnections: true });
      await oa.listModels();
      await oa.close(); // leaves the shared connection open for the next client
    }
    expect(server.connections).toBe(1);
    expect(server.open.size).toBe(1);
    closeIdleConnections();
    await expect.poll(() => server.open.size).toBe(0);
  });

  it("opens a new connection when the server said `connection: close`", async () => {
    const server = await rawServer((socket, request) => {
      json(socket, MODELS, 200, "connection: close\r\n");
      socket.end();
      void request;
    });
    const oa = client(server.url);
    await oa.listModels();
    await oa.listModels();
    expect(server.connections).toBe(2);
    await oa.close();
  });

  it("opens a new connection when the server closed the idle one", async () => {
    const server = await rawServer((socket) => {
      json(socket, MODELS);
      setTimeout(() => socket.end(), 20);
    });
    const oa = client(server.url);
    await oa.listModels();
    await expect.poll(() => server.open.size).toBe(0);
    await oa.listModels();
    expect(server.requests.map((r) => r.connection)).toEqual([0, 1]);
    await oa.close();
  });
});

describe("direct connections: a request is never sent twice", () => {
  it("a POST on a kept-alive connection that the server closes after reading it: one POST arrives, ConnectionError", async () => {
    const server = await rawServer((socket, request) => {
      if (request.method === "GET") json(socket, MODELS);
      else socket.destroy(); // read the whole POST, then drop the connection without a byte of answer
    });
    const oa = client(server.url);
    await oa.listModels();
    const failure = await oa.createChat().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConnectionError);
    expect((failure as ConnectionError).summary).toMatch(/^POST \/api\/chat could not reach http:\/\/127\.0\.0\.1:\d+ \(/);
    // Give a resend every chance to show up.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.requests.filter((r) => r.method === "POST")).toHaveLength(1);
    expect(server.connections).toBe(1);
    await oa.close();
  });

  it("the same POST on a fresh connection", async () => {
    const server = await rawServer((socket) => socket.destroy());
    const oa = client(server.url);
    await expect(oa.postPrompterMessage({ chat_id: "c1", parent_id: null, content: "hi" })).rejects.toBeInstanceOf(ConnectionError);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.requests).toHaveLength(1);
    await oa.close();
  });

  it("a GET on a kept-alive connection that breaks is not sent again either", async () => {
    const server = await rawServer((socket, _request, index) => {
      if (index === 0) json(socket, MODELS);
      else socket.destroy();
    });
    const oa = client(server.url);
    await oa.listModels();
    await expect(oa.listModels()).rejects.toBeInstanceOf(ConnectionError);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.requests).toHaveLength(2);
    await oa.close();
  });
});

describe("direct connections: malformed answers", () => {
  it("refuses an answer with both Content-Length and Transfer-Encoding (ProtocolError), and never reuses its connection", async () => {
    const server = await rawServer((socket, _request, index) => {
      if (index === 0) {
        socket.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n");
      } else json(socket, MODELS);
    });
    const oa = client(server.url);
    const failure = await oa.listModels().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProtocolError);
    expect((failure as ProtocolError).summary).toMatch(/^GET \/api\/chat\/models: the server's answer is not valid HTTP\/1\.1 \(HPE_/);
    await expect(oa.listModels()).resolves.toEqual(MODELS);
    expect(server.requests.map((r) => r.connection)).toEqual([0, 1]);
    await oa.close();
  });

  it("refuses a malformed status line as a ProtocolError", async () => {
    const server = await rawServer((socket) => socket.write("HTTP/1.1 abc\r\n\r\n"));
    const oa = client(server.url);
    await expect(oa.listModels()).rejects.toBeInstanceOf(ProtocolError);
    await oa.close();
  });

  it("a body cut short: ConnectionError for a JSON answer, StreamError for the event stream", async () => {
    const server = await rawServer((socket, request) => {
      if (request.path.startsWith("/api/chat/events")) {
        socket.write(STREAM_START);
      } else {
        socket.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n[{");
      }
      setTimeout(() => socket.destroy(), 20);
    });
    const oa = client(server.url);
    await expect(oa.listModels()).rejects.toBeInstanceOf(ConnectionError);
    const texts: string[] = [];
    const failure = await (async () => {
      for await (const event of oa.streamEvents({ chatId: "c1", messageId: "m1" })) if (event.event_type === "token") texts.push(event.text);
    })().catch((error: unknown) => error);
    expect(texts).toEqual(["Hi"]);
    expect(failure).toBeInstanceOf(StreamError);
    await oa.close();
  });
});

describe("direct connections: limits, abort, timeout, close", () => {
  it("ConnectionError when nothing listens", async () => {
    const oa = client(`http://127.0.0.1:${await closedPort()}`);
    const failure = await oa.listModels().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConnectionError);
    expect((failure as ConnectionError).summary).toMatch(/ECONNREFUSED/);
    await oa.close();
  });

  it("TimeoutError when the head does not come, AbortError on the caller's signal; the connection is dropped", async () => {
    const server = await rawServer(() => {});
    const oa = client(server.url, { timeout: 100 });
    await expect(oa.listModels()).rejects.toBeInstanceOf(TimeoutError);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(oa.listModels({ signal: controller.signal, timeout: 10_000 })).rejects.toBeInstanceOf(AbortError);
    await expect.poll(() => server.open.size).toBe(0);
    expect(server.connections).toBe(2);
    await oa.close();
  });

  it("with `connections: 1` runs a second request only after the first answer ended; an aborted queued request leaves the others alone", async () => {
    const pending: Socket[] = [];
    const server = await rawServer((socket, request) => {
      if (request.path.includes("slow")) pending.push(socket);
      else json(socket, MODELS);
    });
    const oa = client(server.url, { connections: 1 });
    // A request the server holds: the protocol client has no such endpoint, so a chat id names it.
    const slow = oa.getChat("slow");
    await expect.poll(() => server.requests.length).toBe(1);
    const controller = new AbortController();
    const queued = oa.listModels({ signal: controller.signal });
    const next = oa.listModels();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.requests).toHaveLength(1);
    controller.abort();
    await expect(queued).rejects.toBeInstanceOf(AbortError);
    json(pending[0] as Socket, CHAT);
    await expect(slow).resolves.toEqual(CHAT);
    await expect(next).resolves.toEqual(MODELS);
    expect(server.requests.map((r) => r.connection)).toEqual([0, 0]);
    await oa.close();
  });

  it("leaving a stream early cuts its connection; the next request opens another", async () => {
    const server = await rawServer((socket, request) => {
      if (request.path.startsWith("/api/chat/events")) {
        socket.write(STREAM_START);
      } else json(socket, MODELS);
    });
    const oa = client(server.url);
    for await (const event of oa.streamEvents({ chatId: "c1", messageId: "m1" })) if (event.event_type === "token") break;
    await expect.poll(() => server.open.size).toBe(0);
    await oa.listModels();
    expect(server.connections).toBe(2);
    await oa.close();
  });

  it("openEventStream: next() gives the events read by read, then undefined; close() before the end cuts the connection", async () => {
    const server = await rawServer((socket, request) => {
      if (request.path.startsWith("/api/chat/events?chat_id=whole")) siteAnswer(socket, request);
      else if (request.path.startsWith("/api/chat/events")) socket.write(STREAM_START);
      else json(socket, MODELS);
    });
    const oa = client(server.url);
    const whole = await oa.openEventStream({ chatId: "whole", messageId: "m1" });
    const events = [];
    for (let batch = await whole.next(); batch; batch = await whole.next()) events.push(...batch);
    expect(events.map((event) => event.event_type)).toEqual(["token", "message"]);
    await expect(whole.next()).resolves.toBeUndefined();
    const cut = await oa.openEventStream({ chatId: "c1", messageId: "m1" });
    expect((await cut.next())?.[0]?.event_type).toBe("token");
    cut.close();
    await expect(cut.next()).resolves.toBeUndefined();
    await expect.poll(() => server.open.size).toBe(0);
    await expect(oa.listModels()).resolves.toEqual(MODELS);
    await oa.close();
  });

  it("hands a large body over intact to a slow reader", async () => {
    const token = (i: number) => `data: {"event_type": "token", "text": "${String(i).padStart(6, "0")}"}\r\n\r\n`;
    const body = Array.from({ length: 20_000 }, (_, i) => token(i)).join("") + 'data: {"event_type": "message", "message": {"id": "m"}}\r\n\r\n';
    const server = await rawServer((socket) => socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`));
    const oa = client(server.url);
    let count = 0;
    let reads = 0;
    for await (const batch of oa.streamEventBatches({ chatId: "c1", messageId: "m1" })) {
      for (const event of batch) if (event.event_type === "token") expect(event.text).toBe(String(count++).padStart(6, "0"));
      if (reads++ % 8 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(count).toBe(20_000);
    await oa.close();
  });

  it("close() waits for the request in flight, then refuses new ones and leaves no socket", async () => {
    const pending: Socket[] = [];
    const server = await rawServer((socket) => pending.push(socket));
    const oa = client(server.url);
    const inFlight = oa.listModels();
    await expect.poll(() => pending.length).toBe(1);
    let closed = false;
    const closing = oa.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(closed).toBe(false);
    json(pending[0] as Socket, MODELS);
    await expect(inFlight).resolves.toEqual(MODELS);
    await closing;
    await expect(oa.listModels()).rejects.toBeInstanceOf(ConnectionError);
    await expect.poll(() => server.open.size).toBe(0);
  });
});

describe("direct connections: idle ones never hold the process", () => {
  it.each([
    ["a client of its own, never closed", "{}"],
    ["the shared connections", "{ shareConnections: true }"],
  ])("a process that made one request through %s exits at once", async (_name, options) => {
    // The server keeps idle connections for a minute: only the client side can let go.
    const server = await rawServer(siteAnswer);
    // The build (`npm test` makes it first), in a process of its own.
    const module = fileURLToPath(new URL("../../dist/client/client.js", import.meta.url));
    const script = `
      const { OpenAssistantClient } = await import(${JSON.stringify(module)});
      const client = new OpenAssistantClient({ baseUrl: ${JSON.stringify(server.url)}, env: {}, ...${options} });
      const models = await client.listModels();
      console.log(JSON.stringify(models));
      globalThis.doneAt = performance.now();
      process.on("exit", () => console.log(Math.round(performance.now() - globalThis.doneAt)));`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    const started = performance.now();
    const [code] = (await once(child, "exit")) as [number];
    expect(code, stderr).toBe(0);
    const [models, lingered] = stdout.trim().split("\n");
    expect(JSON.parse(models as string)).toEqual(MODELS);
    // The idle connection would hold it for 4 s (the idle timeout) if it were ref'd.
    expect(Number(lingered)).toBeLessThan(1_000);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(server.requests).toHaveLength(1);
  });
});
