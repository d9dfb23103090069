/**
 * Keep-alive HTTP/1.1 connections to one origin, straight over node:net or node:tls:
 * the package's own transport when no proxy is in the way. A request takes an idle
 * connection, opens one while under the limit, or waits for one in turn.
 */
import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { Http1Connection, StaleConnectionError, type AbortLike, type IncomingResponse, type OutgoingRequest } from "./connection.js";

export interface Http1PoolOptions {
  /** Most connections open at once. Default: no limit. */
  connections?: number | undefined;
  /** Longest wait for the TCP (and TLS) handshake, ms. */
  connectTimeout: number;
  /** How long an idle connection stays open for the next request, ms. Default: 4 s. */
  idleTimeout?: number | undefined;
}

/** Below the 5 s that Node's and uvicorn's servers keep an idle connection. */
export const DEFAULT_IDLE_TIMEOUT_MS = 4_000;

interface Waiter {
  resolve: (connection: Http1Connection) => void;
  reject: (error: unknown) => void;
  signal: AbortLike;
  onAbort: () => void;
}

export class Http1Pool {
  readonly #origin: URL;
  readonly #max: number;
  readonly #connectTimeout: number;
  readonly #idleTimeout: number;
  readonly #idle: Http1Connection[] = [];
  readonly #busy = new Set<Http1Connection>();
  readonly #sockets = new Set<Socket>();
  readonly #waiters: Waiter[] = [];
  readonly #connections = new Set<Http1Connection>();
  /** Connects under way. */
  #opening = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  #whenQuiet: (() => void) | undefined;

  constructor(origin: URL, options: Http1PoolOptions) {
    this.#origin = origin;
    this.#max = options.connections ?? Infinity;
    this.#connectTimeout = options.connectTimeout;
    this.#idleTimeout = options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  /** Send a request; resolves when the answer's head has arrived. */
  async request(request: OutgoingRequest, signal: AbortLike): Promise<IncomingResponse> {
    if (this.#closed) throw new Error("the connection pool is closed");
    // An idle connection is taken at once: no turn of the microtask queue between answers.
    const connection = this.#takeIdle() ?? (await this.#acquire(signal));
    this.#busy.add(connection);
    if (signal.aborted) {
      this.#release(connection, true);
      throw signal.reason;
    }
    try {
      return await connection.send(request, signal);
    } catch (error) {
      if (!(error instanceof StaleConnectionError) || this.#closed) throw error;
      // Once, on a connection of its own: the server closed the old one as idle.
      const fresh = await this.#open(signal);
      this.#busy.add(fresh);
      return fresh.send(request, signal);
    }
  }

  /** Take no more requests; wait for those in flight and queued, then close every connection. */
  close(): Promise<void> {
    this.#closed = true;
    return (this.#closing ??= (async () => {
      if (this.#busy.size || this.#waiters.length || this.#opening) await new Promise<void>((resolve) => (this.#whenQuiet = resolve));
      this.#destroyAll(undefined);
    })());
  }

  /** Close the connections that wait for a request; those in use stay. */
  closeIdle(): void {
    for (const connection of this.#idle.splice(0)) connection.destroy();
  }

  /** Close every connection now; requests in flight fail. */
  async destroy(): Promise<void> {
    this.#closed = true;
    const error = new Error("the connection pool was destroyed");
    for (const waiter of this.#waiters.splice(0)) {
      waiter.signal.removeEventListener("abort", waiter.onAbort);
      waiter.reject(error);
    }
    this.#destroyAll(error);
    this.#whenQuiet?.();
  }

  /** `error` undefined: nothing was in flight (a graceful close). */
  #destroyAll(error: Error | undefined): void {
    for (const connection of [...this.#busy, ...this.#idle]) connection.destroy(error);
    for (const socket of this.#sockets) socket.destroy(error);
  }

  #takeIdle(): Http1Connection | undefined {
    for (let connection = this.#idle.pop(); connection; connection = this.#idle.pop()) {
      if (connection.reusable) return connection;
      connection.destroy();
    }
    return undefined;
  }

  #acquire(signal: AbortLike): Promise<Http1Connection> {
    if (this.#opening + this.#connections.size < this.#max) return this.#open(signal);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(signal.reason);
          this.#checkQuiet();
        },
      };
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener("abort", waiter.onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  async #open(signal: AbortLike): Promise<Http1Connection> {
    this.#opening++;
    let socket: Socket;
    try {
      socket = await this.#connect(signal);
    } catch (error) {
      this.#opening--;
      this.#serveWaiter();
      this.#checkQuiet();
      throw error;
    }
    this.#opening--;
    const connection = new Http1Connection(socket, this.#origin.host, this.#idleTimeout);
    this.#connections.add(connection);
    connection.onIdle = (idle, reusable) => this.#release(idle, reusable);
    return connection;
  }

  #connect(signal: AbortLike): Promise<Socket> {
    const secure = this.#origin.protocol === "https:";
    const host = this.#origin.hostname.replace(/^\[|\]$/g, "");
    const port = Number(this.#origin.port) || (secure ? 443 : 80);
    const socket: Socket = secure
      ? tlsConnect({ host, port, ALPNProtocols: ["http/1.1"], ...(isIP(host) ? {} : { servername: host }) })
      : netConnect({ host, port });
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy(Object.assign(new Error(`connect timed out after ${this.#connectTimeout} ms`), { code: "ETIMEDOUT" }));
      }, this.#connectTimeout);
      const settle = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        socket.off("error", onError);
      };
      const onError = (error: Error) => {
        settle();
        reject(error);
      };
      // The caller's reason as it is, as in every other phase of a request.
      const onAbort = () => {
        settle();
        socket.destroy();
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      socket.once(secure ? "secureConnect" : "connect", () => {
        settle();
        resolve(socket);
      });
      socket.once("error", onError);
      if (signal.aborted) onAbort();
    });
  }

  /** A connection finished its request (`reusable`), or is gone. */
  #release(connection: Http1Connection, reusable: boolean): void {
    this.#busy.delete(connection);
    // Closing turns new requests away; those already queued are still served.
    if (reusable && connection.reusable && (!this.#closed || this.#waiters.length)) {
      const waiter = this.#waiters.shift();
      if (waiter) {
        waiter.signal.removeEventListener("abort", waiter.onAbort);
        // Busy from now: the waiter's own request() sends on it.
        this.#busy.add(connection);
        waiter.resolve(connection);
      } else {
        this.#idle.push(connection);
      }
    } else if (this.#connections.delete(connection)) {
      const index = this.#idle.indexOf(connection);
      if (index !== -1) this.#idle.splice(index, 1);
      connection.destroy();
      this.#serveWaiter();
    }
    this.#checkQuiet();
  }

  /** A connection closed or failed to open: the next waiter may open one. */
  #serveWaiter(): void {
    if (this.#opening + this.#connections.size >= this.#max) return;
    const waiter = this.#waiters.shift();
    if (!waiter) return;
    waiter.signal.removeEventListener("abort", waiter.onAbort);
    this.#open(waiter.signal).then(waiter.resolve, waiter.reject);
  }

  #checkQuiet(): void {
    if (this.#whenQuiet && this.#busy.size === 0 && this.#waiters.length === 0 && this.#opening === 0) {
      const resolve = this.#whenQuiet;
      this.#whenQuiet = undefined;
      resolve();
    }
  }
}
