import { setTimeout as sleep } from "node:timers/promises";
import type { OpenAssistantClient } from "../client/client.js";
import { readMessage } from "./message-state.js";

/** How a reply left early ended on the server. */
export type ReplyEnd = "finished" | "cancelled" | "unknown";

/** The state is read again after 100 ms, then twice as long each time, at most every second. */
const FIRST_POLL_MS = 100;
const POLL_INTERVAL_MS = 1_000;

/**
 * Waits until the server is done with a reply whose reader left early (an abort, a
 * `break`, a stop string). Open-Assistant's inference server reads the assistant message
 * again when a worker takes it and when it finishes: if its chat was deleted by then, the
 * worker's whole connection fails and every reply it was generating, other users'
 * included, ends with "Aborted due to worker error". So a chat is deleted only once its
 * reply has finished, which the message's state tells (read up to every second, for at
 * most `limitMs`: the provider's `timeout`). A cancelled message stays in the queue until a worker skips it, which no
 * answer of the server tells: its chat cannot be deleted safely.
 */
export async function waitForReplyEnd(client: OpenAssistantClient, chatId: string, messageId: string, limitMs: number): Promise<ReplyEnd> {
  const deadline = Date.now() + limitMs;
  for (let pause = FIRST_POLL_MS; ; pause = Math.min(pause * 2, POLL_INTERVAL_MS)) {
    const message = await readMessage(client, chatId, messageId);
    switch (message?.state) {
      case "complete":
      case "aborted_by_worker":
      case "timeout":
      case "manual":
        return "finished";
      case "cancelled":
        return "cancelled";
    }
    const left = deadline - Date.now();
    if (left <= 0) return "unknown";
    await sleep(Math.min(pause, left));
  }
}
