/**
 * One keep-alive HTTP/1.1 connection: one request at a time, the answer parsed by
 * hand (`ResponseParser`) and its body handed over as the socket reads it.
 */
import type { Socket } from "node:net";
import { BodyQueue } from "../body-queue.js";
import { ResponseParser, type ResponseHeadFields } from "./response-parser.js";

export interface OutgoingRequest {
  method: string;
  /** Path and query string. */
  path: string;
  /** Lower-case names, `host` excluded (the connection adds it). */
  headers: Record<string, string>;
  body?: string | undefined;
}

/** What a connection needs of an abort signal: an AbortSignal fits, and so does the transport's Deadline. */
export interface AbortLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/** An answer whose head has arrived; its body streams into `body`. */
export interface IncomingResponse {
  status: number;
  headers: Map<string, string>;
  body: BodyQueue;
}

/**
 * A kept-alive connection closed before a byte of the answer came: the server most
 * likely closed it as idle while the request was on its way, so it never saw the
 * request. The pool sends it once more on a new connection.
 */
export class StaleConnectionError extends Error {
  constructor(cause: unknown) {
    super("the kept-alive connection closed before the answer began", { cause });
  }
}

/** Neither the server's silence nor a dead peer is detected here: the caller's signal bounds every wait. */
export class Http1Connection {
  readonly #socket: Socket;
  readonly #host: string;
  readonly #idleTimeout: number;
  #current: Exchange | undefined;
  #closed = false;
  /** Answers completed on this connection. */
  #served = 0;
  /** When an idle connection stops being offered: the idle timeout, or a second short of the server's own. */
  #reusableUntil = Infinity;
  #idleTimer: NodeJS.Timeout | undefined;
  /** Called once the connection can take the next request, or is gone (`reusable` false). */
  onIdle: (connection: Http1Connection, reusable: boolean) => void = () => {};

  /** `idleTimeout`: ms an idle connection is kept open for the next request. */
  constructor(socket: Socket, host: string, idleTimeout: number) {
    this.#socket = socket;
    this.#host = host;
    this.#idleTimeout = idleTimeout;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.#data(chunk));
    socket.on("end", () => this.#ended());
    socket.on("error", (error) => this.#fail(error));
    socket.on("close", () => this.#fail(undefined));
  }

  /** True when the connection can take a request now. */
  get reusable(): boolean {
    return !this.#closed && !this.#current && Date.now() < this.#reusableUntil;
  }

  /** Send a request; resolves when the answer's head has arrived. */
  send(request: OutgoingRequest, signal: AbortLike): Promise<IncomingResponse> {
    if (this.#current || this.#closed) return Promise.reject(new Error("the connection is busy or closed"));
    if (signal.aborted) return Promise.reject(signal.reason);
    this.#socket.ref();
    return new Promise((resolve, reject) => {
      const exchange = new Exchange(request.method === "HEAD", this.#served > 0, resolve, reject, signal, () => this.destroy(signal.reason));
      this.#current = exchange;
      this.#socket.write(serializeRequest(request, this.#host));
    });
  }

  /** Cut the connection; the request in flight fails with `reason`. */
  destroy(reason?: unknown): void {
    this.#fail(reason);
    this.#socket.destroy();
  }

  #data(chunk: Buffer): void {
    const exchange = this.#current;
    if (!exchange) {
      // Bytes nobody asked for: the server is not speaking HTTP/1.1 request by request.
      this.destroy(new Error("the server sent bytes without a request"));
      return;
    }
    exchange.answered = true;
    let used: number;
    try {
      used = exchange.parser.push(chunk);
    } catch (error) {
      this.destroy(error);
      return;
    }
    if (exchange.parser.done) this.#complete(exchange, used < chunk.length);
    else if (exchange.body?.wantsPause) this.#pauseUntilRead(exchange);
  }

  #pauseUntilRead(exchange: Exchange): void {
    this.#socket.pause();
    exchange.body?.onDrain(() => {
      if (this.#current === exchange) this.#socket.resume();
    });
  }

  #complete(exchange: Exchange, extraBytes: boolean): void {
    this.#current = undefined;
    exchange.settle();
    const head = exchange.head;
    this.#served++;
    if (extraBytes || !head?.keepAlive) {
      this.#closed = true;
      this.#socket.destroy();
      this.onIdle(this, false);
      return;
    }
    const keepAlive = head.headers.get("keep-alive");
    const timeout = keepAlive === undefined ? null : /\btimeout=(\d+)/i.exec(keepAlive);
    // A second short of the server's own limit, so a request never races its close.
    const keepMs = Math.min(this.#idleTimeout, timeout ? Number(timeout[1]) * 1000 - 1000 : Infinity);
    this.#reusableUntil = Date.now() + keepMs;
    // One timer per connection, armed the first time it turns idle: it looks again when it fires.
    if (!this.#idleTimer && Number.isFinite(keepMs)) this.#idleTimer = setTimeout(() => this.#closeIfIdle(), Math.max(0, keepMs)).unref();
    this.#socket.unref();
    this.onIdle(this, true);
  }

  /** Closes the connection once it has been idle past its time; a busy one gets looked at again later. */
  #closeIfIdle(): void {
    this.#idleTimer = undefined;
    if (this.#closed) return;
    const left = this.#current ? this.#idleTimeout : this.#reusableUntil - Date.now();
    if (left <= 0) this.destroy();
    else if (Number.isFinite(left)) this.#idleTimer = setTimeout(() => this.#closeIfIdle(), left).unref();
  }

  #ended(): void {
    const exchange = this.#current;
    if (exchange) {
      try {
        exchange.parser.close();
      } catch (error) {
        this.#fail(error);
        return;
      }
      if (exchange.parser.done) {
        this.#current = undefined;
        exchange.settle();
      }
    }
    this.#closed = true;
    this.#socket.destroy();
    this.onIdle(this, false);
  }

  /** `error` undefined: the connection closed without one (made only if a request was in flight). */
  #fail(error: unknown): void {
    const wasClosed = this.#closed;
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    const exchange = this.#current;
    this.#current = undefined;
    exchange?.fail(error ?? new Error("the connection closed"));
    if (!wasClosed) this.onIdle(this, false);
  }
}

/** One request and its answer, as far as it has come. */
class Exchange {
  readonly parser: ResponseParser;
  head: ResponseHeadFields | undefined;
  body: BodyQueue | undefined;
  /** A byte of the answer came. */
  answered = false;
  readonly #reused: boolean;
  #resolve: ((response: IncomingResponse) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  readonly #signal: AbortLike;
  readonly #onAbort: () => void;

  constructor(
    headRequest: boolean,
    reused: boolean,
    resolve: (response: IncomingResponse) => void,
    reject: (error: unknown) => void,
    signal: AbortLike,
    onAbort: () => void,
  ) {
    this.#reused = reused;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = signal;
    this.#onAbort = onAbort;
    signal.addEventListener("abort", onAbort, { once: true });
    this.parser = new ResponseParser(
      {
        onHead: (head) => {
          this.head = head;
          // Reading stops early with cancel(): that cuts the connection.
          this.body = new BodyQueue(onAbort);
          this.#resolve?.({ status: head.status, headers: head.headers, body: this.body });
          this.#resolve = undefined;
          this.#reject = undefined;
        },
        onBody: (bytes) => this.body?.push(bytes),
        onEnd: () => this.body?.end(),
      },
      { headRequest },
    );
  }

  /** The answer is complete: the signal no longer concerns this connection. */
  settle(): void {
    this.#signal.removeEventListener("abort", this.#onAbort);
  }

  fail(error: unknown): void {
    this.settle();
    const stale = this.#reused && !this.answered && !this.#signal.aborted;
    if (this.#reject) this.#reject(stale ? new StaleConnectionError(error) : error);
    else this.body?.fail(error);
    this.#resolve = undefined;
    this.#reject = undefined;
  }
}

/** The request's bytes: request line, host, headers, Content-Length, body. */
export function serializeRequest(request: OutgoingRequest, host: string): string {
  let head = `${request.method} ${request.path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const name in request.headers) head += `${name}: ${request.headers[name]}\r\n`;
  if (request.body !== undefined) head += `content-length: ${Buffer.byteLength(request.body)}\r\n\r\n${request.body}`;
  else if (request.method === "POST" || request.method === "PUT") head += "content-length: 0\r\n\r\n";
  else head += "\r\n";
  return head;
}
