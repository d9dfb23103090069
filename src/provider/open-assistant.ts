import type { ChatEvent } from "../client/wire-types.js";
import { chatReply, type BatchView } from "./chat-reply.js";
import type { OpenAssistantOptions } from "./options.js";
import type { AsyncResult, Messages } from "./provider-types.js";

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
  static createAsyncGenerator(model: string, messages: Messages, options: OpenAssistantOptions = {}): AsyncResult {
    let sawToken = false;
    // Only the text is wanted here, unless `onEvent` watches every token event.
    return chatReply(model, messages, options, !options.onEvent, (batch) => {
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
      return text || undefined;
    });
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
    for await (const batch of chatReply(model, messages, options, false, eventBatch)) yield* batch;
  }

  /**
   * The same events as `streamEvents`, those of each network read together in one
   * array: one step per read instead of one per token, for consumers that relay them.
   */
  static streamEventBatches(model: string, messages: Messages, options: OpenAssistantOptions = {}): AsyncGenerator<ChatEvent[], void, undefined> {
    return chatReply(model, messages, options, false, eventBatch);
  }
}

const eventBatch: BatchView<ChatEvent[]> = (batch) => batch;
