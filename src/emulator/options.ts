import type { Fault } from "./faults.js";
import type { UpstreamOptions } from "./upstream.js";

/** What `startEmulator` takes (docs/emulator.md has them all, with defaults). */
export interface EmulatorOptions {
  /** Default 0: a free port. */
  port?: number;
  /** Default "127.0.0.1". */
  host?: string;
  /** The first user's session token. Default: a random 32-byte base64url token. */
  sessionToken?: string;
  /** More users: one account per token, each with its own chats, rate limit and pending messages. Default none. */
  sessionTokens?: string[];
  /** Cookie name `__Secure-next-auth.session-token` when true, else `next-auth.session-token` (NextAuth reads only one). Default false. */
  secureCookie?: boolean;
  /** Keep-alive comments `: ping - <naive UTC str(datetime)>` every this many ms, the first one after as long. Default 15000. */
  pingIntervalMs?: number;
  /** Tokens per reply, default 24; a request's `max_new_tokens` lowers it (length = min of both). */
  replyTokens?: number;
  /** Delay between token events, default 0 (0 writes the whole pre-encoded body at once). */
  tokenDelayMs?: number;
  /** Scripted `pending` events at the start of every stream, queue_position counting down to 1 (a demo queue). Default 0. */
  pendingEvents?: number;
  /** Silence after each scripted pending event, default 0. */
  pendingIntervalMs?: number;
  /** The real server's `pending_event_interval`: a waiting message's stream sends `pending` after each this many ms of silence. Default 1000. */
  pendingEventIntervalMs?: number;
  /** Replies one emulated worker generates at once (per model; the real fake worker's `max_parallel_requests`). Default 4. */
  workerSlots?: number;
  /** A user's new assistant message cancels that user's other pending messages under another parent. Default true (as the real server). */
  cancelPending?: boolean;
  /** Assistant messages per user per window (fastapi-limiter, fixed window); over it: 500 `{"message":"Something went wrong"}`. Default 20 per 660 s; false: off. */
  rateLimit?: { messages: number; windowMs: number } | false;
  /** `assistant_message_timeout`: a message queued longer than this becomes `timeout` when a worker takes it. Default 60000; 0: never. */
  messageTimeoutMs?: number;
  /** `Connection: close` (and `Keep-Alive: timeout=5`) on every answer, as Next.js 13 sends it. Default false. */
  connectionClose?: boolean;
  /**
   * As the real inference server: a chat deleted while its reply is queued or generating
   * makes the worker fail when it takes or finishes that reply, and every other reply the
   * worker was generating ends with an `error` event "Aborted due to worker error."
   * (state `aborted_by_worker`). Default true; false: the deleted reply is just dropped.
   */
  deleteFailsWorker?: boolean;
  /** Allowed model config names (ALLOWED_MODEL_CONFIG_NAMES); default all (`*`). */
  models?: string[];
  /** Faults for this server; default none. */
  faults?: Fault[];
  /** How long the `slow-headers` fault holds every answer, ms. Default 10000. */
  slowHeadersMs?: number;
  /** How many requests `requests` keeps: the last ones that presented a session of the server. Default 1000; 0: none. */
  recordRequests?: number;
  /**
   * Replies from a real model: the worker streams `POST {baseUrl}/chat/completions` of an OpenAI-compatible server
   * (the thread as messages) instead of making up words. Default none (synthetic replies).
   */
  upstream?: UpstreamOptions;
  /** No request log. Default false: one line per request on stderr (`oasst emulate: GET /api/chat 200`). */
  quiet?: boolean;
}
