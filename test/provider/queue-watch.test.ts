import { describe, expect, it } from "vitest";
import type { OpenAssistantClient } from "../../src/client/client.js";
import type { MessageRead, MessageState } from "../../src/client/wire-types.js";
import { ReplyCancelledError, StreamError, TimeoutError } from "../../src/errors.js";
import { QueueWatch } from "../../src/provider/queue-watch.js";

/** A client whose only method is the message lookup, answering `state` and counting calls. */
function clientWithState(state: () => MessageState): { client: OpenAssistantClient; lookups: () => number } {
  let lookups = 0;
  const client = {
    getMessage: async () => {
      lookups++;
      return { state: state() } as MessageRead;
    },
  } as unknown as OpenAssistantClient;
  return { client, lookups: () => lookups };
}

/** A watch on a clock the test moves; the server's pending events come every second. */
function watchWith(state: () => MessageState, queueTimeout = 300_000) {
  let now = 0;
  const { client, lookups } = clientWithState(state);
  const watch = new QueueWatch({ client, chatId: "c", messageId: "m", queueTimeout, now: () => now });
  return { watch, lookups, at: (ms: number) => (now = ms) };
}

describe("QueueWatch", () => {
  it("ends a cancelled message's endless pending events within seconds, with a ReplyCancelledError", async () => {
    const { watch, lookups, at } = watchWith(() => "cancelled");
    at(1_000);
    await watch.pending();
    at(2_000);
    await watch.pending();
    expect(lookups()).toBe(0);
    at(3_000);
    const error = await watch.pending().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplyCancelledError);
    expect((error as ReplyCancelledError).hint).toMatch(/Another client on the same account/);
    expect(lookups()).toBe(1);
  });

  it("reads the state of a message that waits in a real queue every three seconds, not at every event", async () => {
    const { watch, lookups, at } = watchWith(() => "pending");
    for (let ms = 1_000; ms <= 30_000; ms += 1_000) {
      at(ms);
      await watch.pending();
    }
    expect(lookups()).toBe(10);
  });

  it("gives up after the queue deadline with a TimeoutError", async () => {
    const { watch, at } = watchWith(() => "pending", 60_000);
    at(60_000);
    await watch.pending();
    at(60_001);
    const error = await watch.pending().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).summary).toContain("queue");
    expect((error as TimeoutError).hint).toContain("queueTimeout");
  });

  it("reports a message the worker aborted before it started", async () => {
    const { watch, at } = watchWith(() => "aborted_by_worker");
    at(3_000);
    await expect(watch.pending()).rejects.toBeInstanceOf(StreamError);
  });
});
