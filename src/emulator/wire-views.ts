import type { ChatListRead, ChatRead, MessageRead } from "../client/wire-types.js";
import type { StoredChat, StoredMessage } from "./chat-store.js";
import { isoformat } from "./clock.js";
import { PyFloat, PyRawJson, type PyValue } from "./pydantic-json.js";

/**
 * Stored rows as the wire shows them, with every field present and keys in the server's
 * order: the website's REST view (what `JSON.stringify` writes after the website parsed
 * the inference server's JSON) and the event stream's pydantic view.
 */

export function toMessageRead(message: StoredMessage): MessageRead {
  return {
    id: message.id,
    parent_id: message.parentId,
    content: message.content,
    chat_id: message.chatId,
    created_at: isoformat(message.createdAt),
    role: message.role,
    state: message.state,
    score: message.score,
    reports: [],
    work_parameters: message.workParameters,
    safe_content: null,
    safety_level: null,
    safety_label: null,
    safety_rots: null,
    used_plugin: null,
  };
}

/** `to_list_read` does not copy the thread tail: it is always null here. */
export function toChatListRead(chat: StoredChat): ChatListRead {
  return {
    id: chat.id,
    created_at: isoformat(chat.createdAt),
    modified_at: isoformat(chat.modifiedAt),
    title: chat.title,
    hidden: chat.hidden,
    allow_data_use: chat.allowDataUse,
    active_thread_tail_message_id: null,
  };
}

export function toChatRead(chat: StoredChat): ChatRead {
  return {
    ...toChatListRead(chat),
    active_thread_tail_message_id: chat.activeThreadTailMessageId,
    messages: chat.messages.map(toMessageRead),
  };
}

const nullableFloat = (value: number | null): PyValue => (value === null ? null : new PyFloat(value));

/** Any JSON value echoed from a request (plugin configs): integral numbers are ints, others floats. */
function jsonToPy(value: unknown): PyValue {
  if (value === null || typeof value === "boolean" || typeof value === "string" || typeof value === "number") return value;
  if (Array.isArray(value)) return value.map(jsonToPy);
  if (typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, jsonToPy(member)]));
  }
  return null;
}

/**
 * The pydantic view of a message for `message` and `error` events: float fields print as
 * Python floats, the seed is exact. `contentJson`, when given, is the already-encoded
 * content (a cached literal of a long reply).
 */
export function toPydanticMessage(message: StoredMessage, contentJson?: string): PyValue {
  const read = toMessageRead(message);
  const work = read.work_parameters;
  const sampling = work?.sampling_parameters;
  return {
    ...(jsonToPy(read) as Record<string, PyValue>),
    content: contentJson === undefined ? read.content : new PyRawJson(contentJson),
    work_parameters:
      work && sampling
        ? {
            ...(jsonToPy(work) as Record<string, PyValue>),
            sampling_parameters: {
              top_k: sampling.top_k,
              top_p: nullableFloat(sampling.top_p),
              typical_p: nullableFloat(sampling.typical_p),
              temperature: nullableFloat(sampling.temperature),
              repetition_penalty: nullableFloat(sampling.repetition_penalty),
              max_new_tokens: sampling.max_new_tokens,
            },
            seed: message.exactSeed ?? work.seed,
          }
        : null,
  };
}
