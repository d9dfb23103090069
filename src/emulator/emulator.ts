import { getRequestListener } from "@hono/node-server";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createEmulatorApp } from "./app.js";
import { createEmulatorState, type RecordedRequest } from "./emulator-state.js";
import type { EmulatorOptions } from "./options.js";
import { replyTokens } from "./reply-text.js";
import { checkSessionToken, newSessionToken, resolveSettings } from "./settings.js";
import { ConfigError } from "../errors.js";

/**
 * A local Open-Assistant-compatible server: the website API (`/api/chat/*`) as
 * open-assistant.io served it, byte for byte, with deterministic replies and injectable
 * faults. Tests, demos and benchmarks run against it. See docs/emulator.md.
 */

export type { Fault } from "./faults.js";
export type { EmulatorOptions } from "./options.js";
export { FAULT_DESCRIPTIONS, FAULT_NAMES } from "./faults.js";
export type { RecordedRequest } from "./emulator-state.js";
export { replyTokens } from "./reply-text.js";

export interface Emulator {
  /** `http://127.0.0.1:PORT` (IPv6 hosts in brackets). */
  url: string;
  cookieName: string;
  /** The first user's session token. */
  sessionToken: string;
  /** The first user's Cookie header value `name=token`. */
  cookie: string;
  /** The first user's `{ [cookieName]: token }`. */
  cookies: Record<string, string>;
  /** Every user's session, the first user first (the `sessionTokens` option, then those `addSession` added). */
  sessions(): EmulatorSession[];
  /** A new user: its own session token (random unless given), chats, rate limit and pending messages. */
  addSession(token?: string): EmulatorSession;
  /** Chats created and not (successfully) deleted. */
  liveChats(): number;
  /**
   * The requests that presented a session of this server, in arrival order: the last
   * `recordRequests` (default 1000), each body cut to its first 8 KiB characters.
   */
  requests: RecordedRequest[];
  /** The exact text the server streams for a prompter message with this content. */
  expectedReply(prompt: string, options?: { maxNewTokens?: number }): string;
  /** Closes the server and every open connection (streams in progress end); resolves when closed. */
  stop(): Promise<void>;
}

/** One user's session. */
export interface EmulatorSession {
  token: string;
  /** Cookie header value `name=token`. */
  cookie: string;
  /** `{ [cookieName]: token }`. */
  cookies: Record<string, string>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const settings = resolveSettings(options);
  const state = createEmulatorState(settings);
  const app = createEmulatorApp(state);
  // Without overriding the global Request/Response: the emulator often shares a process with the code under test.
  const server = createServer(getRequestListener(app.fetch, { overrideGlobalObjects: false }));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // A load test opens a thousand connections at once: more than Node's default backlog (511) would be reset.
    server.listen({ port: settings.port, host: settings.host, backlog: 4096 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  let stopped: Promise<void> | undefined;
  const session = (token: string): EmulatorSession => ({
    token,
    cookie: `${settings.cookieName}=${token}`,
    cookies: { [settings.cookieName]: token },
  });
  const tokens = [...settings.sessionTokens];
  return {
    url: `http://${host}:${port}`,
    cookieName: settings.cookieName,
    sessionToken: settings.sessionToken,
    cookie: `${settings.cookieName}=${settings.sessionToken}`,
    cookies: { [settings.cookieName]: settings.sessionToken },
    sessions: () => tokens.map(session),
    addSession(token = newSessionToken()) {
      checkSessionToken("addSession token", token);
      if (state.users.find(token)) {
        throw new ConfigError("addSession: this token is already a session of the emulator", "Pass a new token, or none for a random one.");
      }
      state.users.add(token);
      tokens.push(token);
      return session(token);
    },
    liveChats: () => state.store.chatCount,
    requests: state.requests,
    expectedReply(prompt, replyOptions = {}) {
      const limit = replyOptions.maxNewTokens ?? Number.POSITIVE_INFINITY;
      return replyTokens(prompt, Math.max(0, Math.min(settings.replyTokens, limit))).join("");
    },
    stop() {
      state.workers.stop();
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open streams and keep-alive sockets would hold close() forever.
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
