import { describe, expect, it } from "vitest";
import { TurnQueue, type Turn } from "../../src/accounts/turn-queue.js";

/** Runs a waiter to its turn, recording the positions it was shown. */
async function take(queue: TurnQueue, positions: number[] = [], signal?: AbortSignal): Promise<Turn> {
  const line = queue.wait(signal);
  for (let step = await line.next(); ; step = await line.next()) {
    if (step.done) return step.value;
    positions.push(step.value);
  }
}

describe("TurnQueue", () => {
  it("gives the turn at once when no reply holds it", async () => {
    const queue = new TurnQueue();
    const positions: number[] = [];
    const turn = await take(queue, positions);
    expect(positions).toEqual([]);
    expect(queue.busy).toBe(true);
    turn.release();
    expect(queue.busy).toBe(false);
  });

  it("serves waiters first come, first served, showing each how many are ahead", async () => {
    const queue = new TurnQueue();
    const first = await take(queue);
    const order: string[] = [];
    const bPositions: number[] = [];
    const cPositions: number[] = [];
    const b = take(queue, bPositions).then((turn) => (order.push("b"), turn));
    const c = take(queue, cPositions).then((turn) => (order.push("c"), turn));
    await new Promise((resolve) => setImmediate(resolve));
    expect(queue.waiting).toBe(2);
    first.release();
    const bTurn = await b;
    expect(order).toEqual(["b"]);
    bTurn.release();
    (await c).release();
    expect(order).toEqual(["b", "c"]);
    expect(bPositions).toEqual([1]);
    expect(cPositions).toEqual([2, 1]);
    expect(queue.busy).toBe(false);
  });

  it("a release is idempotent: a second call does not free another reply's turn", async () => {
    const queue = new TurnQueue();
    const first = await take(queue);
    first.release();
    const second = await take(queue);
    first.release();
    expect(queue.busy).toBe(true);
    second.release();
  });

  it("an aborted waiter leaves the line and the ones behind it move up", async () => {
    const queue = new TurnQueue();
    const holder = await take(queue);
    const controller = new AbortController();
    const aborted = take(queue, [], controller.signal);
    const behind: number[] = [];
    const next = take(queue, behind);
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error("stop"));
    await expect(aborted).rejects.toThrow("stop");
    await new Promise((resolve) => setImmediate(resolve));
    expect(queue.waiting).toBe(1);
    expect(behind).toEqual([2, 1]);
    holder.release();
    (await next).release();
  });

  it("a waiter that stops listening gives up its place", async () => {
    const queue = new TurnQueue();
    const holder = await take(queue);
    const line = queue.wait();
    expect((await line.next()).value).toBe(1);
    await line.return(undefined as never);
    expect(queue.waiting).toBe(0);
    holder.release();
    expect(queue.busy).toBe(false);
  });
});
