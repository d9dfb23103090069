import { getRequestListener } from "@hono/node-server";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createEmulatorApp } from "./app.js";
import { createEmulatorState, type RecordedRequest } from "./emulator-state.js";
import type { Fault } from "./faults.js";
import { replyTokens } from "./reply-text.js";
import { resolveSettings } from "./settings.js";

/**
 * A local Open-Assistant-compatible server: the website API (`/api/chat/*`) as
 * open-assistant.io served it, byte for byte, with deterministic replies and injectable
 * faults. Tests, demos and benchmarks run against it. See docs/emulator.md.
 */

export type { Fault } from "./faults.js";
export { FAULT_DESCRIPTIONS, FAULT_NAMES } from "./faults.js";
export type { RecordedRequest } from "./emulator-state.js";
export { replyTokens } from "./reply-text.js";

export interface EmulatorOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** Default: a random 32-byte base64url token. */
  sessionToken?: string;
  /** Cookie name `__Secure-next-auth.session-token` when true, else `next-auth.session-token` (NextAuth reads only one). Default false. */
  secureCookie?: boolean;
  /** Keep-alive comments `: ping - <naive UTC str(datetime)>` every this many ms, the first one after as long. Default 15000. */
  pingIntervalMs?: number;
  /** Tokens per reply, default 24; a request's `max_new_tokens` lowers it (length = min of both). */
  replyTokens?: number;
  /** Delay between token events, default 0 (0 writes the whole pre-encoded body at once). */
  tokenDelayMs?: number;
  /** `pending` events before the first token, default 1, queue_position counting down to 1. */
  pendingEvents?: number;
  /** Silence after each pending event, default 0. */
  pendingIntervalMs?: number;
  /** Allowed model config names (ALLOWED_MODEL_CONFIG_NAMES); default all (`*`). */
  models?: string[];
  /** Faults for this server; default none. */
  faults?: Fault[];
  /** The final `message` event carries the reply's first 16 tokens only (benchmarks: avoids one huge line). Default false. */
  shortFinalMessage?: boolean;
  /** No request log. Default false: one line per request on stderr (`oasst emulate: GET /api/chat 200`). */
  quiet?: boolean;
}

export interface Emulator {
  /** `http://127.0.0.1:PORT` (IPv6 hosts in brackets). */
  url: string;
  cookieName: string;
  sessionToken: string;
  /** Cookie header value `name=token`. */
  cookie: string;
  /** `{ [cookieName]: token }`. */
  cookies: Record<string, string>;
  /** Chats created and not (successfully) deleted. */
  liveChats(): number;
  /** Every request received, in arrival order. */
  requests: RecordedRequest[];
  /** The exact text the server streams for a prompter message with this content. */
  expectedReply(prompt: string, options?: { maxNewTokens?: number }): string;
  /** Closes the server and every open connection (streams in progress end); resolves when closed. */
  stop(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const settings = resolveSettings(options);
  const state = createEmulatorState(settings);
  const app = createEmulatorApp(state);
  // Without overriding the global Request/Response: the emulator often shares a process with the code under test.
  const server = createServer(getRequestListener(app.fetch, { overrideGlobalObjects: false }));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.port, settings.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    cookieName: settings.cookieName,
    sessionToken: settings.sessionToken,
    cookie: `${settings.cookieName}=${settings.sessionToken}`,
    cookies: { [settings.cookieName]: settings.sessionToken },
    liveChats: () => state.store.chatCount,
    requests: state.requests,
    expectedReply(prompt, replyOptions = {}) {
      const limit = replyOptions.maxNewTokens ?? Number.POSITIVE_INFINITY;
      return replyTokens(prompt, Math.max(0, Math.min(settings.replyTokens, limit))).join("");
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open streams and keep-alive sockets would hold close() forever.
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
