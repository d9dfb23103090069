import { setTimeout as sleep } from "node:timers/promises";
import { defaultAccounts } from "../accounts/accounts.js";
import type { Turn } from "../accounts/turn-queue.js";
import { cookieHeaderOf, DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS, type CookieInput, type OpenAssistantClient } from "../client/client.js";
import type { AssistantMessageRequest, ChatEvent, ChatListRead, MessageRead } from "../client/wire-types.js";
import { AbortError, AuthError, OpenAssistantError, ReplyCancelledError, ServerError, StreamError } from "../errors.js";
import { postAssistantMessage } from "./assistant-message.js";
import { cancelledError, readMessage } from "./message-state.js";
import { chatClient } from "./chat-client.js";
import { conversationTurn, type Conversation, type ConversationTurn } from "./conversation.js";
import { prompterContent } from "./format-prompt.js";
import { checkOptions, samplingParameters, type OpenAssistantOptions, type OpenAssistantWarning } from "./options.js";
import type { AsyncResult, Messages } from "./provider-types.js";
import { DEFAULT_QUEUE_TIMEOUT_MS, QueueWatch } from "./queue-watch.js";
import { waitForReplyEnd, type ReplyEnd } from "./reply-end.js";
import { DEFAULT_MAX_RETRIES, withRetries } from "./retry.js";
import { resolveSessionCookies } from "./session-cookies.js";

/** The delete that ends every chat gets its own short budget: it must not hold the caller up. */
const DELETE_TIMEOUT_MS = 5_000;

/**
 * The Open-Assistant provider: gpt4free's `OpenAssistant`, in TypeScript. Each
 * call creates a chat, posts the prompt, streams the reply and deletes the chat,
 * whatever happens (normal end, error, abort, timeout, or a consumer that stops early).
 */
export class OpenAssistant {
  static readonly url = "https://open-assistant.io";
  /** open-assistant.io closed its chat in 2023; self-hosted servers work through `baseUrl`. */
  static readonly working = false;
  static readonly needsAuth = true;
  static readonly supportsStream = true;
  static readonly supportsMessageHistory = true;
  static readonly model = "OA_SFT_Llama_30B_6";

  /**
   * The reply's text as it streams. Tokens that arrive in the same network read
   * are joined into one string; `streamEvents` keeps one event per token.
   */
  static async *createAsyncGenerator(model: string, messages: Messages, options: OpenAssistantOptions = {}): AsyncResult {
    let sawToken = false;
    // Only the text is wanted here, unless `onEvent` watches every token event.
    for await (const batch of chatEventBatches(model, messages, options, !options.onEvent)) {
      let text = "";
      for (const event of batch) {
        if (event.event_type === "token") {
          sawToken = true;
          text += event.text;
        } else if (event.event_type === "message" && !sawToken) {
          // A server that streams no tokens still sends the whole reply in its final message.
          text += event.message.content ?? "";
        }
      }
      if (text) yield text;
    }
  }

  /** The whole reply as one string. */
  static async createAsync(model: string, messages: Messages, options: OpenAssistantOptions = {}): Promise<string> {
    let text = "";
    for await (const piece of OpenAssistant.createAsyncGenerator(model, messages, options)) text += piece;
    return text;
  }

  /**
   * Every event of the reply, one per token: `pending` (queue position), `token`,
   * `plugin_intermediate`, and the final `message`. An `error` event is yielded,
   * then thrown as a `StreamError`.
   */
  static async *streamEvents(model: string, messages: Messages, options: OpenAssistantOptions = {}): AsyncGenerator<ChatEvent, void, undefined> {
    for await (const batch of chatEventBatches(model, messages, options)) yield* batch;
  }

  /**
   * The same events as `streamEvents`, those of each network read together in one
   * array: one step per read instead of one per token, for consumers that relay them.
   */
  static streamEventBatches(model: string, messages: Messages, options: OpenAssistantOptions = {}): AsyncGenerator<ChatEvent[], void, undefined> {
    return chatEventBatches(model, messages, options);
  }
}

/**
 * The seven steps of the seed; yields the events of each network read together
 * (`joinTokens`: a read's run of token events may come as one, their texts joined).
 * Replies of one account take turns to post their assistant message (see `TurnQueue`):
 * while one waits, it yields `pending` events that count the replies ahead of it.
 */
async function* chatEventBatches(
  model: string,
  messages: Messages,
  options: OpenAssistantOptions,
  joinTokens = false,
): AsyncGenerator<ChatEvent[], void, undefined> {
  checkOptions(options);
  const { conversation } = options;
  const posted: ConversationTurn =
    conversation === undefined
      ? { content: prompterContent(messages, options.promptFormat), systemPrompt: undefined }
      : conversationTurn(messages, conversation, options.regenerate ?? false, options.promptFormat);
  const env = options.env ?? process.env;
  const baseUrl = options.baseUrl ?? env.OASST_BASE_URL ?? DEFAULT_BASE_URL;
  const cookies: CookieInput = await resolveSessionCookies({ ...options, baseUrl });
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
  const account = (options.accounts ?? defaultAccounts).get(client.baseUrl, cookieHeaderOf(cookies));
  const request = { signal: options.signal };
  const retry = { maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES, signal: options.signal, onRetry: options.onRetry };
  let chatId: string | undefined;
  let assistantId: string | undefined;
  /** The server is done with the reply (finished, aborted, or never queued): its chat may be deleted. */
  let serverDone = true;
  let turn: Turn | undefined;
  let endReply: (() => void) | undefined;
  let failure: unknown;
  /** The handle given to `onConversation`: the reply is whole and its chat is kept. */
  let handed: Conversation | undefined;
  try {
    const continued = typeof conversation === "object" ? conversation : undefined;
    const chat = continued ? { id: continued.chatId } : await withRetries(() => createChat(client, options.signal), retry);
    chatId = chat.id;
    options.onChat?.(chat.id);
    const { content } = posted;
    // A regeneration posts no prompter message: its reply answers the conversation's last one.
    const parentId =
      content === undefined && continued
        ? continued.parentId
        : (
            await withRetries(
              () => client.postPrompterMessage({ chat_id: chat.id, content: content ?? "", parent_id: continued?.messageId ?? null }, request),
              retry,
            )
          ).id;
    account.noteAuth(undefined);
    const line = account.takeTurn(options.signal);
    try {
      for (let step = await line.next(); ; step = await line.next()) {
        if (step.done) {
          turn = step.value;
          break;
        }
        const waiting: ChatEvent = { event_type: "pending", queue_position: step.value, queue_size: step.value + 1 };
        options.onEvent?.(waiting);
        yield [waiting];
      }
    } catch (cause) {
      if (options.signal?.aborted) throw new AbortError("Aborted while waiting for the account's turn", { chatId, cause });
      throw cause;
    } finally {
      // Leaving early (the consumer stopped, or an abort) gives up the place in the line.
      if (!turn) await line.return(undefined as never);
    }
    const assistantRequest: AssistantMessageRequest = {
      chat_id: chat.id,
      parent_id: parentId,
      model_config_name: model,
      sampling_parameters: samplingParameters(options),
      plugins: options.plugins ?? [],
      ...(posted.systemPrompt === undefined ? {} : { system_prompt: posted.systemPrompt }),
    };
    const assistant = await withRetries(() => postAssistantMessage(client, account, assistantRequest, request), retry);
    const handOver = (): void => {
      if (conversation === undefined || handed) return;
      handed = { chatId: chat.id, messageId: assistant.id, parentId };
      options.onConversation?.(handed);
    };
    assistantId = assistant.id;
    serverDone = false;
    endReply = account.startReply();
    const watch = new QueueWatch({
      client,
      chatId: chat.id,
      messageId: assistant.id,
      queueTimeout: options.queueTimeout ?? DEFAULT_QUEUE_TIMEOUT_MS,
    });
    let final: MessageRead | undefined;
    for await (const batch of client.streamEventBatches({ chatId: chat.id, messageId: assistant.id }, { ...request, joinTokens })) {
      let failed: StreamError | undefined;
      let started = false;
      for (const event of batch) {
        options.onEvent?.(event);
        if (event.event_type !== "pending") started = true;
        if (event.event_type === "message") {
          final = event.message;
          serverDone = true;
        } else if (event.event_type === "error" && !failed) {
          serverDone = true;
          failed = new StreamError(`The server stopped the reply: ${event.error}`, { serverMessage: event.error, chatId });
        }
      }
      // Out of the server's queue: the account's next reply may post its message.
      if (started) turn.release();
      else if (!turn.released) await watch.pending();
      if (final) handOver();
      yield batch;
      if (failed) throw failed;
    }
    serverDone = true; // the stream ended: the website ends it when the message is finished
    if (!final) {
      final = await finishedMessage(client, chat.id, assistant.id);
      handOver();
      const last: ChatEvent = { event_type: "message", message: final };
      options.onEvent?.(last);
      yield [last];
    }
  } catch (error) {
    failure = error;
    if (error instanceof AuthError) account.noteAuth(error.summary);
    throw error;
  } finally {
    turn?.release();
    endReply?.();
    // A kept chat stays: a continued one holds the history even when this reply failed; a new one once its reply was whole.
    const kept = typeof conversation === "object" || handed !== undefined;
    const end = kept ? undefined : chatId;
    const cleanup = (async () => {
      if (end !== undefined) await endChat(client, end, assistantId, serverDone, failure, options);
      await client.close();
    })();
    if (options.waitUntil && end !== undefined) options.waitUntil(cleanup);
    else await cleanup;
  }
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
