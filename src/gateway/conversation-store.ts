import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Conversation } from "../provider/conversation.js";
import { formatPrompt } from "../provider/format-prompt.js";
import type { Message, Messages } from "../provider/provider-types.js";

/** How long a kept chat lives after its last turn, by default: then it is deleted on the site. */
export const DEFAULT_CONVERSATION_TTL_MS = 24 * 60 * 60 * 1000;
/** Most chats remembered; beyond, the least recently used are forgotten (and deleted). */
export const MAX_CONVERSATIONS = 10_000;

const SAVE_DELAY_MS = 1_000;

const SYSTEM_ROLES: ReadonlySet<string> = new Set(["system", "developer"]);

/** What one request sends: the provider's `conversation` option and the messages to give it. */
export interface ConversationPlan {
  conversation: Conversation | "new";
  regenerate: boolean;
  messages: Messages;
  /** The account the chat belongs to (`Account.id`); undefined for a new chat. */
  account: string | undefined;
  /** The history's fingerprint up to its last (user) message: where the reply is remembered. */
  key: string;
}

interface StoredChat {
  account: string;
  /** ms since the epoch. */
  lastUsed: number;
}

interface StoredTurn {
  chatId: string;
  messageId: string;
  parentId: string;
}

interface StoreFile {
  version: 1;
  chats: Record<string, StoredChat>;
  /** Fingerprint of a history → the reply that ends it (key of a history ending with a reply), or the reply to its last user message. */
  turns: Record<string, StoredTurn>;
}

export interface ConversationStoreOptions {
  /** JSON file that keeps the mapping across restarts (fingerprints and ids only, never message text). Default: in memory. */
  file?: string | undefined;
  /** ms a chat is kept after its last turn. Default 24 h. */
  ttlMs?: number | undefined;
  now?: () => number;
}

/**
 * The gateway's memory of the chats it keeps for `--conversations`. OpenAI clients send the
 * whole history with each request; each history prefix that ends with a reply the gateway
 * gave is remembered by a fingerprint (a hash chain over the turns' roles and texts), so the
 * longest known prefix of a new request names the chat and the message to continue under.
 */
export class ConversationStore {
  readonly #file: string | undefined;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #chats = new Map<string, StoredChat>();
  #turns = new Map<string, StoredTurn>();
  #saveTimer: NodeJS.Timeout | undefined;

  constructor(options: ConversationStoreOptions = {}) {
    this.#file = options.file;
    this.#ttlMs = options.ttlMs ?? DEFAULT_CONVERSATION_TTL_MS;
    this.#now = options.now ?? Date.now;
    if (this.#file) this.#load(this.#file);
  }

  get size(): number {
    return this.#chats.size;
  }

  /**
   * The plan for a request's history. The whole history known up to its last user message:
   * a regeneration of that reply. Else the longest prefix that ends with a known reply: the
   * rest is posted under that reply (several turns flattened into one message; an edited
   * turn thereby becomes a sibling branch). Else a new chat. System messages go along as
   * they are (the provider sends them as `system_prompt`).
   */
  plan(messages: Messages): ConversationPlan {
    const system = messages.filter((message) => SYSTEM_ROLES.has(message.role));
    const turns = messages.filter((message) => !SYSTEM_ROLES.has(message.role));
    const keys = chainKeys(turns);
    const key = keys[keys.length - 1] ?? "";
    const fresh: ConversationPlan = { conversation: "new", regenerate: false, messages, account: undefined, key };
    if (turns.at(-1)?.role !== "user") return fresh;
    const again = this.#live(key);
    if (again) return { conversation: again.turn, regenerate: true, messages: system, account: again.chat.account, key };
    for (let end = turns.length - 1; end > 0; end--) {
      if (turns[end - 1]?.role !== "assistant") continue;
      const known = this.#live(keys[end - 1] ?? "");
      if (!known) continue;
      const rest = turns.slice(end);
      const posted: Message = rest.length === 1 && rest[0] ? rest[0] : { role: "user", content: formatPrompt(rest) };
      return { conversation: known.turn, regenerate: false, messages: [...system, posted], account: known.chat.account, key };
    }
    return fresh;
  }

  /** A reply is whole: remember it under the history that asked for it, and under that history with the reply added. */
  remember(plan: ConversationPlan, handle: Conversation, replyText: string, account: string): void {
    const turn: StoredTurn = { chatId: handle.chatId, messageId: handle.messageId, parentId: handle.parentId };
    if (plan.key) this.#turns.set(plan.key, turn);
    this.#turns.set(nextKey(plan.key, { role: "assistant", content: replyText }), turn);
    this.#chats.delete(handle.chatId); // re-inserted last: the map's order is least recently used first
    this.#chats.set(handle.chatId, { account, lastUsed: this.#now() });
    this.#save();
  }

  /** Chats unused for the TTL, or beyond the cap: forgotten here, returned so that the caller deletes them on the site. */
  takeExpired(): Array<{ chatId: string; account: string }> {
    const cutoff = this.#now() - this.#ttlMs;
    const expired: Array<{ chatId: string; account: string }> = [];
    let over = this.#chats.size - MAX_CONVERSATIONS;
    for (const [chatId, chat] of this.#chats) {
      if (chat.lastUsed >= cutoff && over <= 0) continue;
      over--;
      expired.push({ chatId, account: chat.account });
    }
    if (expired.length) this.forget(expired.map((chat) => chat.chatId));
    return expired;
  }

  /** Forget chats (deleted elsewhere, e.g. `oasst chats --delete`, or expired). */
  forget(chatIds: Iterable<string>): void {
    const gone = new Set(chatIds);
    for (const chatId of gone) this.#chats.delete(chatId);
    for (const [key, turn] of this.#turns) if (gone.has(turn.chatId)) this.#turns.delete(key);
    this.#save();
  }

  #live(key: string): { turn: StoredTurn; chat: StoredChat } | undefined {
    const turn = this.#turns.get(key);
    const chat = turn && this.#chats.get(turn.chatId);
    if (!turn || !chat || chat.lastUsed < this.#now() - this.#ttlMs) return undefined;
    return { turn, chat };
  }

  #load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      return; // none yet
    }
    try {
      const parsed = JSON.parse(text) as Partial<StoreFile>;
      if (parsed.version !== 1 || typeof parsed.chats !== "object" || typeof parsed.turns !== "object") return;
      const chats = Object.entries(parsed.chats ?? {}).filter(([, chat]) => typeof chat?.account === "string" && typeof chat.lastUsed === "number");
      chats.sort((a, b) => a[1].lastUsed - b[1].lastUsed);
      this.#chats = new Map(chats);
      const turns = Object.entries(parsed.turns ?? {}).filter(
        ([, turn]) => typeof turn?.chatId === "string" && typeof turn.messageId === "string" && typeof turn.parentId === "string",
      );
      this.#turns = new Map(turns.filter(([, turn]) => this.#chats.has(turn.chatId)));
    } catch {
      // A damaged file: the gateway starts afresh (the chats stay on the site).
    }
  }

  /** Writes are gathered: at most one a second, and one on `flush`. */
  #save(): void {
    if (!this.#file || this.#saveTimer) return;
    this.#saveTimer = setTimeout(() => this.flush(), SAVE_DELAY_MS);
    this.#saveTimer.unref();
  }

  /** Write what is pending now (on shutdown). */
  flush(): void {
    clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    if (!this.#file) return;
    const data: StoreFile = { version: 1, chats: Object.fromEntries(this.#chats), turns: Object.fromEntries(this.#turns) };
    mkdirSync(dirname(this.#file), { recursive: true, mode: 0o700 });
    const temporary = `${this.#file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(data), { mode: 0o600 });
    renameSync(temporary, this.#file);
  }
}

/** The fingerprints of every prefix of `turns`: the hash of the previous one, the role and the text (trimmed, as clients vary). */
function chainKeys(turns: Messages): string[] {
  const keys: string[] = [];
  let key = "";
  for (const turn of turns) {
    key = nextKey(key, turn);
    keys.push(key);
  }
  return keys;
}

function nextKey(previous: string, turn: Message): string {
  return createHash("sha256").update(previous).update("\0").update(turn.role.toLowerCase()).update("\0").update(turn.content.trim()).digest("base64url");
}
