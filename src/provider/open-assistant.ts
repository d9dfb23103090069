import { DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS, type CookieInput, type OpenAssistantClient } from "../client/client.js";
import { parseBaseUrl } from "../client/http-transport.js";
import type { ChatEvent, MessageRead } from "../client/wire-types.js";
import { ModelNotFoundError, OpenAssistantError, ServerError, StreamError } from "../errors.js";
import { chatClient } from "./chat-client.js";
import { prompterContent } from "./format-prompt.js";
import { checkOptions, samplingParameters, type OpenAssistantOptions, type OpenAssistantWarning } from "./options.js";
import type { AsyncResult, Messages } from "./provider-types.js";
import { DEFAULT_MAX_RETRIES, withRetries } from "./retry.js";
import { resolveSessionCookies } from "./session-cookies.js";

/** The delete that ends every chat gets its own short budget: it must not hold the caller up. */
const DELETE_TIMEOUT_MS = 5_000;
const MODELS_LOOKUP_TIMEOUT_MS = 5_000;

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
 */
async function* chatEventBatches(
  model: string,
  messages: Messages,
  options: OpenAssistantOptions,
  joinTokens = false,
): AsyncGenerator<ChatEvent[], void, undefined> {
  checkOptions(options);
  const content = prompterContent(messages);
  const env = options.env ?? process.env;
  const baseUrl = options.baseUrl ?? env.OASST_BASE_URL ?? DEFAULT_BASE_URL;
  const cookies: CookieInput = await resolveSessionCookies(options.cookies, () => parseBaseUrl(baseUrl).toString(), {
    env,
    cookiesDir: options.cookiesDir,
    cookiesFile: options.cookiesFile,
    browser: options.browser,
    profile: options.profile,
    onWarning: (message) => warn(options, { code: "cookie_source", message }),
  });
  const { client, owned } = chatClient({
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
  const request = { signal: options.signal };
  const retry = { maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES, signal: options.signal, onRetry: options.onRetry };
  let chatId: string | undefined;
  let failure: unknown;
  try {
    const chat = await withRetries(() => client.createChat(request), retry);
    chatId = chat.id;
    const prompter = await withRetries(
      () => client.postPrompterMessage({ chat_id: chat.id, content, parent_id: null }, request),
      retry,
    );
    const assistant = await withRetries(
      () =>
        client
          .postAssistantMessage(
            {
              chat_id: chat.id,
              parent_id: prompter.id,
              model_config_name: model,
              sampling_parameters: samplingParameters(options),
              plugins: options.plugins ?? [],
            },
            request,
          )
          .catch(async (error: unknown) => {
            throw await modelErrorOr(error, model, client);
          }),
      retry,
    );
    let final: MessageRead | undefined;
    for await (const batch of client.streamEventBatches({ chatId: chat.id, messageId: assistant.id }, { ...request, joinTokens })) {
      let failed: StreamError | undefined;
      for (const event of batch) {
        options.onEvent?.(event);
        if (event.event_type === "message") final = event.message;
        else if (event.event_type === "error" && !failed) {
          failed = new StreamError(`The server stopped the reply: ${event.error}`, { serverMessage: event.error, chatId });
        }
      }
      yield batch;
      if (failed) throw failed;
    }
    if (!final) {
      throw new StreamError("The event stream ended before its final message event: the reply is incomplete", { chatId });
    }
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    if (chatId !== undefined) await deleteChat(client, chatId, options, failure);
    if (owned) await client.close();
  }
}

/** A 422 about the model becomes a ModelNotFoundError listing the server's models. */
async function modelErrorOr(error: unknown, model: string, client: OpenAssistantClient): Promise<unknown> {
  if (!(error instanceof ServerError) || error.status !== 422 || !/^Model .*(not found|not in allowed models)/.test(error.serverMessage ?? "")) {
    return error;
  }
  const available = await client
    .listModels({ timeout: MODELS_LOOKUP_TIMEOUT_MS })
    .then((models) => models.map((m) => m.name))
    .catch(() => undefined);
  return new ModelNotFoundError(model, { status: error.status, serverMessage: error.serverMessage, chatId: error.chatId, availableModels: available });
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

function warn(options: OpenAssistantOptions, warning: OpenAssistantWarning): void {
  if (options.onWarning) options.onWarning(warning);
  else process.emitWarning(warning.message, { code: `OASST_${warning.code.toUpperCase()}` });
}
