import type { HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { Context } from "hono";
import type { ValidationIssue } from "./pydantic-validation.js";
import type { EmulatedUser } from "./users.js";

/**
 * Responses written straight on the Node response, as Next.js writes them: the Fetch
 * `Response` path of @hono/node-server would add a `content-type: text/plain` to empty
 * and text bodies, which the website never sends. Each helper returns hono's
 * "already sent" marker for the handler to return.
 */

export interface EmulatorBindings {
  Bindings: HttpBindings;
  Variables: {
    /** The body as the Next.js body parser left it in `req.body`. */
    body: unknown;
    /** Aborted when the connection closes. */
    lifetime: AbortSignal;
    /** The session's user (set by the session check). */
    user: EmulatedUser;
    /** The user whose session the request presents, if any (looked up before the body parser's answer). */
    sessionUser: EmulatedUser | undefined;
  };
}

export type EmulatorContext = Context<EmulatorBindings>;

/**
 * `res.status(n).end()` as Next.js 13 answers it (measured on the real stack): no
 * content-type, and a chunked body that ends at once (no `Content-Length`).
 */
export function replyEmpty(c: EmulatorContext, status: number): Response {
  const { outgoing } = c.env;
  outgoing.statusCode = status;
  // Headers out before the end: Node then frames the (empty) body as chunked instead of `Content-Length: 0`.
  outgoing.flushHeaders();
  outgoing.end();
  return RESPONSE_ALREADY_SENT;
}

/**
 * `res.status(200); stream.pipe(res)` with an empty upstream body (the inference
 * server's 204): the same bytes as `replyEmpty`.
 */
export function replyEmptyChunked(c: EmulatorContext, status: number): Response {
  return replyEmpty(c, status);
}

/** Next.js `sendError` (and its production 500): the text is the body and the status message, no content-type, chunked. */
export function replyText(c: EmulatorContext, status: number, text: string): Response {
  const { outgoing } = c.env;
  outgoing.statusCode = status;
  outgoing.statusMessage = text;
  outgoing.flushHeaders();
  outgoing.end(text);
  return RESPONSE_ALREADY_SENT;
}

/** `res.status(n).send(text)`: the status's own reason phrase, a `Content-Length`, no content-type. */
export function replySent(c: EmulatorContext, status: number, text: string): Response {
  c.env.outgoing.writeHead(status, { "Content-Length": Buffer.byteLength(text) });
  c.env.outgoing.end(text);
  return RESPONSE_ALREADY_SENT;
}

/** `res.status(n).json(body)`: compact JSON, raw UTF-8. */
export function replyJson(c: EmulatorContext, status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const { outgoing } = c.env;
  const json = JSON.stringify(body);
  outgoing.writeHead(status, {
    ...headers,
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(json),
  });
  outgoing.end(json);
  return RESPONSE_ALREADY_SENT;
}

/** An uncaught error in a website handler (production build). */
export function replyInternalError(c: EmulatorContext): Response {
  return replyText(c, 500, "Internal Server Error");
}

/** The website's wrapper for upstream errors: the upstream status and `{"message": detail}`. */
export function replyUpstreamError(
  c: EmulatorContext,
  status: number,
  detail: string | ValidationIssue[] = "Something went wrong",
  headers: Record<string, string> = {},
): Response {
  return replyJson(c, status, { message: detail }, headers);
}
