/**
 * Request deadlines: deadlines of one duration share one timer, yet each fires on its
 * own time, refresh() postpones it, dispose() stops it, and the caller's signal wins.
 */
import { createHook } from "node:async_hooks";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Deadline } from "../../src/client/deadline.js";

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When the deadline fired, ms after `started` (undefined while it has not). */
function watch(deadline: Deadline, started: number): { at: number | undefined } {
  const seen: { at: number | undefined } = { at: undefined };
  deadline.addEventListener("abort", () => (seen.at = performance.now() - started));
  return seen;
}

describe("Deadline", () => {
  it("fires after its time, as a timeout", async () => {
    const started = performance.now();
    const deadline = new Deadline(40);
    const seen = watch(deadline, started);
    await delay(20);
    expect(deadline.aborted).toBe(false);
    await delay(60);
    expect(seen.at).toBeGreaterThanOrEqual(39);
    expect(deadline.timedOut).toBe(true);
    expect(deadline.userAborted).toBe(false);
    expect(String(deadline.reason)).toMatch(/timeout after 40 ms/);
    expect(deadline.signal.aborted).toBe(true);
  });

  it("deadlines of one duration started apart each fire on their own time", async () => {
    const started = performance.now();
    const first = watch(new Deadline(60), started);
    await delay(30);
    const second = watch(new Deadline(60), started);
    await delay(45);
    expect(first.at).toBeGreaterThanOrEqual(59);
    expect(second.at).toBeUndefined();
    await delay(40);
    expect(second.at).toBeGreaterThanOrEqual(89);
  });

  it("refresh() starts its time again; dispose() stops it", async () => {
    const started = performance.now();
    const refreshed = new Deadline(50);
    const disposed = new Deadline(50);
    const seenRefreshed = watch(refreshed, started);
    const seenDisposed = watch(disposed, started);
    await delay(35);
    refreshed.refresh();
    disposed.dispose();
    await delay(35);
    expect(seenRefreshed.at).toBeUndefined();
    await delay(50);
    expect(seenRefreshed.at).toBeGreaterThanOrEqual(84);
    expect(seenDisposed.at).toBeUndefined();
  });

  it("a deadline made while another one fires gets its full time", async () => {
    const started = performance.now();
    const first = new Deadline(30);
    let next: { at: number | undefined } | undefined;
    first.addEventListener("abort", () => (next = watch(new Deadline(30), started)));
    await delay(45);
    expect(next?.at).toBeUndefined();
    await delay(45);
    expect(next?.at).toBeGreaterThanOrEqual(59);
  });

  it("keeps one timer for a duration however many deadlines fire and start", async () => {
    const live = new Set<number>();
    let most = 0;
    const hook = createHook({
      init: (id, type) => {
        if (type !== "Timeout") return;
        live.add(id);
        most = Math.max(most, live.size);
      },
      destroy: (id) => void live.delete(id),
    }).enable();
    try {
      // Each deadline, as it fires, starts the next one: the case where a second timer could slip in.
      await new Promise<void>((resolve) => {
        let fired = 0;
        const chain = () => {
          new Deadline(7).addEventListener("abort", () => (++fired < 20 ? chain() : resolve()));
        };
        chain();
      });
      // The timer that fires is still alive while it sets the next one: two at most, never a growing number.
      expect(most).toBeLessThanOrEqual(2);
    } finally {
      hook.disable();
    }
  });

  it("the caller's signal aborts it with the caller's reason, not as a timeout", () => {
    const controller = new AbortController();
    const deadline = new Deadline(10_000, controller.signal);
    controller.abort("stop");
    expect(deadline.reason).toBe("stop");
    expect(deadline.userAborted).toBe(true);
    expect(deadline.timedOut).toBe(false);
    deadline.dispose();
  });

  it("does not hold the process open by itself", () => {
    // The build (`npm test` makes it first), in a process of its own.
    const module = fileURLToPath(new URL("../../dist/client/deadline.js", import.meta.url));
    const started = performance.now();
    const result = spawnSync(process.execPath, ["-e", `import(${JSON.stringify(module)}).then(({ Deadline }) => { new Deadline(20_000); })`], {
      encoding: "utf8",
      timeout: 15_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
