/** Request deadlines: each fires on its own time, refresh() postpones it, dispose() stops it, and the caller's signal wins. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Deadline } from "../../src/client/deadline.js";

/** When the deadline fired, in fake ms since the test began (undefined while it has not). */
function watch(deadline: Deadline): { at: number | undefined } {
  const seen: { at: number | undefined } = { at: undefined };
  deadline.addEventListener("abort", () => (seen.at = Date.now()));
  return seen;
}

describe("Deadline", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("fires after its time, as a timeout", () => {
    const deadline = new Deadline(40);
    const seen = watch(deadline);
    vi.advanceTimersByTime(39);
    expect(deadline.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(seen.at).toBe(40);
    expect(deadline.timedOut).toBe(true);
    expect(deadline.userAborted).toBe(false);
    expect(String(deadline.reason)).toMatch(/timeout after 40 ms/);
    expect(deadline.signal.aborted).toBe(true);
  });

  it("deadlines of one duration started apart each fire on their own time", () => {
    const first = watch(new Deadline(60));
    vi.advanceTimersByTime(30);
    const second = watch(new Deadline(60));
    vi.advanceTimersByTime(100);
    expect(first.at).toBe(60);
    expect(second.at).toBe(90);
  });

  it("refresh() starts its time again; dispose() stops it", () => {
    const refreshed = new Deadline(50);
    const disposed = new Deadline(50);
    const seenRefreshed = watch(refreshed);
    const seenDisposed = watch(disposed);
    vi.advanceTimersByTime(35);
    refreshed.refresh();
    disposed.dispose();
    vi.advanceTimersByTime(49);
    expect(seenRefreshed.at).toBeUndefined();
    vi.advanceTimersByTime(100);
    expect(seenRefreshed.at).toBe(85);
    expect(seenDisposed.at).toBeUndefined();
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
});

it("does not hold the process open by itself", () => {
  // The build (`npm test` makes it first), in a process of its own.
  const module = fileURLToPath(new URL("../../dist/client/deadline.js", import.meta.url));
  const result = spawnSync(process.execPath, ["-e", `import(${JSON.stringify(module)}).then(({ Deadline }) => { new Deadline(20_000); })`], {
    encoding: "utf8",
    timeout: 10_000,
  });
  expect(result.status, result.stderr).toBe(0);
});
