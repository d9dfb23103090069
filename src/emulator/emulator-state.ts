import { ChatStore } from "./chat-store.js";
import type { EmulatorSettings } from "./settings.js";
import { TokenEventsCache } from "./token-events-cache.js";
import { UserRegistry } from "./users.js";
import { WorkerPool } from "./worker.js";

/** One request as the emulator received it. */
export interface RecordedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  /** Query parameters; a repeated name holds its values joined by "," (as the website's `${req.query.x}`). */
  query: Record<string, string>;
  /** Lower-case header names; repeated headers joined as Node joins them. */
  headers: Record<string, string>;
  /** The raw body as UTF-8 text, its first `RECORDED_BODY_CHARS` characters. */
  body: string;
}

/** What a recorded body keeps: every body the site's API expects fits, a flood of large ones does not pile up. */
export const RECORDED_BODY_CHARS = 8 * 1024;

/** Adds a request to the log, which keeps the last `settings.recordRequests` ones. */
export function recordRequest(state: EmulatorState, request: RecordedRequest): void {
  const { recordRequests } = state.settings;
  if (recordRequests === 0) return;
  if (request.body.length > RECORDED_BODY_CHARS) request.body = request.body.slice(0, RECORDED_BODY_CHARS);
  state.requests.push(request);
  if (state.requests.length > recordRequests) state.requests.splice(0, state.requests.length - recordRequests);
}

/** What every route of one emulator shares. */
export interface EmulatorState {
  readonly settings: EmulatorSettings;
  readonly store: ChatStore;
  readonly tokenEvents: TokenEventsCache;
  readonly requests: RecordedRequest[];
  /** The accounts: one per session token. */
  readonly users: UserRegistry;
  /** The work queues and workers (one per model). */
  readonly workers: WorkerPool;
}

export function createEmulatorState(settings: EmulatorSettings): EmulatorState {
  const tokenEvents = new TokenEventsCache(8);
  return {
    settings,
    store: new ChatStore(),
    tokenEvents,
    requests: [],
    users: new UserRegistry(settings.sessionTokens),
    workers: new WorkerPool(settings, tokenEvents),
  };
}
