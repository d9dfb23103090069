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
    return new AuthError(`${context.what} was refused (HTTP ${status}${said}): the session cookie is missing, expired or not accepted`, {
      ...init,
      hint: authHint(response.url),
    });
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
  return new ServerError(`${context.what} failed (HTTP ${status}${said})`, { ...init, hint: serverErrorHint(status, response.url, context) });
}

/**
 * NextAuth names its session cookie after the site's scheme: `__Secure-next-auth.session-token`
 * on https, `next-auth.session-token` on plain http (as `oasst emulate` does by default).
 */
export function sessionCookieNameFor(url: string): string | undefined {
  const scheme = parsedUrl(url)?.protocol;
  return scheme === "https:" ? "__Secure-next-auth.session-token" : scheme === "http:" ? "next-auth.session-token" : undefined;
}

function authHint(url: string): string | undefined {
  const name = sessionCookieNameFor(url);
  if (!name) return undefined;
  return `Pass a current session cookie of this site (${name}=…) in the \`cookies\` option, OASST_COOKIES or a cookies.txt file, or log in to the site in a browser on this machine.`;
}

/** undefined: the class's default. */
function serverErrorHint(status: number, url: string, context: CallContext): string | undefined {
  const parsed = parsedUrl(url);
  if (status === 404 && parsed?.pathname.includes("/api/")) {
    const used = `${parsed.origin}${parsed.pathname}`;
    // An unknown chat is a 404 too: the base URL is the likelier cause only when it is not about one chat.
    const root = `it must be the Open-Assistant site's root, without /api (the request went to ${used})`;
    return context.chatId
      ? `Chat ${context.chatId} is unknown, deleted or another account's; or the base URL is wrong: ${root}.`
      : `Check the base URL: ${root}.`;
  }
  if (status === 500 && !context.what.includes("assistant_message")) return "The server failed: try again later.";
  return undefined;
}

function parsedUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
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

/** Whether the error or one of its causes carries `code` (or a code that matches it). */
export function hasCode(error: unknown, code: string | RegExp): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const own = (current as { code?: unknown }).code;
    if (typeof own === "string" && (typeof code === "string" ? own === code : code.test(own))) return true;
    current = current.cause;
  }
  return false;
}
