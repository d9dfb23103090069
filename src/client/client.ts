import { HTTPS_BASE_URL_FIX, insecureSessionCookieError, lostSessionCookie, splitBySecurity } from "../cookies/secure-cookies.js";
import { ConfigError, ProtocolError, ServerError } from "../errors.js";
import { DEFAULT_MAX_LINE_LENGTH } from "../sse/sse-decoder.js";
import { ChatEventStream } from "./chat-event-stream.js";
import { ChatEventDecoder } from "./chat-events.js";
import type { ConnectionOptions } from "./connection-options.js";
import { HttpTransport, parseBaseUrl, type Call } from "./http-transport.js";
import type {
  AssistantMessageRequest,
  ChatEvent,
  ChatListRead,
  ChatRead,
  ChatUpdateRequest,
  ListChatsResponse,
  MessageRead,
  ModelConfigInfo,
  PluginEntryRead,
  PrompterMessageRequest,
  VoteRequest,
} from "./wire-types.js";

export const DEFAULT_BASE_URL = "https://open-assistant.io";
/** The seed's Chrome User-Agent: the site sits behind bot filters that like browsers. */
export const DEFAULT_USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0.0.0 Safari/537.36";
export const DEFAULT_TIMEOUT_MS = 60_000;
/** Far above any answer of the site (a chat with all its messages is a few hundred KiB at most). */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** Cookies as an object, or a `Cookie` header string (`a=1; b=2`). */
export type CookieInput = Record<string, string> | string;

export interface ClientOptions extends ConnectionOptions {
  /** The session cookies. The client sends exactly these; finding them is the provider's job. */
  cookies?: CookieInput | undefined;
  /** Most connections the pool opens. Default: as many as requests in flight. */
  connections?: number | undefined;
  /** Longest answer read whole (every call's JSON but the event stream's, and error bodies), bytes: past it, a ProtocolError. Default 8 MiB. */
  maxResponseBytes?: number | undefined;
  /**
   * Take direct connections from the process's keep-alive pool for the origin (the
   * provider does): clients made one after another reuse them, and `close()` leaves
   * them open for the next (idle ones close after 4 s and never hold the process).
   * Not with `proxy` or `fetch`. Default false: the client has a pool of its own.
   */
  shareConnections?: boolean | undefined;
}

/** Per-call options. */
export interface RequestOptions {
  signal?: AbortSignal | undefined;
  /** Overrides the client's timeout for this call (ms). */
  timeout?: number | undefined;
}

export interface EventStreamOptions extends RequestOptions {
  /**
   * Token events that arrive in the same network read may come as one token event
   * whose text is theirs joined: for consumers that only want the text. Default false.
   */
  joinTokens?: boolean | undefined;
}

export interface ListChatsQuery {
  /** Cursor: chats newer than this (from a previous `prev`). */
  before?: string | undefined;
  /** Cursor: chats older than this (from a previous `next`). */
  after?: string | undefined;
  includeHidden?: boolean | undefined;
}

/** What `updateChat` changes: the fields given; the others stay as they are. */
export interface ChatUpdate {
  chatId: string;
  /** At most 100 characters (the server's limit). A title cannot be cleared, only replaced. */
  title?: string | undefined;
  /** A hidden chat leaves `listChats` unless `includeHidden`; it can still be read and continued. */
  hidden?: boolean | undefined;
  allowDataUse?: boolean | undefined;
  /** The message the site's UI shows the chat's thread up to; stored as given (the server checks nothing). */
  activeThreadTailMessageId?: string | undefined;
}

export interface Vote {
  chatId: string;
  /** An assistant message of this account. */
  messageId: string;
  score: -1 | 0 | 1;
}

/** The server's `ChatUpdateRequest.title` limit (pydantic `constr(max_length=100)`: code points). */
const MAX_TITLE_LENGTH = 100;

export interface EventStreamTarget {
  chatId: string;
  messageId: string;
}

/**
 * One method per endpoint of the Open-Assistant website API, with one keep-alive
 * connection pool. Close it with `close()` when done.
 */
export class OpenAssistantClient {
  readonly #http: HttpTransport;
  readonly #maxLineLength: number;

  constructor(options: ClientOptions = {}) {
    const env = options.env ?? process.env;
    const baseUrl = options.baseUrl ?? env.OASST_BASE_URL ?? DEFAULT_BASE_URL;
    this.#maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    this.#http = new HttpTransport({
      baseUrl,
      cookieHeader: cookiesSentTo(parseBaseUrl(baseUrl), cookieHeaderOf(options.cookies)),
      userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
      headers: options.headers,
      fetch: options.fetch,
      proxy: options.proxy,
      env,
      timeout: options.timeout ?? DEFAULT_TIMEOUT_MS,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      connections: options.connections,
      shareConnections: options.shareConnections,
      onRequest: options.onRequest,
    });
  }

  /** The base URL requests go to (with a trailing slash). */
  get baseUrl(): string {
    return this.#http.baseUrl.toString();
  }

  /** `POST /api/chat`: a new, empty chat. */
  createChat(options: RequestOptions = {}): Promise<ChatListRead> {
    return this.#json<ChatListRead>({ method: "POST", path: "api/chat", json: {}, what: "POST /api/chat", ...options }, "id");
  }

  /** `GET /api/chat?chat_id=`: one chat with all its messages. */
  getChat(chatId: string, options: RequestOptions = {}): Promise<ChatRead> {
    return this.#json<ChatRead>({ method: "GET", path: "api/chat", query: { chat_id: chatId }, what: "GET /api/chat", chatId, ...options }, "id");
  }

  /** `GET /api/chat/message?chat_id=&message_id=`: one message, with its state (`pending`, `cancelled`, `complete`…). */
  getMessage(chatId: string, messageId: string, options: RequestOptions = {}): Promise<MessageRead> {
    return this.#json<MessageRead>(
      { method: "GET", path: "api/chat/message", query: { chat_id: chatId, message_id: messageId }, what: "GET /api/chat/message", chatId, ...options },
      "state",
    );
  }

  /** `GET /api/chat`: one page of chats, newest first; follow `next` with `after`. */
  listChats(query: ListChatsQuery = {}, options: RequestOptions = {}): Promise<ListChatsResponse> {
    return this.#json<ListChatsResponse>(
      {
        method: "GET",
        path: "api/chat",
        query: {
          before: query.before,
          after: query.after,
          include_hidden: query.includeHidden === undefined ? undefined : String(query.includeHidden),
        },
        what: "GET /api/chat",
        ...options,
      },
      "chats",
    );
  }

  /** `DELETE /api/chat?chat_id=`. */
  async deleteChat(chatId: string, options: RequestOptions = {}): Promise<void> {
    await this.#http.text({ method: "DELETE", path: "api/chat", query: { chat_id: chatId }, what: "DELETE /api/chat", chatId, ...options });
  }

  /** `POST /api/chat/prompter_message`: the user's message (parent null for the first one). */
  postPrompterMessage(request: PrompterMessageRequest, options: RequestOptions = {}): Promise<MessageRead> {
    return this.#json<MessageRead>(
      { method: "POST", path: "api/chat/prompter_message", json: request, what: "POST /api/chat/prompter_message", chatId: request.chat_id, ...options },
      "id",
    );
  }

  /** `POST /api/chat/assistant_message`: queue a reply; returns the pending assistant message. */
  postAssistantMessage(request: AssistantMessageRequest, options: RequestOptions = {}): Promise<MessageRead> {
    return this.#json<MessageRead>(
      { method: "POST", path: "api/chat/assistant_message", json: request, what: "POST /api/chat/assistant_message", chatId: request.chat_id, ...options },
      "id",
    );
  }

  /** `GET /api/chat/models`: the model configs the server allows, with their sampling presets. */
  async listModels(options: RequestOptions = {}): Promise<ModelConfigInfo[]> {
    const models = await this.#json<unknown>({ method: "GET", path: "api/chat/models", what: "GET /api/chat/models", ...options });
    if (!Array.isArray(models)) throw new ProtocolError("GET /api/chat/models did not answer a list");
    return models as ModelConfigInfo[];
  }

  /**
   * `PUT /api/chat`: change a chat's title, visibility, data-use consent or thread tail.
   * The website answers every failure (unknown chat, invalid field) with a bare 500.
   */
  async updateChat(update: ChatUpdate, options: RequestOptions = {}): Promise<void> {
    const body: ChatUpdateRequest = { chat_id: update.chatId };
    if (update.title !== undefined) {
      const length = [...update.title].length;
      if (length > MAX_TITLE_LENGTH) {
        throw new ConfigError(`The chat title is ${length} characters long`, `The server takes titles of at most ${MAX_TITLE_LENGTH} characters: shorten it.`);
      }
      body.title = update.title;
    }
    if (update.hidden !== undefined) body.hidden = update.hidden;
    if (update.allowDataUse !== undefined) body.allow_data_use = update.allowDataUse;
    if (update.activeThreadTailMessageId !== undefined) body.active_thread_tail_message_id = update.activeThreadTailMessageId;
    const call: Call = { method: "PUT", path: "api/chat", json: body, what: "PUT /api/chat", chatId: update.chatId, ...options };
    await explain500(
      this.#http.text(call),
      "Here a 500 mostly means the chat does not exist or is another account's: the website turns every failure of PUT /api/chat into one.",
    );
  }

  /** `POST /api/chat/vote`: the account's score of an assistant message (-1, 0 or 1; the last vote counts). */
  async vote(vote: Vote, options: RequestOptions = {}): Promise<void> {
    const { chatId, messageId, score } = vote;
    if (score !== -1 && score !== 0 && score !== 1) {
      throw new ConfigError(`The vote's score is ${JSON.stringify(score)}`, "Vote -1, 0 or 1 (the website refuses any other score).");
    }
    const body: VoteRequest = { chat_id: chatId, message_id: messageId, score };
    const call: Call = { method: "POST", path: "api/chat/vote", json: body, what: "POST /api/chat/vote", chatId, ...options };
    await explain500(
      this.#json<unknown>(call),
      "Here a 500 mostly means the message is not an assistant message of this account: the website turns every failure of a vote into one.",
    );
  }

  /** `GET /api/chat/plugins`: the server's built-in plugins, each with its config. */
  async listPlugins(options: RequestOptions = {}): Promise<PluginEntryRead[]> {
    const plugins = await this.#json<unknown>({ method: "GET", path: "api/chat/plugins", what: "GET /api/chat/plugins", ...options });
    if (!Array.isArray(plugins)) throw new ProtocolError("GET /api/chat/plugins did not answer a list");
    for (const plugin of plugins as unknown[]) {
      if (typeof plugin !== "object" || plugin === null || typeof (plugin as { url?: unknown }).url !== "string") {
        throw new ProtocolError('GET /api/chat/plugins answered a plugin without "url"');
      }
    }
    return plugins as PluginEntryRead[];
  }

  /**
   * `POST /api/chat/events`: the reply's events, one by one, as they arrive
   * (`pending`*, `token`*, then `message` or `error`). `options.timeout` bounds the
   * time between two events (ping comments do not count), not the whole stream.
   */
  async *streamEvents(target: EventStreamTarget, options: EventStreamOptions = {}): AsyncGenerator<ChatEvent, void, undefined> {
    for await (const batch of this.streamEventBatches(target, options)) yield* batch;
  }

  /** Like `streamEvents`, but yields the events of each network read together. */
  async *streamEventBatches(target: EventStreamTarget, options: EventStreamOptions = {}): AsyncGenerator<ChatEvent[], void, undefined> {
    const stream = await this.openEventStream(target, options);
    try {
      for (let batch = await stream.next(); batch; batch = await stream.next()) yield batch;
    } finally {
      // Stopping early must not leave the connection streaming in the background.
      stream.close();
    }
  }

  /**
   * The same batches as `streamEventBatches`, pulled with `next()` from a plain object
   * (one step per network read, for relays that add a generator of their own); `close()`
   * it when leaving before the end.
   */
  async openEventStream(target: EventStreamTarget, options: EventStreamOptions = {}): Promise<ChatEventStream> {
    const { joinTokens, ...request } = options;
    const call: Call = {
      method: "POST",
      path: "api/chat/events",
      query: { chat_id: target.chatId, message_id: target.messageId },
      what: "POST /api/chat/events",
      chatId: target.chatId,
      ...request,
    };
    const { response, deadline } = await this.#http.open(call);
    if (!response.ok) {
      try {
        throw await this.#http.failure(response, deadline, call);
      } finally {
        deadline.dispose();
        response.cancel();
      }
    }
    return new ChatEventStream(response, deadline, new ChatEventDecoder({ maxLineLength: this.#maxLineLength, chatId: call.chatId, joinTokens }), call);
  }

  /** Close the connection pool, after the requests in flight. */
  close(): Promise<void> {
    return this.#http.close();
  }

  async #json<T>(call: Call, requiredKey?: string): Promise<T> {
    const value = await this.#http.json<T>(call);
    if (requiredKey && (typeof value !== "object" || value === null || !(requiredKey in value))) {
      throw new ProtocolError(`${call.what} answered JSON without "${requiredKey}"`, { chatId: call.chatId });
    }
    return value;
  }
}

/** A bare 500 of a route whose every failure the website turns into one, with what it means there. */
async function explain500<T>(request: Promise<T>, hint: string): Promise<T> {
  try {
    return await request;
  } catch (error) {
    if (!(error instanceof ServerError) || error.status !== 500) throw error;
    throw new ServerError(error.summary, { status: error.status, serverMessage: error.serverMessage, chatId: error.chatId, hint, cause: error });
  }
}

/** A `Cookie` header from an object or a header string; refuses what would break the header. */
export function cookieHeaderOf(cookies: CookieInput | undefined): string | undefined {
  if (cookies === undefined) return undefined;
  const header =
    typeof cookies === "string"
      ? cookies.trim()
      : Object.entries(cookies)
          .map(([name, value]) => `${name}=${value}`)
          .join("; ");
  if (/[\r\n\0]/.test(header)) {
    throw new ConfigError("The cookies contain a line break or NUL byte", "Pass cookie values exactly as the browser stores them, without line breaks.");
  }
  return header || undefined;
}

/**
 * The header a request to `baseUrl` carries. Over plain http to a host that is not
 * loopback, it leaves out the `__Secure-` and `__Host-` cookies, which browsers send
 * only over https; when that leaves no session cookie, it throws before any request.
 */
function cookiesSentTo(baseUrl: URL, header: string | undefined): string | undefined {
  if (!header) return header;
  const cookies = header
    .split(";")
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => ({ pair, name: pair.slice(0, Math.max(0, pair.indexOf("="))).trim() }));
  const { sent, leftOut } = splitBySecurity(cookies, baseUrl);
  if (leftOut.length === 0) return header;
  const lost = lostSessionCookie(sent, leftOut);
  if (lost) throw insecureSessionCookieError(lost, baseUrl, undefined, HTTPS_BASE_URL_FIX);
  return sent.map((cookie) => cookie.pair).join("; ") || undefined;
}
