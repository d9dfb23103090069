import type { OpenAssistantClient } from "../client/client.js";
import type { ChatRead, MessageRead } from "../client/wire-types.js";
import { ConfigError, ServerError } from "../errors.js";
import type { Conversation } from "../provider/conversation.js";
import type { CliContext } from "./cli-context.js";
import { stderrPalette } from "./terminal.js";
import { stripTerminalEscapes } from "./terminal-escapes.js";

/** Open-Assistant's chat ids are UUIDs (the inference server's uuid7). */
const CHAT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a word is a chat id: `--continue [id]` takes the next word, and one that is not an id starts the prompt. */
export function looksLikeChatId(text: string): boolean {
  return CHAT_ID.test(text);
}

/**
 * The chat `chatId`, with all its messages, or the account's most recent chat when
 * `chatId` is undefined. `command` names the command in the hints (`oasst chat --continue`).
 */
export async function readChat(client: OpenAssistantClient, chatId: string | undefined, command: string): Promise<ChatRead> {
  let id = chatId;
  if (id === undefined) {
    const { chats } = await client.listChats();
    id = chats[0]?.id;
    if (id === undefined) {
      throw new ConfigError(
        "The account has no chats",
        'Start one that is kept: oasst chat --keep "Hello", or the interactive session (oasst chat on a terminal).',
      );
    }
  }
  try {
    return await client.getChat(id);
  } catch (error) {
    // The website answers 404 to any failure of the upstream read: unknown, deleted, or another account's chat.
    if (error instanceof ServerError && error.status === 404) {
      throw new ConfigError(`Chat ${id} was not found (HTTP 404)`, `\`oasst chats\` lists your chats: pass one of their ids to ${command}.`, {
        status: 404,
        chatId: id,
        cause: error,
      });
    }
    throw error;
  }
}

function isCompleteReply(message: MessageRead | undefined): message is MessageRead & { parent_id: string } {
  return message?.role === "assistant" && message.state === "complete" && message.parent_id !== null;
}

/**
 * The reply a continued chat goes on from: the chat's active thread tail when it is a
 * complete assistant message, else its newest complete assistant message (by
 * `created_at`; of equal times, the later in the server's order). Its parent is the
 * prompter message it answers.
 */
export function replyToContinue(chat: ChatRead): MessageRead & { parent_id: string } {
  const tail = chat.messages.find((message) => message.id === chat.active_thread_tail_message_id);
  if (isCompleteReply(tail)) return tail;
  let newest: (MessageRead & { parent_id: string }) | undefined;
  for (const message of chat.messages) {
    if (isCompleteReply(message) && (newest === undefined || message.created_at >= newest.created_at)) newest = message;
  }
  if (newest) return newest;
  throw new ConfigError(
    `Chat ${chat.id} has no complete reply to continue from`,
    `Its replies failed, were stopped or are still running: look at it with \`oasst chats show ${chat.id}\`, or start a new chat (oasst chat without --continue).`,
    { chatId: chat.id },
  );
}

/** Where a continued chat goes on: the handle, and the exchange it ends with (the prompter message and the reply). */
export interface Continuation {
  conversation: Conversation;
  prompt: string;
  reply: string;
}

/** `chat` continued after `replyToContinue(chat)`. */
export function continuation(chat: ChatRead): Continuation {
  const reply = replyToContinue(chat);
  const prompt = chat.messages.find((message) => message.id === reply.parent_id);
  return { conversation: { chatId: chat.id, messageId: reply.id, parentId: reply.parent_id }, prompt: prompt?.content ?? "", reply: reply.content ?? "" };
}

/** The dim line on stderr that names a kept chat: how to continue it and how to delete it. */
export function keptChatLine(context: CliContext, serverChatId: string): string {
  const chatId = stripTerminalEscapes(serverChatId);
  return stderrPalette(context).dim(
    `Chat ${chatId} is kept: continue it with \`oasst chat --continue ${chatId}\`, delete it with \`oasst chats --delete ${chatId}\`.`,
  );
}
