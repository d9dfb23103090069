import { Hono, type MiddlewareHandler } from "hono";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { IncomingHttpHeaders } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import { registerChatRoutes } from "./chat-routes.js";
import { recordRequest, type EmulatorState } from "./emulator-state.js";
import { registerEventsRoute } from "./events-route.js";
import { registerMessageRoutes } from "./message-routes.js";
import { replyEmpty, replyText, type EmulatorBindings } from "./node-reply.js";
import { registerPluginRoutes } from "./plugin-routes.js";
import { parseRequestBody, readRequestBody } from "./request-body.js";
import { presentedSessionToken } from "./session-auth.js";
import { queryParam } from "./website-request.js";

/**
 * The emulated website: every request is recorded, then goes through what Next.js does
 * before a handler (body parser), then the session check of `withoutRole("banned")`,
 * then the route. Faults that hit every route are applied here.
 */

const REDIRECT_TARGET = "http://evil.example/api/auth/signin?callbackUrl=%2Fchat";

function headerRecord(headers: IncomingHttpHeaders): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) record[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return record;
}

function queryRecord(searchParams: URLSearchParams): Record<string, string> {
  const record: Record<string, string> = {};
  for (const name of new Set(searchParams.keys())) record[name] = queryParam(searchParams, name) ?? "";
  return record;
}

/** Why a response's lifetime signal fired: its connection closed (the response ended, or the client left). */
const RESPONSE_CLOSED = new Error("The response's connection closed");

export function createEmulatorApp(state: EmulatorState): Hono<EmulatorBindings> {
  const { settings } = state;
  const app = new Hono<EmulatorBindings>();

  app.use(async (c, next) => {
    const { incoming, outgoing } = c.env;
    if (settings.connectionClose) {
      // Next.js 13 (next start and standalone alike) closes the connection after every answer.
      outgoing.setHeader("Keep-Alive", "timeout=5");
      outgoing.setHeader("Connection", "close");
    }
    const lifetime = new AbortController();
    // A shared reason: abort() without one builds a DOMException, with its stack, for every request.
    outgoing.once("close", () => lifetime.abort(RESPONSE_CLOSED));
    c.set("lifetime", lifetime.signal);
    if (!settings.quiet) {
      outgoing.once("close", () => console.error(`oasst emulate: ${c.req.method} ${incoming.url ?? ""} ${outgoing.statusCode}`));
    }
    let received: Awaited<ReturnType<typeof readRequestBody>>;
    try {
      received = await readRequestBody(incoming);
    } catch {
      // The client went away while sending its body: nobody to answer.
      return RESPONSE_ALREADY_SENT;
    }
    const sessionUser = state.users.find(presentedSessionToken(incoming.headers, settings.cookieName));
    c.set("sessionUser", sessionUser);
    // Only requests with a session of this server are recorded: anyone who can reach the port could fill the log.
    if (sessionUser) {
      const url = new URL(c.req.url);
      recordRequest(state, {
        method: c.req.method,
        path: url.pathname,
        query: queryRecord(url.searchParams),
        headers: headerRecord(incoming.headers),
        body: received.text,
      });
    }
    if (settings.faults.has("slow-headers")) {
      // Cut short when the client leaves or the server stops.
      const waited = await delay(settings.slowHeadersMs, true, { signal: lifetime.signal }).catch(() => false);
      if (!waited) return RESPONSE_ALREADY_SENT;
    }
    const parsed = parseRequestBody(received.text, received.tooLarge, incoming.headers["content-type"]);
    if (!parsed.ok) return replyText(c, parsed.status, parsed.reason);
    c.set("body", parsed.value);
    await next();
  });

  // withoutRole("banned"): no valid session token, 403 with an empty body.
  const guard: MiddlewareHandler<EmulatorBindings> = async (c, next) => {
    if (settings.faults.has("redirect")) {
      c.env.outgoing.writeHead(302, { Location: REDIRECT_TARGET });
      c.env.outgoing.end();
      return RESPONSE_ALREADY_SENT;
    }
    const user = c.var.sessionUser;
    if (settings.faults.has("auth") || !user) return replyEmpty(c, 403);
    c.set("user", user);
    await next();
  };

  registerChatRoutes(app, state, guard);
  registerMessageRoutes(app, state, guard);
  registerEventsRoute(app, state, guard);
  registerPluginRoutes(app, guard);

  app.notFound((c) => replyEmpty(c, 404));
  app.onError((error, c) => {
    // A bug in a handler: a 500 as the production website sends it, or a cut connection mid-stream.
    console.error("oasst emulate: internal error:", error);
    if (c.env.outgoing.headersSent) {
      c.env.outgoing.destroy();
      return RESPONSE_ALREADY_SENT;
    }
    return replyText(c, 500, "Internal Server Error");
  });
  return app;
}
