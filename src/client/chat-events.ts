import { ProtocolError } from "../errors.js";
import { DEFAULT_MAX_LINE_LENGTH, SseDecoder, type SseEvent } from "../sse/sse-decoder.js";
import type { ChatEvent, ChatEventType } from "./wire-types.js";

const KNOWN_TYPES: ReadonlySet<string> = new Set<ChatEventType>(["pending", "token", "message", "error", "safe_prompt", "plugin_intermediate"]);

/**
 * Turn one SSE event into a typed chat event. Returns undefined for what the
 * protocol says to skip: sse-starlette's old `event: ping` events and event types
 * this version does not know (newer servers may add some).
 */
export function parseChatEvent(sse: SseEvent, chatId?: string): ChatEvent | undefined {
  if (sse.event === "ping") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(sse.data);
  } catch (cause) {
    throw new ProtocolError(`The event stream sent data that is not JSON: ${preview(sse.data)}`, { chatId, cause });
  }
  if (typeof value !== "object" || value === null || typeof (value as { event_type?: unknown }).event_type !== "string") {
    throw new ProtocolError(`The event stream sent an object without "event_type": ${preview(sse.data)}`, { chatId });
  }
  const event = value as ChatEvent;
  if (!KNOWN_TYPES.has(event.event_type)) return undefined;
  if (event.event_type === "token" && typeof event.text !== "string") {
    throw new ProtocolError(`The event stream sent a token event without text: ${preview(sse.data)}`, { chatId });
  }
  if (event.event_type === "error" && typeof event.error !== "string") {
    throw new ProtocolError(`The event stream sent an error event without an error text: ${preview(sse.data)}`, { chatId });
  }
  if (event.event_type === "message" && (typeof event.message !== "object" || event.message === null || typeof event.message.id !== "string")) {
    throw new ProtocolError(`The event stream sent a message event without a message (its "message.id"): ${preview(sse.data)}`, { chatId });
  }
  if (event.event_type === "pending" && (typeof event.queue_position !== "number" || typeof event.queue_size !== "number")) {
    throw new ProtocolError(`The event stream sent a pending event without "queue_position" and "queue_size" numbers: ${preview(sse.data)}`, { chatId });
  }
  return event;
}

function preview(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

/**
 * The event stream of `POST /api/chat/events`: bytes in, chat events out, per network
 * read, by one path: the standard `SseDecoder`, then `JSON.parse` and `parseChatEvent`
 * for each event. A paced stream (one token event per network read, as a model writes
 * them) gains nothing a user could notice from a hand-written reader of the token
 * framing (`node bench/decode-paced.mjs` measures it). test/client/chat-event-decoder.test.ts
 * checks this path against eventsource-parser and JSON.parse.
 */
export class ChatEventDecoder {
  readonly #sse: SseDecoder;
  readonly #chatId: string | undefined;
  readonly #joinTokens: boolean;

  /**
   * `joinTokens`: the token events of one read come as one token event whose text is
   * theirs joined (for consumers that only want the text: one object per read).
   */
  constructor(options: { maxLineLength?: number | undefined; chatId?: string | undefined; joinTokens?: boolean | undefined } = {}) {
    this.#sse = new SseDecoder({ maxLineLength: options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH });
    this.#chatId = options.chatId;
    this.#joinTokens = options.joinTokens ?? false;
  }

  /** Feed a chunk; returns the chat events it completed. */
  push(chunk: Uint8Array): ChatEvent[] {
    return this.#events(this.#sse.push(chunk));
  }

  /** The stream ended: the last line and a last unterminated event. */
  end(): ChatEvent[] {
    return this.#events(this.#sse.end());
  }

  #events(batch: SseEvent[]): ChatEvent[] {
    const out: ChatEvent[] = [];
    for (const sse of batch) {
      const event = parseChatEvent(sse, this.#chatId);
      if (!event) continue;
      const last = out.length > 0 ? out[out.length - 1] : undefined;
      if (this.#joinTokens && event.event_type === "token" && last?.event_type === "token") {
        out[out.length - 1] = { event_type: "token", text: last.text + event.text };
      } else {
        out.push(event);
      }
    }
    return out;
  }
}
