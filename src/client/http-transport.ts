import type { Dispatcher } from "undici";
import { AbortError, ConnectionError, ConfigError, OpenAssistantError, StreamError, TimeoutError } from "../errors.js";
import { redactUrl } from "../redact.js";
import { errorForStatus, parseJsonBody, type CallContext } from "./http-errors.js";
import { createDispatcher } from "./proxy.js";

/** A fetch function: the global one, undici's, or a test double. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** One line of the request trail (`--verbose`): never holds a cookie or a header value. */
export interface RequestTrailEntry {
  method: string;
  url: string;
  status?: number;
  ms: number;
  error?: string;
}

export interface TransportOptions {
  baseUrl: string;
  /** The `Cookie` header to send. */
  cookieHeader?: string | undefined;
  userAgent: string;
  headers?: Record<string, string> | undefined;
  fetch?: FetchLike | undefined;
  proxy?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Default per-request timeout, ms. */
  timeout: number;
  /** Most connections the pool opens (default: as many as requests in flight). */
  connections?: number | undefined;
  onRequest?: ((entry: RequestTrailEntry) => void) | undefined;
}

export interface Call extends CallContext {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  query?: Record<string, string | undefined>;
  json?: unknown;
  signal?: AbortSignal | undefined;
  timeout?: number | undefined;
}

/**
 * A timer plus an AbortController: aborts the request when the caller's signal
 * fires or when `ms` pass without `refresh()`, and remembers which of the two it was.
 */
export class Deadline {
  readonly signal: AbortSignal;
  readonly ms: number;
  #controller = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #user: AbortSignal | undefined;
  #timedOut = false;
  readonly #onUserAbort = () => this.#controller.abort(this.#user?.reason);

  constructor(ms: number, user?: AbortSignal) {
    this.ms = ms;
    this.signal = this.#controller.signal;
    this.#user = user;
    if (user?.aborted) {
      this.#controller.abort(user.reason);
    } else {
      user?.addEventListener("abort", this.#onUserAbort, { once: true });
      if (Number.isFinite(ms) && ms > 0) {
        this.#timer = setTimeout(() => {
          this.#timedOut = true;
          this.#controller.abort(new Error(`timeout after ${ms} ms`));
        }, ms);
      }
    }
  }

  get timedOut(): boolean {
    return this.#timedOut;
  }

  get userAborted(): boolean {
    return !this.#timedOut && this.#user?.aborted === true;
  }

  /** Restart the silence timer (called on every chunk of a stream). */
  refresh(): void {
    this.#timer?.refresh();
  }

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#user?.removeEventListener("abort", this.#onUserAbort);
  }
}

export class HttpTransport {
  readonly baseUrl: URL;
  readonly timeout: number;
  readonly #headers: Record<string, string>;
  readonly #fetch: FetchLike | undefined;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #onRequest: TransportOptions["onRequest"];

  constructor(options: TransportOptions) {
    this.baseUrl = parseBaseUrl(options.baseUrl);
    this.timeout = options.timeout;
    this.#onRequest = options.onRequest;
    this.#headers = {
      ...options.headers,
      "user-agent": options.userAgent,
      ...(options.cookieHeader ? { cookie: options.cookieHeader } : {}),
    };
    if (options.fetch) {
      this.#fetch = options.fetch;
    } else {
      const dispatcher = createDispatcher(this.baseUrl, {
        proxy: options.proxy,
        env: options.env,
        connectTimeout: options.timeout,
        connections: options.connections,
      });
      this.#dispatcher = dispatcher;
      // fetch sent this one by itself; a browser-like client keeps sending it.
      if (!Object.keys(this.#headers).some((name) => name.toLowerCase() === "accept")) this.#headers.accept = "*/*";
    }
  }

  /** The absolute URL of an API path ("api/chat"), under the base URL's own path prefix. */
  url(path: string, query?: Record<string, string | undefined>): string {
    const url = new URL(path, this.baseUrl);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    return url.toString();
  }

  /**
   * Send a request and wait for its headers. The returned deadline is still armed:
   * the caller reads the body under it and disposes it.
   */
  async open(call: Call): Promise<{ response: HttpResponse; deadline: Deadline }> {
    const deadline = new Deadline(call.timeout ?? this.timeout, call.signal);
    const url = this.url(call.path, call.query);
    const started = performance.now();
    const headers: Record<string, string> = { ...this.#headers };
    let body: string | undefined;
    if (call.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(call.json);
    }
    try {
      const response = this.#dispatcher
        ? await dispatchRequest(this.#dispatcher, url, call.method, headers, body, deadline.signal)
        : new FetchResponse(
            await (this.#fetch as FetchLike)(url, { method: call.method, headers, body, signal: deadline.signal, redirect: "manual" }),
          );
      this.#onRequest?.({ method: call.method, url, status: response.status, ms: performance.now() - started });
      return { response, deadline };
    } catch (error) {
      deadline.dispose();
      const mapped = mapFailure(error, deadline, call, url, "connect");
      this.#onRequest?.({ method: call.method, url, ms: performance.now() - started, error: mapped.summary });
      throw mapped;
    }
  }

  /** A whole request: status checked, body read under the timeout; returns the body text. */
  async text(call: Call): Promise<{ status: number; body: string }> {
    const { response, deadline } = await this.open(call);
    try {
      const body = await response.text();
      if (!response.ok) throw response.error(body, call);
      return { status: response.status, body };
    } catch (error) {
      throw mapFailure(error, deadline, call, response.url, "body");
    } finally {
      deadline.dispose();
    }
  }

  async json<T>(call: Call): Promise<T> {
    const { status, body } = await this.text(call);
    return parseJsonBody<T>(body, call, status);
  }

  /** Close the connection pool (waits for requests in flight). */
  async close(): Promise<void> {
    await this.#dispatcher?.close();
  }

  /** Close the pool at once, cutting requests in flight. */
  async destroy(): Promise<void> {
    await this.#dispatcher?.destroy();
  }
}

/**
 * An answer whose headers have arrived; the body is read with `text()`, or chunk by
 * chunk with `read()`. Over the package's own undici pool it comes from the dispatcher
 * API (`dispatchRequest`); over a caller's fetch it wraps the fetch Response.
 */
export interface HttpResponse {
  readonly status: number;
  /** 2xx. */
  readonly ok: boolean;
  readonly url: string;
  /** The whole body as text (UTF-8, a leading BOM dropped, as fetch's `text()`). */
  text(): Promise<string>;
  /** The next chunk of the body; undefined at its end. */
  read(): Promise<Uint8Array | undefined>;
  /** Stop reading: the rest of the body is dropped, with the connection if it is still streaming. */
  cancel(): void;
  /** The typed error for this non-2xx answer, given its body. */
  error(body: string, call: CallContext): OpenAssistantError;
}

class FetchResponse implements HttpResponse {
  readonly #response: Response;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #done = false;

  constructor(response: Response) {
    this.#response = response;
  }

  get status(): number {
    return this.#response.status;
  }

  get ok(): boolean {
    return this.#response.ok;
  }

  get url(): string {
    return this.#response.url;
  }

  text(): Promise<string> {
    return this.#response.text();
  }

  async read(): Promise<Uint8Array | undefined> {
    if (this.#done) return undefined;
    // The reader is taken on the first read only: an error body is read with text() first.
    this.#reader ??= this.#response.body?.getReader();
    if (!this.#reader) {
      this.#done = true;
      return undefined;
    }
    const { done, value } = await this.#reader.read();
    if (done) this.#done = true;
    return done ? undefined : value;
  }

  cancel(): void {
    this.#reader?.cancel().catch(() => {});
  }

  error(body: string, call: CallContext): OpenAssistantError {
    return errorForStatus(this.#response, body, call);
  }
}

/** Chunks buffered before the socket is paused (undici reads up to 64 KiB at a time). */
const HIGH_WATER_CHUNKS = 8;

type ResponseHeaders = Record<string, string | string[] | undefined>;

/**
 * A response read through undici's dispatcher API. fetch over the same pool cost about
 * 0.5 ms of CPU per request (Request and Response objects, web streams, header lists)
 * and twice the time of the raw socket for a 200,000-token stream; see BENCHMARKS.md.
 */
class DispatchedResponse implements HttpResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly url: string;
  readonly #headers: ResponseHeaders;
  readonly #controller: Dispatcher.DispatchController;
  readonly #chunks: Uint8Array[] = [];
  #waiting: { resolve: (chunk: Uint8Array | undefined) => void; reject: (error: unknown) => void } | undefined;
  #ended = false;
  #failure: { error: unknown } | undefined;

  constructor(controller: Dispatcher.DispatchController, status: number, headers: ResponseHeaders, url: string) {
    this.#controller = controller;
    this.status = status;
    this.ok = status >= 200 && status <= 299;
    this.#headers = headers;
    this.url = url;
  }

  /** From the dispatcher: a chunk of the body. */
  push(chunk: Uint8Array): void {
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting.resolve(chunk);
      return;
    }
    this.#chunks.push(chunk);
    if (this.#chunks.length >= HIGH_WATER_CHUNKS) this.#controller.pause();
  }

  /** From the dispatcher: the body is complete. */
  end(): void {
    this.#ended = true;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve(undefined);
  }

  /** From the dispatcher: the body broke off (network error, or an abort). */
  fail(error: unknown): void {
    if (this.#ended) return;
    this.#failure ??= { error };
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(error);
  }

  read(): Promise<Uint8Array | undefined> {
    const chunk = this.#chunks.shift();
    if (chunk) {
      if (this.#chunks.length === 0 && this.#controller.paused) this.#controller.resume();
      return Promise.resolve(chunk);
    }
    if (this.#failure) return Promise.reject(this.#failure.error);
    if (this.#ended) return Promise.resolve(undefined);
    if (this.#controller.paused) this.#controller.resume();
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  async text(): Promise<string> {
    const chunks: Uint8Array[] = [];
    for (let chunk = await this.read(); chunk; chunk = await this.read()) chunks.push(chunk);
    // As fetch's text(): UTF-8, U+FFFD for bad bytes, a leading BOM dropped.
    return new TextDecoder().decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
  }

  cancel(): void {
    this.#chunks.length = 0;
    if (!this.#ended && !this.#failure) this.#controller.abort(new Error("The reader stopped reading"));
  }

  error(body: string, call: CallContext): OpenAssistantError {
    // errorForStatus reads status, url and headers.get() only.
    const headers = new Headers();
    for (const [name, value] of Object.entries(this.#headers)) {
      for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, one);
    }
    return errorForStatus({ status: this.status, url: this.url, headers }, body, call);
  }
}

/**
 * One request through undici's dispatcher API (no redirects followed, no content decoding):
 * resolves when the headers have arrived; `signal` aborts it at any point.
 */
function dispatchRequest(
  dispatcher: Dispatcher,
  url: string,
  method: Call["method"],
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal,
): Promise<DispatchedResponse> {
  if (signal.aborted) return Promise.reject(signal.reason);
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    let response: DispatchedResponse | undefined;
    let controller: Dispatcher.DispatchController | undefined;
    const onAbort = () => {
      if (controller) controller.abort(signal.reason);
    };
    const settle = () => signal.removeEventListener("abort", onAbort);
    signal.addEventListener("abort", onAbort, { once: true });
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(started) {
        controller = started;
        if (signal.aborted) started.abort(signal.reason);
      },
      onResponseStart(started, statusCode, responseHeaders) {
        response = new DispatchedResponse(started, statusCode, responseHeaders, url);
        resolve(response);
      },
      onResponseData(_controller, chunk) {
        response?.push(chunk);
      },
      onResponseEnd() {
        settle();
        response?.end();
      },
      onResponseError(_controller, error) {
        settle();
        if (response) response.fail(error);
        else reject(error);
      },
    };
    dispatcher.dispatch({ origin: target.origin, path: target.pathname + target.search, method, headers, body }, handler);
  });
}

/** Check a base URL and give it the trailing slash that keeps API paths under its prefix. */
export function parseBaseUrl(baseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new ConfigError(`The base URL ${JSON.stringify(redactUrl(baseUrl))} is not a URL`, "Write it as https://host[:port][/prefix], e.g. https://open-assistant.io.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`The base URL must be http:// or https://, not ${url.protocol}`, "Write it as https://host[:port][/prefix].");
  }
  if (url.username || url.password) {
    // fetch refuses such URLs with an error that quotes them, password included.
    throw new ConfigError(`The base URL ${redactUrl(url)} carries a user name or password`, "The site authenticates with its session cookie: remove user:password@ from the base URL.");
  }
  // A trailing slash makes relative API paths land under a reverse proxy's prefix.
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  url.search = "";
  url.hash = "";
  return url;
}

/**
 * Any failure of fetch or of a body read → an OpenAssistantError: never a bare
 * `TypeError: fetch failed`. `phase` says how far the exchange got.
 */
export function mapFailure(
  error: unknown,
  deadline: Deadline,
  call: CallContext,
  url: string,
  phase: "connect" | "body" | "stream",
): OpenAssistantError {
  if (error instanceof OpenAssistantError) return error;
  const init = { chatId: call.chatId, cause: error };
  if (deadline.timedOut) {
    const what = phase === "connect" ? "got no answer" : "went silent";
    return new TimeoutError(`${call.what} ${what} for ${deadline.ms} ms`, deadline.ms, init);
  }
  if (deadline.userAborted) return new AbortError(`${call.what} was aborted`, init);
  const detail = describeNetworkError(error);
  if (phase === "stream") {
    return new StreamError(`${call.what}: the connection broke in the middle of the reply (${detail})`, init);
  }
  if (phase === "body") {
    return new ConnectionError(`${call.what}: the connection broke before the whole answer arrived (${detail})`, init);
  }
  return new ConnectionError(`${call.what} could not reach ${originOf(url)} (${detail})`, init);
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "the server";
  }
}

/** The innermost useful words of a network error: its code and message. */
function describeNetworkError(error: unknown): string {
  let current: unknown = error;
  let text = "";
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    const message = current.message && current.message !== "fetch failed" ? current.message : "";
    if (typeof code === "string" || message) text = [typeof code === "string" ? code : "", message].filter(Boolean).join(" ");
    current = current.cause;
  }
  return text || String(error);
}
