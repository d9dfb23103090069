import type { Dispatcher } from "undici";
import { AbortError, ConnectionError, ConfigError, OpenAssistantError, ProtocolError, StreamError, TimeoutError } from "../errors.js";
import { redactUrl } from "../redact.js";
import { BodyTooLargeError } from "./body-queue.js";
import { Connections, sharedConnections, type DirectTarget } from "./connections.js";
import { Deadline } from "./deadline.js";
import { hasCode, parseJsonBody, type CallContext } from "./http-errors.js";
import { FetchResponse, type HttpResponse } from "./http-response.js";
import { createProxyDispatcher, proxyFromEnv } from "./proxy.js";
import { dispatchRequest } from "./undici-dispatch.js";

export type { HttpResponse } from "./http-response.js";

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
  /** Longest body read whole (JSON answers, error bodies), bytes. */
  maxResponseBytes: number;
  /** Most connections open at once (default: as many as requests in flight). */
  connections?: number | undefined;
  /** Direct connections come from the process's `sharedConnections` (`connections` then does not apply). */
  shareConnections?: boolean | undefined;
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

export class HttpTransport {
  readonly baseUrl: URL;
  readonly timeout: number;
  readonly maxResponseBytes: number;
  readonly #origin: string;
  readonly #basePath: string;
  readonly #headers: Record<string, string>;
  /** The same plus the JSON body's content type. */
  readonly #jsonHeaders: Record<string, string>;
  readonly #fetch: FetchLike | undefined;
  /** Direct connections (Node's HTTP client): the transport's own, or the process's shared ones. */
  readonly #connections: Connections | undefined;
  /** Host, port and scheme of direct requests. */
  readonly #direct: Omit<DirectTarget, "path" | "url"> | undefined;
  /** Through a proxy: undici. */
  readonly #dispatcher: Dispatcher | undefined;
  readonly #onRequest: TransportOptions["onRequest"];

  constructor(options: TransportOptions) {
    this.baseUrl = parseBaseUrl(options.baseUrl);
    this.#origin = this.baseUrl.origin;
    this.#basePath = this.baseUrl.pathname;
    this.timeout = options.timeout;
    this.maxResponseBytes = options.maxResponseBytes;
    this.#onRequest = options.onRequest;
    this.#headers = {};
    for (const [name, value] of Object.entries({ ...options.headers, "user-agent": options.userAgent })) {
      this.#headers[checkedHeaderName(name)] = checkedHeaderValue(name, value);
    }
    if (options.cookieHeader) this.#headers.cookie = options.cookieHeader;
    if (options.fetch) {
      this.#fetch = options.fetch;
    } else {
      // fetch sent this one by itself; a browser-like client keeps sending it.
      this.#headers.accept ??= "*/*";
    }
    this.#jsonHeaders = { ...this.#headers, "content-type": "application/json" };
    if (options.fetch) return;
    const proxy = options.proxy ?? proxyFromEnv(this.baseUrl, options.env);
    if (proxy) {
      this.#dispatcher = createProxyDispatcher(proxy, { connectTimeout: options.timeout, connections: options.connections });
    } else {
      this.#connections = options.shareConnections ? sharedConnections : new Connections({ connections: options.connections });
      const secure = this.baseUrl.protocol === "https:";
      this.#direct = { secure, hostname: this.baseUrl.hostname.replace(/^\[|\]$/g, ""), port: Number(this.baseUrl.port) || (secure ? 443 : 80) };
    }
  }

  /** The absolute URL of an API path ("api/chat"), under the base URL's own path prefix. */
  url(path: string, query?: Record<string, string | undefined>): string {
    return this.#origin + this.#target(path, query);
  }

  /** Path and query string of an API path. */
  #target(path: string, query: Record<string, string | undefined> | undefined): string {
    const target = this.#basePath + path;
    if (!query) return target;
    const search = new URLSearchParams();
    for (const key in query) {
      const value = query[key];
      if (value !== undefined) search.set(key, value);
    }
    const text = search.toString();
    return text ? `${target}?${text}` : target;
  }

  /**
   * Send a request and wait for its headers. The returned deadline is still armed:
   * the caller reads the body under it and disposes it.
   */
  async open(call: Call): Promise<{ response: HttpResponse; deadline: Deadline }> {
    const deadline = new Deadline(call.timeout ?? this.timeout, call.signal);
    const target = this.#target(call.path, call.query);
    const url = this.#origin + target;
    const started = this.#onRequest ? performance.now() : 0;
    const json = call.json !== undefined;
    const headers = json ? this.#jsonHeaders : this.#headers;
    const body = json ? JSON.stringify(call.json) : undefined;
    try {
      const response = await this.#send(url, target, call.method, headers, body, deadline);
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
      if (!response.ok) throw await this.failure(response, deadline, call);
      return { status: response.status, body: await response.text(this.maxResponseBytes) };
    } catch (error) {
      throw mapFailure(error, deadline, call, response.url, "body");
    } finally {
      deadline.dispose();
    }
  }

  /** The typed error of a non-2xx answer, its body read (at most `maxResponseBytes`) under the request's deadline. */
  async failure(response: HttpResponse, deadline: Deadline, call: Call): Promise<OpenAssistantError> {
    try {
      return response.error(await response.text(this.maxResponseBytes), call);
    } catch (error) {
      return mapFailure(error, deadline, call, response.url, "body");
    }
  }

  async json<T>(call: Call): Promise<T> {
    const { status, body } = await this.text(call);
    return parseJsonBody<T>(body, call, status);
  }

  /** Close the connections (waits for requests in flight); the shared ones stay open for other clients. */
  async close(): Promise<void> {
    if (this.#connections !== sharedConnections) await this.#connections?.close();
    await this.#dispatcher?.close();
  }

  /** Close the connections at once, cutting requests in flight; the shared ones stay open for other clients. */
  async destroy(): Promise<void> {
    if (this.#connections !== sharedConnections) this.#connections?.destroy();
    await this.#dispatcher?.destroy();
  }

  async #send(
    url: string,
    target: string,
    method: Call["method"],
    headers: Record<string, string>,
    body: string | undefined,
    deadline: Deadline,
  ): Promise<HttpResponse> {
    if (this.#connections && this.#direct) return this.#connections.request({ ...this.#direct, path: target, url }, method, headers, body, deadline);
    if (this.#dispatcher) return dispatchRequest(this.#dispatcher, url, method, headers, body, deadline.signal);
    const fetch = this.#fetch as FetchLike;
    return new FetchResponse(await fetch(url, { method, headers, body, signal: deadline.signal, redirect: "manual" }));
  }
}

/** Header names are tokens (RFC 9110); lower case, as HTTP/1.1 clients send them. */
function checkedHeaderName(name: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
    throw new ConfigError(`The header name ${JSON.stringify(name)} is not valid`, "Header names are letters, digits and !#$%&'*+-.^_`|~ only.");
  }
  return name.toLowerCase();
}

/** A line break in a value would start a header (or a request) of its own. */
function checkedHeaderValue(name: string, value: string): string {
  if (/[\r\n\0]/.test(value)) {
    throw new ConfigError(`The value of the header ${name} contains a line break or NUL byte`, "Pass header values on one line.");
  }
  return value.trim();
}

/** Check a base URL and give it the trailing slash that keeps API paths under its prefix. */
export function parseBaseUrl(baseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new ConfigError(
      `The base URL ${JSON.stringify(redactUrl(baseUrl))} is not a URL`,
      "Write it as https://host[:port][/prefix], e.g. https://open-assistant.io.",
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`The base URL must be http:// or https://, not ${url.protocol}`, "Write it as https://host[:port][/prefix].");
  }
  if (url.username || url.password) {
    // fetch refuses such URLs with an error that quotes them, password included.
    throw new ConfigError(
      `The base URL ${redactUrl(url)} carries a user name or password`,
      "The site authenticates with its session cookie: remove user:password@ from the base URL.",
    );
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
export function mapFailure(error: unknown, deadline: Deadline, call: CallContext, url: string, phase: "connect" | "body" | "stream"): OpenAssistantError {
  if (error instanceof OpenAssistantError) return error;
  const init = { chatId: call.chatId, cause: error };
  if (error instanceof BodyTooLargeError) {
    return new ProtocolError(`${call.what} answered more than ${byteSize(error.maxBytes)} (the \`maxResponseBytes\` limit); the rest was not read`, {
      ...init,
      hint: "Check that the base URL points at an Open-Assistant site; raise `maxResponseBytes` if its answers really are that large.",
    });
  }
  if (deadline.timedOut) {
    // Only the stream's deadline restarts with each event: a whole answer's is one budget, however busy the server was.
    const what = phase === "connect" ? "got no answer for" : phase === "body" ? "did not finish its answer within" : "went silent for";
    return new TimeoutError(`${call.what} ${what} ${deadline.ms} ms`, deadline.ms, init);
  }
  if (deadline.userAborted) return new AbortError(`${call.what} was aborted`, init);
  // Through a proxy, undici's own connect and headers timers run with the same budget and may fire first.
  if (hasCode(error, "UND_ERR_CONNECT_TIMEOUT") || hasCode(error, "UND_ERR_HEADERS_TIMEOUT")) {
    return new TimeoutError(`${call.what} got no answer for ${deadline.ms} ms`, deadline.ms, init);
  }
  const detail = describeNetworkError(error);
  // llhttp (Node's parser and undici's) refused the answer's framing: the connection is already closed. undici
  // reports a head it refused while a Content-Length was set (one with Transfer-Encoding too) as a length mismatch.
  const refusedHead = phase === "connect" && hasCode(error, "UND_ERR_RES_CONTENT_LENGTH_MISMATCH");
  if (refusedHead || hasCode(error, /^HPE_/)) {
    const why = refusedHead
      ? "UND_ERR_RES_CONTENT_LENGTH_MISMATCH: a head with a Content-Length that the parser refused, e.g. one with Transfer-Encoding too"
      : detail;
    return new ProtocolError(`${call.what}: the server's answer is not valid HTTP/1.1 (${why})`, {
      ...init,
      hint: "Something between you and the site (a proxy, a load balancer) or the site itself sent a malformed answer; check the base URL.",
    });
  }
  if (phase === "stream") {
    return new StreamError(`${call.what}: the connection broke in the middle of the reply (${detail})`, init);
  }
  if (phase === "body") {
    return new ConnectionError(`${call.what}: the connection broke before the whole answer arrived (${detail})`, init);
  }
  return new ConnectionError(`${call.what} could not reach ${originOf(url)} (${detail})`, init);
}

/** "8 MiB", "64 KiB", "100 bytes". */
function byteSize(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
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
