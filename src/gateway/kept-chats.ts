import { homedir } from "node:os";
import { join } from "node:path";
import { OpenAssistantClient } from "../client/client.js";
import { configDir } from "../cookies/config-dir.js";
import type { AccountPool } from "./account-pool.js";
import { ConversationStore, DEFAULT_CONVERSATION_TTL_MS, type ConversationStoreOptions } from "./conversation-store.js";

/** `conversations: true` keeps the mapping here, beside the CLI's other state. */
export function defaultConversationsFile(env: NodeJS.ProcessEnv): string {
  return join(configDir({ platform: process.platform, homeDir: homedir(), env }), "oasst", "conversations.json");
}

/** The longest pause between two sweeps for expired chats. */
const MAX_SWEEP_INTERVAL_MS = 10 * 60 * 1000;

/**
 * The gateway's kept chats: the store, and a sweep that deletes on the site the chats
 * unused for the TTL (at start, then every tenth of the TTL, at most every 10 minutes).
 * Stops, and writes the store, when `shutdown` fires.
 */
export function keptChats(
  setting: true | ConversationStoreOptions,
  pool: AccountPool,
  env: NodeJS.ProcessEnv,
  shutdown: AbortSignal | undefined,
  onError: (message: string) => void,
): ConversationStore {
  const options = setting === true ? { file: defaultConversationsFile(env) } : setting;
  const store = new ConversationStore(options);
  const sweep = async () => {
    for (const { chatId, account } of store.takeExpired()) {
      const owner = await pool.find(account).catch(() => undefined);
      if (!owner) continue; // its account is no longer the gateway's: the chat stays on the site
      const { baseUrl, cookies, proxy, timeout, userAgent, headers, fetch } = owner.upstream;
      const client = new OpenAssistantClient({ baseUrl, cookies, proxy, timeout, userAgent, headers, fetch, env });
      try {
        await client.deleteChat(chatId);
      } catch (error) {
        onError(`Expired chat ${chatId} could not be deleted: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
      } finally {
        await client.close();
      }
    }
  };
  const interval = Math.min(MAX_SWEEP_INTERVAL_MS, Math.max(1_000, (options.ttlMs ?? DEFAULT_CONVERSATION_TTL_MS) / 10));
  const timer = setInterval(() => void sweep(), interval);
  timer.unref();
  void sweep();
  shutdown?.addEventListener(
    "abort",
    () => {
      clearInterval(timer);
      store.flush();
    },
    { once: true },
  );
  return store;
}
