import type { OpenAssistantClient } from "../client/client.js";
import type { MessageRead } from "../client/wire-types.js";
import { ReplyCancelledError } from "../errors.js";

/** A state lookup is a side question: it gets a short budget of its own. */
const LOOKUP_TIMEOUT_MS = 5_000;

/** The message as the site has it now; undefined when the site did not say (the caller decides what that means). */
export function readMessage(client: OpenAssistantClient, chatId: string, messageId: string): Promise<MessageRead | undefined> {
  return client.getMessage(chatId, messageId, { timeout: LOOKUP_TIMEOUT_MS }).catch(() => undefined);
}

/** The error for a message the server cancelled while it was queued. */
export function cancelledError(chatId: string): ReplyCancelledError {
  return new ReplyCancelledError("The server cancelled the reply before it started (message state: cancelled)", { chatId });
}
