import type { MessageRole, MessageState, WorkParameters } from "../client/wire-types.js";
import { nowMicros, type EpochMicros } from "./clock.js";
import { uuid7 } from "./uuid7.js";

/**
 * The emulator's database: every user's chats and messages, in memory. Ids are UUIDv7,
 * so id order is creation order, which is what the list cursors compare. As on the
 * real server, reads are scoped to the user (`DbChat.user_id`), except the assistant
 * message's parent, which is looked up by id alone and then checked for its owner.
 */

export interface StoredMessage {
  readonly id: string;
  readonly parentId: string | null;
  readonly chatId: string;
  readonly createdAt: EpochMicros;
  readonly role: MessageRole;
  state: MessageState;
  content: string | null;
  score: number;
  /** The REST view's seed is this one rounded to a double, as the website's JSON.parse rounds it. */
  readonly workParameters: WorkParameters | null;
  /** The exact 64-bit seed, which the event stream's pydantic JSON carries. */
  readonly exactSeed: bigint | null;
}

export interface StoredChat {
  readonly id: string;
  /** The owner (the website's `jwt.sub`). */
  readonly userId: string;
  readonly createdAt: EpochMicros;
  modifiedAt: EpochMicros;
  title: string | null;
  hidden: boolean;
  allowDataUse: boolean;
  activeThreadTailMessageId: string | null;
  readonly messages: StoredMessage[];
}

export interface ChatPage {
  chats: StoredChat[];
  next: string | null;
  prev: string | null;
}

/** A list cursor as the client sent it, and the chat id it decodes to. */
export interface ChatCursor {
  text: string;
  chatId: string;
}

export interface ChatPageQuery {
  includeHidden: boolean;
  limit: number;
  after: ChatCursor | undefined;
  before: ChatCursor | undefined;
}

/** A list cursor: standard base64 of a chat id. */
export function encodeCursor(chatId: string): string {
  return Buffer.from(chatId, "utf8").toString("base64");
}

/**
 * Python's lenient `base64.b64decode(cursor).decode()`: characters outside the alphabet
 * are dropped, but bad padding or non-UTF-8 bytes fail (a 500 on the real server).
 */
export function decodeCursor(cursor: string): string | undefined {
  const kept = cursor.replace(/[^A-Za-z0-9+/=]/g, "");
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(kept)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(kept, "base64"));
  } catch {
    return undefined;
  }
}

export type NewMessage = Omit<StoredMessage, "id" | "createdAt" | "score">;

export class ChatStore {
  private readonly chats = new Map<string, StoredChat>();
  private readonly messages = new Map<string, StoredMessage>();

  /** Chats created and not deleted, of every user. */
  get chatCount(): number {
    return this.chats.size;
  }

  createChat(userId: string): StoredChat {
    const createdAt = nowMicros();
    const chat: StoredChat = {
      id: uuid7(),
      userId,
      createdAt,
      modifiedAt: createdAt,
      title: null,
      hidden: false,
      allowDataUse: true,
      activeThreadTailMessageId: null,
      messages: [],
    };
    this.chats.set(chat.id, chat);
    return chat;
  }

  /** The user's chat (another user's chat is not found, as `get_chat_by_id` filters by user). */
  chat(chatId: string, userId: string): StoredChat | undefined {
    const chat = this.chats.get(chatId);
    return chat?.userId === userId ? chat : undefined;
  }

  /** Any user's chat by id. */
  anyChat(chatId: string): StoredChat | undefined {
    return this.chats.get(chatId);
  }

  /** Deletes the user's chat and its messages; undefined when the user has no such chat. */
  deleteChat(chatId: string, userId: string): StoredChat | undefined {
    const chat = this.chat(chatId, userId);
    if (!chat) return undefined;
    for (const message of chat.messages) this.messages.delete(message.id);
    this.chats.delete(chatId);
    return chat;
  }

  addMessage(chat: StoredChat, fields: NewMessage): StoredMessage {
    const message: StoredMessage = { ...fields, id: uuid7(), createdAt: nowMicros(), score: 0 };
    chat.messages.push(message);
    this.messages.set(message.id, message);
    return message;
  }

  /** Any chat's message, as the assistant-message route looks parents up (it ignores the chat id). */
  message(messageId: string): StoredMessage | undefined {
    return this.messages.get(messageId);
  }

  /** A message of the given chat of the user (`get_message_by_id` joins the chat and filters by user). */
  messageInChat(chatId: string, messageId: string, userId: string): StoredMessage | undefined {
    const message = this.messages.get(messageId);
    return message?.chatId === chatId && this.chats.get(chatId)?.userId === userId ? message : undefined;
  }

  /**
   * `GET /chats`: newest first; `after` pages towards older chats, `before` towards newer
   * ones (fetched oldest-first, then reversed). One extra row tells whether more exist.
   */
  listChats(query: ChatPageQuery, userId: string): ChatPage {
    let candidates = [...this.chats.values()].filter((chat) => chat.userId === userId && (query.includeHidden || !chat.hidden));
    const { after, before } = query;
    if (after !== undefined) candidates = candidates.filter((chat) => chat.id < after.chatId);
    if (before !== undefined) candidates = candidates.filter((chat) => chat.id > before.chatId);
    candidates.sort((a, b) => (before === undefined ? b.createdAt - a.createdAt : a.createdAt - b.createdAt));
    const rows = candidates.slice(0, query.limit + 1);
    let chats = rows.slice(0, query.limit);
    if (before !== undefined) chats = chats.reverse();
    const first = chats[0];
    const last = chats[chats.length - 1];
    let prev: string | null = null;
    let next: string | null = null;
    if (first && last) {
      if ((rows.length > query.limit && before !== undefined) || after !== undefined) prev = encodeCursor(first.id);
      if (rows.length > query.limit || before !== undefined) next = encodeCursor(last.id);
    } else {
      // With no rows the server hands the client's own cursors back.
      if (after !== undefined) prev = after.text;
      if (before !== undefined) next = before.text;
    }
    return { chats, next, prev };
  }
}
