import { AbortError, AuthError, ConfigError, ModelNotFoundError, OpenAssistantError, RateLimitError, ServerBusyError, TimeoutError } from "../errors.js";
import { redactSecrets } from "../redact.js";

/** OpenAI's error body: what its clients parse into their error objects. */
export interface OpenAIErrorBody {
  error: {
    message: string;
    type: string;
    param: string | null;
    code: string | null;
  };
}

/** An HTTP answer in OpenAI's error shape. */
export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  /** Sent as `Retry-After` (seconds). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    status: number,
    message: string,
    init: { type?: string; code?: string | null; param?: string | null; retryAfterSeconds?: number | undefined } = {},
  ) {
    super(message);
    this.name = "GatewayError";
    this.status = status;
    this.type = init.type ?? (status >= 500 ? "server_error" : "invalid_request_error");
    this.code = init.code ?? null;
    this.param = init.param ?? null;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  toResponse(): Response {
    const headers: Record<string, string> = {};
    if (this.retryAfterSeconds !== undefined) headers["retry-after"] = String(this.retryAfterSeconds);
    if (this.status === 401) headers["www-authenticate"] = "Bearer";
    return Response.json(this.toBody(), { status: this.status, headers });
  }
}

/** A 400 about one field of the request. */
export function invalidRequest(message: string, param: string | null, code: string | null = null): GatewayError {
  return new GatewayError(400, message, { param, code });
}

/** A 400 for an OpenAI feature Open-Assistant has no counterpart for. */
export function unsupported(message: string, param: string): GatewayError {
  return new GatewayError(400, message, { param, code: "unsupported_parameter" });
}

/**
 * Any failure → the status and OpenAI error a client expects. Texts come from the
 * provider's errors (which hold no secrets); `secrets` are masked again anyway,
 * since an upstream server's message is quoted verbatim.
 */
export function toGatewayError(error: unknown, secrets: readonly string[], shuttingDown = false): GatewayError {
  if (error instanceof GatewayError) return error;
  if (!(error instanceof OpenAssistantError)) {
    return new GatewayError(500, "The gateway failed unexpectedly; see its log.", { code: "internal_error" });
  }
  const message = maskSecrets([error.summary, error.hint].filter(Boolean).join(". "), secrets);
  const retryAfterSeconds =
    (error instanceof RateLimitError || error instanceof ServerBusyError) && error.retryAfterMs !== undefined
      ? Math.ceil(error.retryAfterMs / 1000)
      : undefined;
  if (error instanceof AuthError) return new GatewayError(401, message, { type: "authentication_error", code: "upstream_auth_failed" });
  if (error instanceof RateLimitError) return new GatewayError(429, message, { type: "rate_limit_error", code: "rate_limit_exceeded", retryAfterSeconds });
  if (error instanceof ServerBusyError) return new GatewayError(503, message, { code: "server_busy", retryAfterSeconds });
  if (error instanceof ModelNotFoundError) return new GatewayError(404, message, { param: "model", code: "model_not_found" });
  if (error instanceof AbortError) {
    return shuttingDown
      ? new GatewayError(503, "The gateway is shutting down: send the request again when it is back.", { code: "gateway_shutting_down" })
      : new GatewayError(499, "The request was aborted.", { code: "aborted" });
  }
  if (error instanceof TimeoutError) return new GatewayError(504, message, { code: "upstream_timeout" });
  // The caller's request was checked already: a ConfigError now is the gateway's own setup (base URL, proxy, cookies).
  if (error instanceof ConfigError) return new GatewayError(500, message, { code: "gateway_misconfigured" });
  return new GatewayError(502, message, { code: `upstream_${error.code}` });
}

/** The shortest secret masked, as `redactSecrets` does: shorter ones are too common. */
const MIN_SECRET_LENGTH = 4;

/**
 * `text` with every secret masked, also the beginning of one that an ellipsis cuts off:
 * a server's plain-text message is quoted up to a length, and the cut may fall inside a
 * quoted cookie.
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  const parts = redactSecrets(text, secrets).split("…");
  return parts.map((part, index) => (index === parts.length - 1 ? part : redactSecrets(part, [cutSecret(part, secrets)]))).join("…");
}

/** The longest end of `text` that begins a secret, or "". */
function cutSecret(text: string, secrets: readonly string[]): string {
  let longest = "";
  for (const secret of secrets) {
    for (let length = Math.min(secret.length - 1, text.length); length >= MIN_SECRET_LENGTH && length > longest.length; length--) {
      if (text.endsWith(secret.slice(0, length))) {
        longest = secret.slice(0, length);
        break;
      }
    }
  }
  return longest;
}
