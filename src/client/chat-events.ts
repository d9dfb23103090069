import { ProtocolError } from "../errors.js";
import type { SseEvent } from "../sse/sse-decoder.js";
import type { ChatEvent, ChatEventType } from "./wire-types.js";

const KNOWN_TYPES: ReadonlySet<string> = new Set<ChatEventType>([
  "pending",
  "token",
  "message",
  "error",
  "safe_prompt",
  "plugin_intermediate",
]);

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
  return event;
}

function preview(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}
