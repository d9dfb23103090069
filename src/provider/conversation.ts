import { ConfigError } from "../errors.js";
import { prompterContent, type PromptFormat } from "./format-prompt.js";
import type { Messages } from "./provider-types.js";

/**
 * A chat kept on the server, at one of its replies: what a call with `conversation` takes
 * and what `onConversation` gives back. Plain data (JSON-safe), to keep between processes.
 */
export interface Conversation {
  /** The chat on the server. */
  chatId: string;
  /** The reply's assistant message: the next user message is posted under it, and votes name it. */
  messageId: string;
  /** The prompter message the reply answers: a regeneration is another assistant message under it. */
  parentId: string;
}

/** What one call of a conversation posts. */
export interface ConversationTurn {
  /** The prompter message's content; `undefined` for a regeneration, which posts none. */
  content: string | undefined;
  /** The system messages, for the assistant message's `system_prompt` (the worker gives them the model's system role). */
  systemPrompt: string | undefined;
}

const SYSTEM_ROLES: ReadonlySet<string> = new Set(["system", "developer"]);

/**
 * The turn to post. A new conversation (`"new"`) posts the messages as the first prompter
 * message (several are flattened, as without a conversation: the API cannot post assistant
 * messages); a continued one posts only the last message, which must be the user's: the
 * server holds the rest. System messages go to `system_prompt`, not into the text.
 */
export function conversationTurn(
  messages: Messages,
  conversation: Conversation | "new",
  regenerate: boolean,
  format: PromptFormat | undefined,
): ConversationTurn {
  const system = messages.filter((message) => SYSTEM_ROLES.has(message.role)).map((message) => message.content);
  const systemPrompt = system.length ? system.join("\n\n") : undefined;
  if (regenerate) return { content: undefined, systemPrompt };
  const turns = messages.filter((message) => !SYSTEM_ROLES.has(message.role));
  if (conversation === "new") return { content: prompterContent(turns, format), systemPrompt };
  const last = turns.at(-1);
  if (last?.role !== "user") {
    throw new ConfigError(
      "A continued conversation needs a user message last",
      "Pass the new user message (alone, or at the end of the history): only it is sent, under the conversation's last reply.",
    );
  }
  return { content: last.content, systemPrompt };
}

/** JavaScript callers and stored handles get no type check: a handle is checked before anything is sent. */
export function checkConversation(value: unknown): asserts value is Conversation | "new" | undefined {
  if (value === undefined || value === "new") return;
  const handle = value as Partial<Record<keyof Conversation, unknown>> | null;
  const keys: Array<keyof Conversation> = ["chatId", "messageId", "parentId"];
  if (typeof handle !== "object" || handle === null || keys.some((key) => typeof handle[key] !== "string" || handle[key] === "")) {
    throw new ConfigError(
      'conversation must be "new" or { chatId, messageId, parentId }',
      'Pass the object onConversation gave for the reply to continue (or "new" to start a kept chat).',
    );
  }
}
