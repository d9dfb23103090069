import type { MiddlewareHandler } from "hono";
import { CHAT_ID_HEADER } from "./chat-completions-route.js";

/** One request the gateway answered. Never a body, a header or a query string: they may hold keys. */
export interface GatewayRequestLog {
  method: string;
  /** The URL's path, without its query string. */
  path: string;
  status: number;
  /** From the request to the answer's headers: a streamed reply goes on after. */
  ms: number;
  /** The reply's chat on the site (the `x-oasst-chat-id` header), when there is one. */
  chatId: string | undefined;
}

/** Hands each request to `onRequestLog` once its answer's headers are ready, refused requests too. */
export function requestLog(onRequestLog: (entry: GatewayRequestLog) => void): MiddlewareHandler {
  return async (c, next) => {
    const start = performance.now();
    await next();
    // A log that fails must not fail the answer it logs.
    try {
      onRequestLog({
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - start),
        chatId: c.res.headers.get(CHAT_ID_HEADER) ?? undefined,
      });
    } catch (error) {
      console.error(`oasst gateway: the request log failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}

/** The entry as one line: `POST /v1/chat/completions 200 412 ms chat 5f0c…`. */
export function requestLogLine(entry: GatewayRequestLog): string {
  return `${printable(entry.method)} ${printable(entry.path)} ${entry.status} ${entry.ms} ms${entry.chatId ? ` chat ${printable(entry.chatId)}` : ""}`;
}

/** A caller chooses the path: its control characters are shown escaped, never sent to a terminal. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
