/**
 * A raw HTTP/1.1 server on 127.0.0.1 for client tests: it parses requests (heads and
 * Content-Length bodies) on each connection and hands them to `answer`, which writes
 * whatever bytes the case needs, or none; and the client under test on each transport:
 * direct, through an HTTP CONNECT proxy, through a SOCKS5 proxy, over a caller's fetch.
 */
import { once } from "node:events";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { OpenAssistantClient, type ClientOptions } from "../../src/client/client.js";
import { closeIdleConnections } from "../../src/client/connections.js";
import { startConnectProxy, startSocks5Proxy, type TestProxy } from "./proxy-servers.js";

export interface SeenRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Which connection it came on (0, 1, …). */
  connection: number;
}

export interface RawHttpServer {
  url: string;
  readonly requests: SeenRequest[];
  /** Connections accepted so far. */
  readonly connections: number;
  /** The connections still open, by index (0, 1, … in the order they came). */
  readonly open: ReadonlyMap<number, Socket>;
  stop(): Promise<void>;
}

/** What the server does with a request: write to the socket (or not), knowing which request it is. */
export type Answer = (socket: Socket, request: SeenRequest, index: number) => void;

export async function rawHttpServer(answer: Answer): Promise<RawHttpServer> {
  /** The connections still open, by index. */
  const open = new Map<number, Socket>();
  const state = { requests: [] as SeenRequest[], connections: 0 };
  const server: Server = createServer((socket) => {
    const connection = state.connections++;
    open.set(connection, socket);
    socket.on("close", () => open.delete(connection));
    socket.on("error", () => {});
    let buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end === -1) return;
        const [line = "", ...fields] = buffer.subarray(0, end).toString("latin1").split("\r\n");
        const headers: Record<string, string> = {};
        for (const field of fields) {
          const colon = field.indexOf(":");
          headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim();
        }
        const length = Number(headers["content-length"] ?? 0);
        if (buffer.length < end + 4 + length) return;
        const body = buffer.subarray(end + 4, end + 4 + length).toString("utf8");
        buffer = buffer.subarray(end + 4 + length);
        const [method = "", path = ""] = line.split(" ");
        const request = { method, path, headers, body, connection };
        state.requests.push(request);
        answer(socket, request, state.requests.length - 1);
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return state.requests;
    },
    get connections() {
      return state.connections;
    },
    open,
    async stop() {
      for (const socket of open.values()) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

/** A whole answer with a JSON body, kept alive. */
export function writeJson(socket: Socket, value: unknown): void {
  const body = JSON.stringify(value);
  socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/**
 * Writes `piece` over and over as fast as the client reads (never ending), until the
 * socket closes; counts the bytes written.
 */
export function writeEndlessly(socket: Socket, piece: string | Buffer): { readonly bytes: number } {
  const chunk = Buffer.from(typeof piece === "string" ? piece.repeat(Math.max(1, Math.floor(65_536 / Buffer.byteLength(piece)))) : piece);
  const sent = { bytes: 0 };
  const pump = () => {
    while (!socket.destroyed && socket.writable) {
      sent.bytes += chunk.length;
      if (!socket.write(chunk)) {
        socket.once("drain", pump);
        return;
      }
    }
  };
  pump();
  return sent;
}

export const TRANSPORTS = ["direct", "http proxy", "socks5 proxy", "fetch"] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface ClientOn {
  client: OpenAssistantClient;
  /** Closes the client, the proxy and the idle shared connections. */
  close(): Promise<void>;
}

/** A client of `url` that reaches it over `transport`. */
export async function clientOn(transport: Transport, url: string, options: ClientOptions = {}): Promise<ClientOn> {
  let proxy: TestProxy | undefined;
  if (transport === "http proxy") proxy = await startConnectProxy();
  if (transport === "socks5 proxy") proxy = await startSocks5Proxy();
  const client = new OpenAssistantClient({
    baseUrl: url,
    cookies: "session=x",
    env: {},
    proxy: proxy?.url,
    ...(transport === "fetch" ? { fetch: (input: string, init: RequestInit) => fetch(input, init) } : {}),
    ...options,
  });
  return {
    client,
    async close() {
      await client.close();
      closeIdleConnections();
      await proxy?.close();
    },
  };
}
