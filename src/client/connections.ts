/**
 * Direct connections (no proxy, no caller's `fetch`): Node's own HTTP/1.1 client
 * (`node:http`, llhttp; `node:https` for TLS, loaded only for an https origin) over
 * keep-alive `Agent`s. A `Connections` object owns its agents: a client has its own,
 * or takes the process's one visible `sharedConnections` (`shareConnections`, as the
 * provider does, so back-to-back chats run on one connection).
 *
 * What Node's agent gives: idle connections are unref'd (they never keep the process
 * alive) and closed after `idleTimeout` or a second before the server's announced
 * `Keep-Alive: timeout`; a request is never sent twice by it. Nor here: a request
 * whose kept-alive connection breaks fails with the error, even when the server closed
 * it as idle at that very moment, because a POST that may have reached the server must
 * not be sent again (it would add a second prompter or assistant message).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from "node:http";
import type * as Https from "node:https";
import { createRequire } from "node:module";
import { BodyQueue } from "./body-queue.js";
import type { Deadline } from "./deadline.js";
import { QueuedResponse, type HeaderLookup } from "./http-response.js";

/** Below the 5 s that Node's and uvicorn's servers keep an idle connection. */
export const DEFAULT_IDLE_TIMEOUT_MS = 4_000;

export interface ConnectionsOptions {
  /** Most connections open at once per origin. Default: as many as requests in flight. */
  connections?: number | undefined;
  /** How long an idle connection stays open for the next request, ms. Default 4 s. */
  idleTimeout?: number | undefined;
}

/** Where a request goes: the origin's parts and the request's path with its query. */
export interface DirectTarget {
  secure: boolean;
  hostname: string;
  port: number;
  /** Path and query string. */
  path: string;
  /** The whole URL, for errors and the trail. */
  url: string;
}

const require = createRequire(import.meta.url);
let https: typeof Https | undefined;

export class Connections {
  readonly #options: ConnectionsOptions;
  #http: HttpAgent | undefined;
  #https: Https.Agent | undefined;
  /** Requests whose answer has not ended yet. */
  #active = 0;
  #whenQuiet: (() => void) | undefined;
  #closed = false;

  constructor(options: ConnectionsOptions = {}) {
    this.#options = options;
  }

  /**
   * Send a request; resolves when the answer's head has arrived, its body streaming into
   * the response. The deadline aborts it at any point (connect, head, body).
   */
  request(target: DirectTarget, method: string, headers: Record<string, string>, body: string | undefined, deadline: Deadline): Promise<QueuedResponse> {
    if (this.#closed) return Promise.reject(new Error("the client is closed"));
    if (deadline.aborted) return Promise.reject(deadline.reason);
    const options: RequestOptions = { agent: this.#agent(target.secure), host: target.hostname, port: target.port, method, path: target.path, headers };
    const request = target.secure ? (https ??= require("node:https") as typeof Https).request(options) : httpRequest(options);
    this.#active++;
    return new Promise((resolve, reject) => {
      let queue: BodyQueue | undefined;
      let done = false;
      const finish = (error?: unknown) => {
        if (done) return;
        done = true;
        deadline.removeEventListener("abort", onAbort);
        if (error === undefined) queue?.end();
        else if (queue) queue.fail(error);
        else reject(error);
        this.#active--;
        if (this.#active === 0) this.#whenQuiet?.();
      };
      // The connection goes with the request (it may be in the middle of an answer). A request
      // still queued for a connection would report its error only once it got one: settled here.
      const onAbort = () => {
        const error = asError(deadline.reason);
        request.destroy(error);
        finish(error);
      };
      deadline.addEventListener("abort", onAbort);
      request.on("error", finish);
      request.on("response", (response: IncomingMessage) => {
        const answer = new BodyQueue(() => request.destroy());
        queue = answer;
        resolve(new QueuedResponse(response.statusCode ?? 0, headerLookup(response.headers), target.url, answer));
        response.on("data", (chunk: Buffer) => {
          answer.push(chunk);
          if (answer.wantsPause && !response.isPaused()) {
            response.pause();
            answer.onDrain(() => response.resume());
          }
        });
        response.on("end", () => finish());
        response.on("error", finish);
        response.on("close", () => {
          if (!response.complete) finish(new Error("the connection closed before the end of the answer"));
        });
      });
      if (body !== undefined) request.setHeader("content-length", Buffer.byteLength(body));
      else if (method === "POST" || method === "PUT") request.setHeader("content-length", 0);
      request.end(body);
    });
  }

  /** Close the connections that wait for a request; those in use stay. */
  closeIdle(): void {
    for (const agent of [this.#http, this.#https]) {
      if (!agent) continue;
      for (const sockets of Object.values(agent.freeSockets)) for (const socket of [...(sockets ?? [])]) socket.destroy();
    }
  }

  /** Take no more requests; wait for those in flight, then close every connection. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#active > 0) await new Promise<void>((resolve) => (this.#whenQuiet = resolve));
    this.destroy();
  }

  /** Close every connection now; requests in flight fail. */
  destroy(): void {
    this.#closed = true;
    this.#http?.destroy();
    this.#https?.destroy();
  }

  #agent(secure: boolean): HttpAgent {
    const options = {
      keepAlive: true,
      timeout: this.#options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_MS,
      maxSockets: this.#options.connections ?? Infinity,
      noDelay: true,
    };
    if (secure) return (this.#https ??= new (https ??= require("node:https") as typeof Https).Agent(options));
    return (this.#http ??= new HttpAgent(options));
  }
}

/**
 * The process's connections, for clients made with `shareConnections` (the provider's):
 * one object, visible here, never closed by a client.
 */
export const sharedConnections = new Connections();

/**
 * Close the shared connections' idle ones now, e.g. before a graceful exit or a leak
 * check; connections in use stay and are closed when their idle time runs out.
 */
export function closeIdleConnections(): void {
  sharedConnections.closeIdle();
}

function headerLookup(headers: IncomingHttpHeaders): HeaderLookup {
  return {
    get(name) {
      const value = headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
    },
  };
}

/** `request.destroy` wants an Error; a caller's abort reason may be anything. */
function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
