import type { Dispatcher } from "undici";
import { AbortError, ConnectionError, ConfigError, OpenAssistantError, StreamError, TimeoutError } from "../errors.js";
import { redactUrl } from "../redact.js";
import { errorForStatus, parseJsonBody, type CallContext } from "./http-errors.js";
import { createDispatcher } from "./proxy.js";
import { undiciFetch } from "./undici-parts.js";

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
  readonly #fetch: FetchLike;
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
      const fetch = undiciFetch();
      this.#fetch = (url, init) => fetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
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
  async open(call: Call): Promise<{ response: Response; deadline: Deadline }> {
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
      const response = await this.#fetch(url, { method: call.method, headers, body, signal: deadline.signal, redirect: "manual" });
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
      if (!response.ok) throw errorForStatus(response, body, call);
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
