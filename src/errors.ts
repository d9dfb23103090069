/**
 * One error hierarchy for everything oasst throws. Each error carries the cause
 * (`summary`: what failed, with the HTTP status and server message when there is
 * one) and the fix (`hint`: what to do), with `details` lines between them when there is a list to show
 * (the places looked at for cookies); `message` is all of them joined by newlines.
 * No error text ever contains a cookie value, a token or a proxy password.
 */

export type OpenAssistantErrorCode =
  "auth" | "rate_limit" | "server_busy" | "model_not_found" | "stream" | "cancelled" | "protocol" | "timeout" | "connection" | "aborted" | "server" | "config";

export interface OpenAssistantErrorInit {
  /** HTTP status of the failing response, when there was one. */
  status?: number | undefined;
  /** The server's own error text (`{"message": …}` body, or an `error` event). */
  serverMessage?: string | undefined;
  /** The chat the failure belongs to, when one had been created. */
  chatId?: string | undefined;
  /** What to do about it; each class has a default. */
  hint?: string | undefined;
  /** Lines between the cause and the fix, e.g. each place looked at for cookies. */
  details?: readonly string[] | undefined;
  cause?: unknown;
}

export class OpenAssistantError extends Error {
  readonly code: OpenAssistantErrorCode = "server";
  readonly status: number | undefined;
  readonly serverMessage: string | undefined;
  readonly chatId: string | undefined;
  /** The cause, on one line. */
  readonly summary: string;
  /** The fix, on one line. */
  readonly hint: string;
  /** Lines between the cause and the fix (often none). */
  readonly details: readonly string[];

  constructor(summary: string, init: OpenAssistantErrorInit = {}, defaultHint = "") {
    const hint = init.hint ?? defaultHint;
    const details = init.details ?? [];
    super([summary, ...details, ...(hint ? [hint] : [])].join("\n"), init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.summary = summary;
    this.hint = hint;
    this.details = details;
    this.status = init.status;
    this.serverMessage = init.serverMessage;
    this.chatId = init.chatId;
  }
}

/** 401/403: the session cookie is missing, expired or rejected. */
export class AuthError extends OpenAssistantError {
  override readonly code = "auth";
  constructor(summary: string, init: OpenAssistantErrorInit = {}) {
    super(
      summary,
      init,
      "Pass the site's session cookie (__Secure-next-auth.session-token on an https site, next-auth.session-token on plain http) in the `cookies` option, OASST_COOKIES or a cookies.txt file, or log in to the site in a browser on this machine.",
    );
  }
}

/** Raised for responses that say "try again later" (429, 503). */
abstract class RetryableError extends OpenAssistantError {
  /** From `Retry-After`, when the server sent one. */
  readonly retryAfterMs: number | undefined;
  constructor(summary: string, init: OpenAssistantErrorInit & { retryAfterMs?: number | undefined }, hint: string) {
    super(summary, init, hint);
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** 429: too many requests. */
export class RateLimitError extends RetryableError {
  override readonly code = "rate_limit";
  constructor(summary: string, init: OpenAssistantErrorInit & { retryAfterMs?: number | undefined } = {}) {
    super(
      summary,
      init,
      init.retryAfterMs === undefined
        ? "Wait before sending more messages: Open-Assistant allows 20 replies per account per 11 minutes."
        : `Wait ${waitText(init.retryAfterMs)} before sending more messages: Open-Assistant allows 20 replies per account per 11 minutes.`,
    );
  }
}

/** 503: the model's work queue is full. */
export class ServerBusyError extends RetryableError {
  override readonly code = "server_busy";
  constructor(summary: string, init: OpenAssistantErrorInit & { retryAfterMs?: number | undefined } = {}) {
    super(summary, init, "The model's queue is full: try again in a minute, or pick another model.");
  }
}

/** 422 for the model name: unknown or not allowed on this server. */
export class ModelNotFoundError extends OpenAssistantError {
  override readonly code = "model_not_found";
  readonly model: string;
  /** The server's models, when `/api/chat/models` answered. */
  readonly availableModels: string[] | undefined;
  constructor(model: string, init: OpenAssistantErrorInit & { availableModels?: string[] | undefined } = {}) {
    const available = init.availableModels;
    super(
      `Model ${JSON.stringify(model)} was refused${init.status ? ` (HTTP ${init.status}` : " ("}${init.serverMessage ? `: ${init.serverMessage}` : ""})`,
      init,
      available?.length ? `Use one of: ${available.join(", ")}.` : "Pick a model the server offers (`oasst models` lists them).",
    );
    this.model = model;
    this.availableModels = available;
  }
}

/** The event stream failed: an `error` event, or an end before the final `message` event. */
export class StreamError extends OpenAssistantError {
  override readonly code = "stream";
  constructor(summary: string, init: OpenAssistantErrorInit = {}) {
    super(summary, init, "The reply was cut short on the server side: send the message again.");
  }
}

/**
 * The server cancelled the reply before it started: the same account posted another
 * reply while this one was still queued (Open-Assistant keeps one queued reply per user),
 * from another process, machine or browser tab.
 */
export class ReplyCancelledError extends OpenAssistantError {
  override readonly code = "cancelled";
  constructor(summary: string, init: OpenAssistantErrorInit = {}) {
    super(
      summary,
      init,
      "Another client on the same account (a browser, another process or machine) started a reply while this one was queued: send the message again, and give each client its own account.",
    );
  }
}

/** The server answered something that is not the protocol: bad JSON, wrong shape, an HTML page. */
export class ProtocolError extends OpenAssistantError {
  override readonly code = "protocol";
  constructor(summary: string, init: OpenAssistantErrorInit = {}) {
    super(summary, init, "Check that the base URL points at an Open-Assistant site (its /api/chat routes), not at another page or a login wall.");
  }
}

/** A request, or the event stream's silence, took longer than `timeout`. */
export class TimeoutError extends OpenAssistantError {
  override readonly code = "timeout";
  readonly timeoutMs: number;
  constructor(summary: string, timeoutMs: number, init: OpenAssistantErrorInit = {}) {
    super(summary, init, "The server is slow or unreachable: raise `timeout` (ms), or try again later.");
    this.timeoutMs = timeoutMs;
  }
}

/** The network failed: refused, reset, DNS, TLS or proxy. */
export class ConnectionError extends OpenAssistantError {
  override readonly code = "connection";
  constructor(summary: string, init: OpenAssistantErrorInit = {}) {
    super(summary, init, "Check the base URL, your network and the proxy settings (proxy option, HTTPS_PROXY, ALL_PROXY).");
  }
}

/** The caller's AbortSignal fired. `cause` is the signal's reason. */
export class AbortError extends OpenAssistantError {
  override readonly code = "aborted";
  constructor(summary = "The request was aborted", init: OpenAssistantErrorInit = {}) {
    super(summary, init, "");
  }
}

/** Any other HTTP failure (400, 404, 413, 500, …). */
export class ServerError extends OpenAssistantError {
  override readonly code = "server";
  constructor(summary: string, init: OpenAssistantErrorInit = {}) {
    super(
      summary,
      init,
      init.status === 500
        ? "The server failed (on the real site a 500 from assistant_message may also mean the rate limit): try again later."
        : "The request was refused: check the message and options sent.",
    );
  }
}

/** An option or argument is invalid (bad proxy URL, bad base URL, …). */
export class ConfigError extends OpenAssistantError {
  override readonly code = "config";
  constructor(summary: string, hint: string, init: OpenAssistantErrorInit = {}) {
    super(summary, { ...init, hint });
  }
}

/** "42 s", "3 min 20 s". */
function waitText(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
}
