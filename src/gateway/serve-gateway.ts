import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { closeIdleConnections } from "../client/connections.js";
import { ConfigError } from "../errors.js";
import { isLoopbackHost } from "../loopback.js";
import type { ConcurrencyLimiter } from "./concurrency-limiter.js";
import { gatewayParts, type GatewayOptions } from "./create-gateway.js";
import { LOOPBACK_HOSTS } from "./request-guards.js";
import type { UpstreamCheck } from "./upstream-check.js";

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 1337;
/** Once every reply has ended, connections still busy after this long are cut (a client that never closed its side). */
const LINGER_MS = 1_000;
export const DEFAULT_HEADERS_TIMEOUT_MS = 30_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_CONNECTIONS = 256;
/** Beyond the requests the limiter takes: GET routes, keep-alive connections between requests. */
const SPARE_CONNECTIONS = 64;

export interface ServeGatewayOptions extends Omit<GatewayOptions, "shutdown" | "waitUntil"> {
  /** Address to bind. Default 127.0.0.1: only this machine can call. */
  host?: string | undefined;
  /** Default 1337; 0 picks a free port. */
  port?: number | undefined;
  /**
   * `createGateway`'s `allowedHosts`. Bound to a loopback address, the gateway answers to
   * `LOOPBACK_HOSTS` and its own address, plus these; bound elsewhere, to these only, or any
   * name when none are given.
   */
  allowedHosts?: readonly string[] | undefined;
  /** The longest a connection may take to send a request's headers, from its start or its previous request (ms). Default 30 000. */
  headersTimeout?: number | undefined;
  /** The longest a request may take to arrive whole, headers and body (ms). Default 60 000. */
  requestTimeout?: number | undefined;
  /** An idle connection between requests is closed after this long (ms). Default 5 000. */
  keepAliveTimeout?: number | undefined;
  /**
   * Connections open at once; more are closed as soon as they open. Default 256, or
   * maxConcurrent + maxQueue + 64 when that is more.
   */
  maxConnections?: number | undefined;
}

export interface ServedGateway {
  /** `http://host:port`; the OpenAI base URL is this plus `/v1`. */
  url: string;
  host: string;
  port: number;
  /**
   * Asks Open-Assistant for its models with each account's cookies (10 s at most): a refused
   * cookie or an unreachable base URL, found before any request. Never rejects; the gateway serves either way.
   */
  checkUpstream(): Promise<UpstreamCheck>;
  /** Stop listening, end the replies in flight (their chats are deleted), then close every connection. */
  close(): Promise<void>;
}

/** The options `serveGateway` takes for its HTTP server; the others are `createGateway`'s. */
const SERVER_KEYS = ["host", "port", "headersTimeout", "requestTimeout", "keepAliveTimeout", "maxConnections"] as const satisfies ReadonlyArray<
  keyof ServeGatewayOptions
>;

/**
 * Serve `createGateway(options)` on Node's HTTP server. Every account's session cookies
 * are looked up here: without them, it fails at start-up rather than at each request.
 */
export async function serveGateway(options: ServeGatewayOptions = {}): Promise<ServedGateway> {
  const {
    host = DEFAULT_HOST,
    port = DEFAULT_PORT,
    allowedHosts,
    headersTimeout,
    requestTimeout,
    keepAliveTimeout,
    maxConnections,
    ...gatewayOptions
  } = options;
  const shutdown = new AbortController();
  // Chats' ends that run after their answers: shutdown waits for them.
  const ends = new Set<Promise<void>>();
  const keepAlive = (task: Promise<void>) => {
    ends.add(task);
    void task.finally(() => ends.delete(task));
  };
  const { app, limiter, pool, check } = gatewayParts(
    {
      ...gatewayOptions,
      // Bound to loopback, the gateway answers only to this machine's own names: DNS rebinding is refused.
      allowedHosts: isLoopbackHost(host) ? [...LOOPBACK_HOSTS, host.includes(":") ? `[${host}]` : host, ...(allowedHosts ?? [])] : allowedHosts,
      shutdown: shutdown.signal,
      waitUntil: keepAlive,
    },
    SERVER_KEYS,
  );
  const limits = connectionLimits({ headersTimeout, requestTimeout, keepAliveTimeout, maxConnections }, limiter.maxConcurrent + limiter.maxQueue);
  await pool.resolveAll();
  // Loaded here so that `oasst/gateway` stays importable on runtimes without Node's HTTP server.
  const { createAdaptorServer } = await import("@hono/node-server");
  // The global Request/Response stay untouched: the gateway may share its process with other code.
  const server = createAdaptorServer({
    fetch: app.fetch,
    overrideGlobalObjects: false,
    serverOptions: {
      headersTimeout: limits.headersTimeout,
      requestTimeout: limits.requestTimeout,
      keepAliveTimeout: limits.keepAliveTimeout,
      // Node checks those two timeouts every 30 s by default: a 30 s limit would hold for up to 60 s.
      connectionsCheckingInterval: Math.min(1_000, Math.ceil(limits.headersTimeout / 4)),
    },
  }) as Server;
  server.maxConnections = limits.maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(listenError(error, host, port)));
    // Node's default backlog (511) is below what the gateway takes at once: a burst beyond it would be reset by the kernel.
    server.listen({ port, host, backlog: Math.max(511, limits.maxConnections) }, resolve);
  });
  const address = server.address() as AddressInfo;
  const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostPart}:${address.port}`,
    host: address.address,
    port: address.port,
    checkUpstream: check,
    close: () => (closing ??= closeServer(server, shutdown, limiter, ends)),
  };
}

interface ConnectionLimits {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  maxConnections: number;
}

/**
 * The limits that keep idle or slow connections from holding the server's sockets (and file
 * descriptors). `requests`: the replies in flight and queued the gateway takes, each on a
 * connection of its own; the default cap leaves room for them.
 */
function connectionLimits(given: Partial<Record<keyof ConnectionLimits, number | undefined>>, requests: number): ConnectionLimits {
  const requestTimeout = positive("requestTimeout", given.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT_MS);
  // Node refuses a headers timeout longer than the request timeout: a short request timeout shortens the default.
  const headersTimeout = positive("headersTimeout", given.headersTimeout ?? Math.min(DEFAULT_HEADERS_TIMEOUT_MS, requestTimeout));
  if (headersTimeout > requestTimeout) {
    throw new ConfigError(
      `The gateway option headersTimeout (${headersTimeout} ms) is longer than requestTimeout (${requestTimeout} ms)`,
      "The headers are part of the request: give a headersTimeout of at most the requestTimeout.",
    );
  }
  return {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: positive("keepAliveTimeout", given.keepAliveTimeout ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS),
    maxConnections: positive("maxConnections", given.maxConnections ?? Math.max(DEFAULT_MAX_CONNECTIONS, requests + SPARE_CONNECTIONS)),
  };
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(`The gateway option ${name} must be a whole number of at least 1, not ${value}`, `Leave it out for the default.`);
  }
  return value;
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
