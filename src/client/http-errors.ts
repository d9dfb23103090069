import { AuthError, ConnectionError, ProtocolError, RateLimitError, ServerBusyError, ServerError, type OpenAssistantError } from "../errors.js";

/** What the failing call was, for error texts: "POST /api/chat/assistant_message". */
export interface CallContext {
  what: string;
  chatId?: string | undefined;
}

/** What the error mapping reads of a response: a fetch Response fits, and so does a dispatcher answer. */
export interface ResponseHead {
  status: number;
  url: string;
  headers: { get(name: string): string | null };
}

/**
 * The error for a non-2xx response. `body` is the response text (already read);
 * the server's message is taken from `{"message": …}` when there is one.
 */
export function errorForStatus(response: ResponseHead, body: string, context: CallContext): OpenAssistantError {
  const status = response.status;
  const serverMessage = serverMessageOf(body);
  const init = { status, serverMessage, chatId: context.chatId };
  const said = serverMessage ? `: ${serverMessage}` : "";
  if (status >= 300 && status < 400) {
    const location = response.headers.get("location");
    return new ProtocolError(
      `${context.what} was redirected (HTTP ${status}${location ? ` to ${describeLocation(location, response.url)}` : ""}); oasst does not follow redirects, so the session cookie never leaves the configured origin`,
      { ...init, hint: "Use the final address as the base URL (for example https:// instead of http://), if you trust it." },
    );
  }
  if (status === 401 || status === 403) {
    return new AuthError(`${context.what} was refused (HTTP ${status}${said}): the session cookie is missing, expired or not accepted`, init);
  }
  if (status === 429) {
    return new RateLimitError(`${context.what} was rate limited (HTTP 429${said})`, {
      ...init,
      retryAfterMs: retryAfterMs(response.headers.get("retry-after")),
    });
  }
  if (status === 503) {
    return new ServerBusyError(`${context.what}: the server is busy (HTTP 503${said})`, {
      ...init,
      retryAfterMs: retryAfterMs(response.headers.get("retry-after")),
    });
  }
  if (status === 502 || status === 504) {
    return new ConnectionError(`${context.what}: a gateway in front of the server failed (HTTP ${status}${said})`, init);
  }
  return new ServerError(`${context.what} failed (HTTP ${status}${said})`, init);
}

/** `{"message": "…"}` or a FastAPI validation array `{"message": [{msg, loc}]}`; plain short texts too. */
export function serverMessageOf(body: string): string | undefined {
  const text = body.trim();
  if (!text) return undefined;
  if (text.startsWith("{")) {
    try {
      const parsed = JSON.parse(text) as { message?: unknown; detail?: unknown };
      const message = parsed.message ?? parsed.detail;
      if (typeof message === "string") return message;
      if (Array.isArray(message)) {
        return message
          .map((item: { msg?: unknown; loc?: unknown }) => (Array.isArray(item.loc) ? `${item.loc.join(".")}: ${String(item.msg)}` : String(item.msg)))
          .join("; ");
      }
    } catch {
      // Not JSON after all: fall through to the plain-text rule.
    }
  }
  if (text.startsWith("<")) return undefined; // an HTML error page says nothing useful on one line
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** `Retry-After` as seconds or an HTTP date → ms. */
export function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describeLocation(location: string, base: string): string {
  try {
    const url = new URL(location, base || undefined);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return JSON.stringify(location);
  }
}

/** Parse a JSON success body, or say precisely what came instead. */
export function parseJsonBody<T>(body: string, context: CallContext, status: number): T {
  const text = body.trimStart();
  if (text.startsWith("<")) {
    throw new ProtocolError(
      `${context.what} answered HTTP ${status} with an HTML page instead of JSON (a login page, a proxy's page, or not an Open-Assistant site)`,
      { status, chatId: context.chatId },
    );
  }
  try {
    return JSON.parse(body) as T;
  } catch (cause) {
    const preview = body.length > 80 ? `${body.slice(0, 80)}…` : body;
    throw new ProtocolError(`${context.what} answered HTTP ${status} with a body that is not JSON: ${JSON.stringify(preview)}`, {
      status,
      chatId: context.chatId,
      cause,
    });
  }
}
