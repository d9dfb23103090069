import type { OpenAssistantClient } from "../client/client.js";
import { StreamError, TimeoutError } from "../errors.js";
import { cancelledError, readMessage } from "./message-state.js";

/** The longest a reply may wait in the server's queue, sending only `pending` events. */
export const DEFAULT_QUEUE_TIMEOUT_MS = 300_000;
/**
 * While only `pending` events come, the message's state is read this often. A cancelled
 * message shows no sign of it in its stream: it keeps its queue position until a worker
 * skips it, then says "position 0 of 0" every second, forever.
 */
const STATE_CHECK_INTERVAL_MS = 3_000;

export interface QueueWatchOptions {
  client: OpenAssistantClient;
  chatId: string;
  messageId: string;
  queueTimeout: number;
  now?: () => number;
}

/**
 * Watches a reply while it waits in the server's queue. `pending` events alone are no
 * progress: a message cancelled on the server (its account posted another reply) keeps
 * sending them forever. So the message's state is read from the site now and then, and
 * the wait ends with an error when the message was cancelled or aborted, or when it has
 * waited longer than `queueTimeout`.
 */
export class QueueWatch {
  readonly #options: QueueWatchOptions;
  readonly #now: () => number;
  readonly #since: number;
  #lastCheck: number;

  constructor(options: QueueWatchOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#since = this.#now();
    this.#lastCheck = this.#since;
  }

  /** Call with each batch of `pending` events; throws when the wait is over. */
  async pending(): Promise<void> {
    const { client, chatId, messageId, queueTimeout } = this.#options;
    const now = this.#now();
    if (now - this.#since > queueTimeout) {
      throw new TimeoutError(`The reply waited in the server's queue for more than ${Math.round(queueTimeout / 1000)} s without starting`, queueTimeout, {
        chatId,
        hint: "The server's model workers are busy or stopped: try again later, or raise `queueTimeout` (ms).",
      });
    }
    if (now - this.#lastCheck < STATE_CHECK_INTERVAL_MS) return;
    this.#lastCheck = now;
    const message = await readMessage(client, chatId, messageId);
    if (message?.state === "cancelled") throw cancelledError(chatId);
    if (message?.state === "aborted_by_worker" || message?.state === "timeout") {
      throw new StreamError(`The server ended the reply before it started (message state: ${message.state})`, { chatId });
    }
  }
}
