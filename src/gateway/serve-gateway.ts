import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { closeIdleConnections } from "../client/connections.js";
import { ConfigError } from "../errors.js";
import type { ConcurrencyLimiter } from "./concurrency-limiter.js";
import { gatewayParts, type GatewayOptions } from "./create-gateway.js";

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 1337;
/** Once every reply has ended, connections still busy after this long are cut (a client that never closed its side). */
const LINGER_MS = 1_000;

export interface ServeGatewayOptions extends Omit<GatewayOptions, "shutdown" | "waitUntil"> {
  /** Address to bind. Default 127.0.0.1: only this machine can call. */
  host?: string | undefined;
  /** Default 1337; 0 picks a free port. */
  port?: number | undefined;
}

export interface ServedGateway {
  /** `http://host:port`; the OpenAI base URL is this plus `/v1`. */
  url: string;
  host: string;
  port: number;
  /** Stop listening, end the replies in flight (their chats are deleted), then close every connection. */
  close(): Promise<void>;
}

/**
 * Serve `createGateway(options)` on Node's HTTP server. Every account's session cookies
 * are looked up here: without them, it fails at start-up rather than at each request.
 */
export async function serveGateway(options: ServeGatewayOptions = {}): Promise<ServedGateway> {
  const { host = DEFAULT_HOST, port = DEFAULT_PORT, ...gatewayOptions } = options;
  const shutdown = new AbortController();
  // Chats' ends that run after their answers: shutdown waits for them.
  const ends = new Set<Promise<void>>();
  const keepAlive = (task: Promise<void>) => {
    ends.add(task);
    void task.finally(() => ends.delete(task));
  };
  const { app, limiter, pool } = gatewayParts({ ...gatewayOptions, shutdown: shutdown.signal, waitUntil: keepAlive });
  await pool.resolveAll();
  // Loaded here so that `oasst/gateway` stays importable on runtimes without Node's HTTP server.
  const { createAdaptorServer } = await import("@hono/node-server");
  // The global Request/Response stay untouched: the gateway may share its process with other code.
  const server = createAdaptorServer({ fetch: app.fetch, overrideGlobalObjects: false }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(listenError(error, host, port)));
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostPart}:${address.port}`,
    host: address.address,
    port: address.port,
    close: () => (closing ??= closeServer(server, shutdown, limiter, ends)),
  };
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "");
  return bare === "localhost" || bare === "::1" || /^127\.\d+\.\d+\.\d+$/.test(bare) || /^::ffff:127\./i.test(bare);
}

/**
 * Stop: no new connections, replies in flight end (shutdown), then the chats' ends that
 * run after their answers (a reply left early is waited for, then deleted) are waited for.
 */
async function closeServer(server: Server, shutdown: AbortController, limiter: ConcurrencyLimiter, ends: Set<Promise<void>>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  shutdown.abort();
  // Connections go idle as their replies end; keep-alive would hold them open.
  const idle = setInterval(() => server.closeIdleConnections(), 50);
  await limiter.idle();
  while (ends.size) await Promise.all([...ends]);
  const linger = setTimeout(() => server.closeAllConnections(), LINGER_MS);
  await closed;
  clearInterval(idle);
  clearTimeout(linger);
  // The upstream connections kept alive for the next reply: there is none.
  closeIdleConnections();
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  if (error.code === "EADDRINUSE") {
    return new ConfigError(`Port ${port} on ${host} is already in use`, "Stop the other server, or pick another port (--port).");
  }
  if (error.code === "EACCES") {
    return new ConfigError(`Not allowed to listen on ${host}:${port}`, "Ports below 1024 need privileges: pick a port of 1024 or more (--port).");
  }
  if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND") {
    return new ConfigError(`${host} is not an address of this machine`, "Bind 127.0.0.1 (the default), 0.0.0.0, or one of this machine's addresses (--host).");
  }
  return error;
}
