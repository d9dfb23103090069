import { setTimeout as sleep } from "node:timers/promises";
import { defaultAccounts, type Account } from "../accounts/accounts.js";
import type { Turn } from "../accounts/turn-queue.js";
import type { ChatEventStream } from "../client/chat-event-stream.js";
import { cookieHeaderOf, DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS, type OpenAssistantClient } from "../client/client.js";
import type { AssistantMessageRequest, ChatEvent, ChatListRead, MessageRead } from "../client/wire-types.js";
import { AbortError, AuthError, OpenAssistantError, ReplyCancelledError, ServerError, StreamError } from "../errors.js";
import { postAssistantMessage } from "./assistant-message.js";
import { chatClient } from "./chat-client.js";
import { conversationTurn, type Conversation, type ConversationTurn } from "./conversation.js";
import { prompterContent } from "./format-prompt.js";
import { cancelledError, readMessage } from "./message-state.js";
import { checkOptions, samplingParameters, type OpenAssistantOptions, type OpenAssistantWarning } from "./options.js";
import type { Messages } from "./provider-types.js";
import { DEFAULT_QUEUE_TIMEOUT_MS, QueueWatch } from "./queue-watch.js";
import { waitForReplyEnd, type ReplyEnd } from "./reply-end.js";
import { DEFAULT_MAX_RETRIES, withRetries, type RetryPolicy } from "./retry.js";
import { resolveSessionCookies } from "./session-cookies.js";

/** The delete that ends every chat gets its own short budget: it must not hold the caller up. */
const DELETE_TIMEOUT_MS = 5_000;

/** What a caller of `chatReply` makes of one batch of events; undefined yields nothing for it. */
export type BatchView<T> = (batch: ChatEvent[]) => T | undefined;

/**
 * The seven steps of the seed; yields `view` of the events of each network read
 * (`joinTokens`: a read's run of token events may come as one, their texts joined).
 * Replies of one account take turns to post their assistant message (see `TurnQueue`):
 * while one waits, it yields `pending` events that count the replies ahead of it.
 *
 * Each generator layer adds its steps to every read, and a reply streams a read per
 * token: so the view is applied here rather than by a generator around this one, and the
 * steps live in `ChatReply`, which keeps this generator small for the JIT to compile.
 */
export async function* chatReply<T>(
  model: string,
  messages: Messages,
  options: OpenAssistantOptions,
  joinTokens: boolean,
  view: BatchView<T>,
): AsyncGenerator<T, void, undefined> {
  const reply = new ChatReply(model, messages, options);
  try {
    await reply.start();
    for await (const waiting of reply.waitForTurn()) {
      const shown = view([waiting]);
      if (shown !== undefined) yield shown;
    }
    const stream = await reply.post(joinTokens);
    for (let batch = await stream.next(); batch; batch = await stream.next()) {
      if (reply.take(batch)) await reply.checkQueue();
      const shown = view(batch);
      if (shown !== undefined) yield shown;
      reply.throwIfStopped();
    }
    const last = await reply.finish();
    if (last) {
      const shown = view([last]);
      if (shown !== undefined) yield shown;
    }
  } catch (error) {
    reply.fail(error);
    throw error;
  } finally {
    await reply.end();
  }
}

/** One reply's state through the steps of `chatReply`, and its cleanup. */
class ChatReply {
  readonly #model: string;
  readonly #options: OpenAssistantOptions;
  readonly #posted: ConversationTurn;
  readonly #retry: RetryPolicy;
  #client: OpenAssistantClient | undefined;
  #account: Account | undefined;
  #chatId: string | undefined;
  #parentId: string | undefined;
  #assistantId: string | undefined;
  /** The server is done with the reply (finished, aborted, or never queued): its chat may be deleted. */
  #serverDone = true;
  #turn: Turn | undefined;
  #endReply: (() => void) | undefined;
  #watch: QueueWatch | undefined;
  #stream: ChatEventStream | undefined;
  #final: MessageRead | undefined;
  /** The server's `error` event: thrown once its batch has been handed out. */
  #stopped: StreamError | undefined;
  #failure: unknown;
  /** The handle given to `onConversation`: the reply is whole and its chat is kept. */
  #handed: Conversation | undefined;

  constructor(model: string, messages: Messages, options: OpenAssistantOptions) {
    checkOptions(options);
    this.#model = model;
    this.#options = options;
    const { conversation } = options;
    this.#posted =
      conversation === undefined
        ? { content: prompterContent(messages, options.promptFormat), systemPrompt: undefined }
        : conversationTurn(messages, conversation, options.regenerate ?? false, options.promptFormat);
    this.#retry = { maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES, signal: options.signal, onRetry: options.onRetry };
  }

  /** Steps 1–4: the session cookies, the client, the chat (unless continued) and the prompter message. */
  async start(): Promise<void> {
    const options = this.#options;
    const env = options.env ?? process.env;
    const baseUrl = options.baseUrl ?? env.OASST_BASE_URL ?? DEFAULT_BASE_URL;
    const cookies = await resolveSessionCookies({ ...options, baseUrl });
    const client = chatClient({
      baseUrl,
      cookies,
      proxy: options.proxy,
      timeout: options.timeout,
      userAgent: options.userAgent,
      headers: options.headers,
      fetch: options.fetch,
      maxLineLength: options.maxLineLength,
      env,
      onRequest: options.onRequest,
    });
    this.#client = client;
    const account = (options.accounts ?? defaultAccounts).get(client.baseUrl, cookieHeaderOf(cookies));
    this.#account = account;
    const continued = this.#continued;
    const chat = continued ? { id: continued.chatId } : await withRetries(() => createChat(client, options.signal), this.#retry);
    const chatId = chat.id;
    this.#chatId = chatId;
    options.onChat?.(chatId);
    const { content } = this.#posted;
    // A regeneration posts no prompter message: its reply answers the conversation's last one.
    this.#parentId =
      content === undefined && continued
        ? continued.parentId
        : (
            await withRetries(
              () =>
                client.postPrompterMessage({ chat_id: chatId, content: content ?? "", parent_id: continued?.messageId ?? null }, { signal: options.signal }),
              this.#retry,
            )
          ).id;
    account.noteAuth(undefined);
  }

  /** Waits for the account's turn to post its assistant message, with a `pending` event whenever the line moves. */
  async *waitForTurn(): AsyncGenerator<ChatEvent, void, undefined> {
    const { signal, onEvent } = this.#options;
    const line = need(this.#account, "start()").takeTurn(signal);
    try {
      for (let step = await line.next(); ; step = await line.next()) {
        if (step.done) {
          this.#turn = step.value;
          return;
        }
        const waiting: ChatEvent = { event_type: "pending", queue_position: step.value, queue_size: step.value + 1 };
        onEvent?.(waiting);
        yield waiting;
      }
    } catch (cause) {
      if (signal?.aborted) throw new AbortError("Aborted while waiting for the account's turn", { chatId: this.#chatId, cause });
      throw cause;
    } finally {
      // Leaving early (the consumer stopped, or an abort) gives up the place in the line.
      if (!this.#turn) await line.return(undefined as never);
    }
  }

  /** Steps 5–6: the assistant message, then its event stream. */
  async post(joinTokens: boolean): Promise<ChatEventStream> {
    const options = this.#options;
    const client = need(this.#client, "start()");
    const account = need(this.#account, "start()");
    const chatId = need(this.#chatId, "start()");
    const request: AssistantMessageRequest = {
      chat_id: chatId,
      parent_id: need(this.#parentId, "start()"),
      model_config_name: this.#model,
      sampling_parameters: samplingParameters(options),
      plugins: options.plugins ?? [],
      ...(this.#posted.systemPrompt === undefined ? {} : { system_prompt: this.#posted.systemPrompt }),
    };
    const assistant = await withRetries(() => postAssistantMessage(client, account, request, { signal: options.signal }), this.#retry);
    this.#assistantId = assistant.id;
    this.#serverDone = false;
    this.#endReply = account.startReply();
    this.#watch = new QueueWatch({ client, chatId, messageId: assistant.id, queueTimeout: options.queueTimeout ?? DEFAULT_QUEUE_TIMEOUT_MS });
    this.#stream = await client.openEventStream({ chatId, messageId: assistant.id }, { signal: options.signal, joinTokens });
    return this.#stream;
  }

  /**
   * A batch of the stream, before it is handed out. Returns true while the reply still
   * waits in the server's queue (only `pending` events so far): then `checkQueue()`.
   */
  take(batch: ChatEvent[]): boolean {
    const { onEvent } = this.#options;
    let started = false;
    for (const event of batch) {
      onEvent?.(event);
      if (event.event_type !== "pending") started = true;
      if (event.event_type === "message") {
        this.#final = event.message;
        this.#serverDone = true;
      } else if (event.event_type === "error" && !this.#stopped) {
        this.#serverDone = true;
        this.#stopped = new StreamError(`The server stopped the reply: ${event.error}`, { serverMessage: event.error, chatId: this.#chatId });
      }
    }
    if (this.#final) this.#handOver();
    const turn = need(this.#turn, "waitForTurn()");
    // Out of the server's queue: the account's next reply may post its message.
    if (started) turn.release();
    return !turn.released;
  }

  /** While only `pending` events come: fails once the message was cancelled or waited too long. */
  checkQueue(): Promise<void> {
    return need(this.#watch, "post()").pending();
  }

  /** After a batch with the server's `error` event has been handed out. */
  throwIfStopped(): void {
    if (this.#stopped) throw this.#stopped;
  }

  /** The stream ended; without its final `message` event, the message as the site has it, as that event. */
  async finish(): Promise<ChatEvent | undefined> {
    this.#serverDone = true; // the stream ended: the website ends it when the message is finished
    if (this.#final) return undefined;
    this.#final = await finishedMessage(need(this.#client, "start()"), need(this.#chatId, "start()"), need(this.#assistantId, "post()"));
    this.#handOver();
    const last: ChatEvent = { event_type: "message", message: this.#final };
    this.#options.onEvent?.(last);
    return last;
  }

  fail(error: unknown): void {
    this.#failure = error;
    if (error instanceof AuthError) this.#account?.noteAuth(error.summary);
  }

  /**
   * Whatever happened: the stream closed (leaving early must not leave it streaming), the
   * turn given back, and the chat deleted unless it is kept: a continued one holds the
   * history even when this reply failed; a new one once its reply was whole.
   */
  async end(): Promise<void> {
    this.#stream?.close();
    this.#turn?.release();
    this.#endReply?.();
    const client = this.#client;
    if (!client) return;
    const options = this.#options;
    const kept = this.#continued !== undefined || this.#handed !== undefined;
    const chatId = kept ? undefined : this.#chatId;
    const cleanup = (async () => {
      if (chatId !== undefined) await endChat(client, chatId, this.#assistantId, this.#serverDone, this.#failure, options);
      await client.close();
    })();
    if (options.waitUntil && chatId !== undefined) options.waitUntil(cleanup);
    else await cleanup;
  }

  get #continued(): Conversation | undefined {
    const { conversation } = this.#options;
    return typeof conversation === "object" ? conversation : undefined;
  }

  #handOver(): void {
    if (this.#options.conversation === undefined || this.#handed) return;
    this.#handed = { chatId: need(this.#chatId, "start()"), messageId: need(this.#assistantId, "post()"), parentId: need(this.#parentId, "start()") };
    this.#options.onConversation?.(this.#handed);
  }
}

/** What an earlier step of `ChatReply` set; `chatReply` runs the steps in order, so it is always there. */
function need<T>(value: T | undefined, step: string): T {
  if (value === undefined) throw new Error(`ChatReply: ${step} has not run`);
  return value;
}

/**
 * Deletes the chat once the server is done with its reply (see `waitForReplyEnd`): after a
 * reply left early, its end is waited for, at most `timeout`. A chat whose reply was
 * cancelled while queued, or did not end in that time, is left on the site with a warning.
 */
async function endChat(
  client: OpenAssistantClient,
  chatId: string,
  messageId: string | undefined,
  serverDone: boolean,
  failure: unknown,
  options: OpenAssistantOptions,
): Promise<void> {
  let end: ReplyEnd = "finished";
  if (failure instanceof ReplyCancelledError) end = "cancelled";
  else if (!serverDone && messageId !== undefined) {
    warn(options, {
      code: "reply_still_running",
      message: `Waiting for the server to finish the reply before deleting chat ${chatId}: Open-Assistant aborts other replies when a chat is deleted while its reply runs.`,
      chatId,
    });
    const limit = options.timeout ?? DEFAULT_TIMEOUT_MS;
    end = await waitForReplyEnd(client, chatId, messageId, limit > 0 ? limit : Infinity);
  }
  if (end === "finished") {
    await deleteChat(client, chatId, options, failure);
    return;
  }
  const why =
    end === "cancelled"
      ? "its reply was cancelled while queued, and Open-Assistant aborts other replies when such a chat is deleted before a worker has skipped the reply"
      : "the end of its reply could not be seen, and deleting a chat while its reply runs makes Open-Assistant abort other replies";
  warn(options, {
    code: "chat_not_deleted",
    message: `Chat ${chatId} was left on the site: ${why}. Delete it in a few minutes with \`oasst chats --delete ${chatId}\`.`,
    chatId,
  });
}

/**
 * Creating a chat is safe to repeat (an empty chat). The server creates a user on first
 * sight, and a new user's concurrent first requests may race there and get a 500.
 */
const CREATE_CHAT_RETRIES = 2;

async function createChat(client: OpenAssistantClient, signal: AbortSignal | undefined): Promise<ChatListRead> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.createChat({ signal });
    } catch (error) {
      if (!(error instanceof ServerError && error.status === 500) || attempt >= CREATE_CHAT_RETRIES) throw error;
      await sleep(250 * 2 ** attempt, undefined, { signal }).catch((cause: unknown) => {
        throw new AbortError("Aborted while creating the chat", { cause });
      });
    }
  }
}

/**
 * The stream ended without its final `message` event. A message that finished before its
 * stream was opened gets an empty stream from the website: the message itself then holds
 * the reply. Anything else is a reply cut short.
 */
async function finishedMessage(client: OpenAssistantClient, chatId: string, messageId: string): Promise<MessageRead> {
  const message = await readMessage(client, chatId, messageId);
  if (message?.state === "complete") return message;
  if (message?.state === "cancelled") throw cancelledError(chatId);
  throw new StreamError(
    `The event stream ended before its final message event: the reply is incomplete${message ? ` (message state: ${message.state})` : ""}`,
    { chatId },
  );
}

/**
 * Delete the chat with a budget of its own (the caller's signal may have fired
 * already). A failure is a warning: it never replaces the reply nor the original error.
 */
async function deleteChat(client: OpenAssistantClient, chatId: string, options: OpenAssistantOptions, failure: unknown): Promise<void> {
  try {
    await client.deleteChat(chatId, { timeout: Math.min(options.timeout ?? DEFAULT_TIMEOUT_MS, DELETE_TIMEOUT_MS) });
  } catch (error) {
    const why = error instanceof OpenAssistantError ? error.summary : String(error);
    const warning: OpenAssistantWarning = {
      code: "chat_not_deleted",
      message: `Chat ${chatId} could not be deleted${failure ? " after the failure above" : ""}: ${why}. Delete it with \`oasst chats --delete ${chatId}\`.`,
      chatId,
      cause: error,
    };
    warn(options, warning);
  }
}

/** To `onWarning`; without one, a process warning, except the note that a delete waits for the reply's end (no failure). */
function warn(options: OpenAssistantOptions, warning: OpenAssistantWarning): void {
  if (options.onWarning) options.onWarning(warning);
  else if (warning.code !== "reply_still_running") process.emitWarning(warning.message, { code: `OASST_${warning.code.toUpperCase()}` });
}
