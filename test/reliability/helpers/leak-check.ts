/**
 * Leak checks for the reliability tests: the process's active handles (sockets,
 * servers, ref'd timers) compared with a baseline, a tracker of the handles created
 * during a case, and a collector of unhandled rejections and uncaught exceptions.
 */
import { AsyncLocalStorage, createHook, type AsyncHook } from "node:async_hooks";

/** Resource kinds that betray a leak: open sockets, listening servers, ref'd timers, child processes. */
const WATCHED: ReadonlySet<string> = new Set(["TCPSocketWrap", "TCPServerWrap", "TLSWrap", "PipeWrap", "Timeout", "ProcessWrap", "UDPWrap"]);

export type HandleCounts = Record<string, number>;

/** How many of each watched resource the process holds now (`process.getActiveResourcesInfo()`; unref'd timers are not listed). */
export function handleCounts(): HandleCounts {
  const counts: HandleCounts = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (WATCHED.has(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/** The kinds (optionally only `kinds`) of which `now` holds more than `baseline`, with the excess. */
export function excessOver(baseline: HandleCounts, now: HandleCounts = handleCounts(), kinds?: readonly string[]): HandleCounts {
  const excess: HandleCounts = {};
  for (const [kind, count] of Object.entries(now)) {
    if (kinds && !kinds.includes(kind)) continue;
    const extra = count - (baseline[kind] ?? 0);
    if (extra > 0) excess[kind] = extra;
  }
  return excess;
}

/**
 * Wait (polling every 10 ms, at most `timeoutMs`) until no watched kind exceeds the
 * baseline: sockets take a turn or two of the event loop to close. Returns what is
 * still in excess then (`{}` when nothing leaked).
 */
export async function settleHandles(baseline: HandleCounts, options: { timeoutMs?: number; kinds?: readonly string[] } = {}): Promise<HandleCounts> {
  const deadline = Date.now() + (options.timeoutMs ?? 2_000);
  for (;;) {
    // Measured right after the poll timer fired, so the poll's own timer is not counted.
    const excess = excessOver(baseline, handleCounts(), options.kinds);
    if (Object.keys(excess).length === 0 || Date.now() > deadline) return excess;
    await pause(10);
  }
}

/** The checks' own poll timers, which the tracker must not count. */
const pollTimers = new WeakSet<object>();

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => pollTimers.add(setTimeout(resolve, ms)));
}

/** async_hooks resource types → the names getActiveResourcesInfo uses. */
const TRACKED_TYPES: Readonly<Record<string, string>> = {
  Timeout: "Timeout",
  TCPWRAP: "TCPSocketWrap",
  TCPSERVERWRAP: "TCPServerWrap",
  TLSWRAP: "TLSWrap",
  PIPEWRAP: "PipeWrap",
  PROCESSWRAP: "ProcessWrap",
};

export interface ResourceTracker {
  /** Handles created since `trackResources()` that are still open (timers: still pending and ref'd), by kind. */
  open(): HandleCounts;
  stop(): void;
}

/**
 * Track every socket, server, child process and timer created from now on (async_hooks
 * init/destroy). Unlike counts against a baseline, a leak cannot hide behind an
 * unrelated handle that closed meanwhile (a test runner's own timer, say).
 */
export function trackResources(): ResourceTracker {
  const live = new Map<number, { kind: string; resource: object }>();
  const hook = createHook({
    init(asyncId, type, _triggerAsyncId, resource) {
      const kind = TRACKED_TYPES[type];
      if (kind) live.set(asyncId, { kind, resource });
    },
    destroy(asyncId) {
      live.delete(asyncId);
    },
  }).enable();
  return {
    open: () => openCounts(live),
    stop() {
      hook.disable();
      live.clear();
    },
  };
}

/** The scoped tracker a piece of code runs under (see `trackScope`). */
const scopes = new AsyncLocalStorage<Map<number, { kind: string; resource: object }>>();
/** Which scoped tracker holds each tracked resource, for its destroy. */
const scopedOwners = new Map<number, Map<number, { kind: string; resource: object }>>();
let scopedHook: AsyncHook | undefined;
let scopedTrackers = 0;

function openCounts(live: Map<number, { kind: string; resource: object }>): HandleCounts {
  const counts: HandleCounts = {};
  for (const { kind, resource } of live.values()) {
    if (pollTimers.has(resource)) continue;
    // An unref'd timer does not hold the process (undici's own clock is one).
    if (kind === "Timeout" && (resource as { hasRef?: () => boolean }).hasRef?.() === false) continue;
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/**
 * Run `task` with a tracker of the sockets, servers, child processes and timers it creates:
 * those created in its own asynchronous context (AsyncLocalStorage), whatever runs beside it.
 * So cases can run at once (describe.concurrent), each with a leak check of its own: a resource
 * created by the code a case started (its servers, their connections, the client's sockets and
 * timers) belongs to that case, one created by another case or by the test runner does not.
 */
export async function trackScope<T>(task: (tracker: ResourceTracker) => Promise<T>): Promise<T> {
  const live = new Map<number, { kind: string; resource: object }>();
  scopedHook ??= createHook({
    init(asyncId, type, triggerAsyncId, resource) {
      const kind = TRACKED_TYPES[type];
      // A server's accepted connection is made outside any JavaScript context: it belongs to its server's scope.
      const owner = kind ? (scopes.getStore() ?? scopedOwners.get(triggerAsyncId)) : undefined;
      if (!kind || !owner) return;
      owner.set(asyncId, { kind, resource });
      scopedOwners.set(asyncId, owner);
    },
    destroy(asyncId) {
      scopedOwners.get(asyncId)?.delete(asyncId);
      scopedOwners.delete(asyncId);
    },
  });
  if (scopedTrackers++ === 0) scopedHook.enable();
  let stopped = false;
  const tracker: ResourceTracker = {
    open: () => openCounts(live),
    stop() {
      if (stopped) return;
      stopped = true;
      for (const asyncId of live.keys()) scopedOwners.delete(asyncId);
      live.clear();
      if (--scopedTrackers === 0) scopedHook?.disable();
    },
  };
  try {
    return await scopes.run(live, () => task(tracker));
  } finally {
    tracker.stop();
  }
}

/**
 * Poll `tracker.open()` (every 10 ms, at most `timeoutMs`) until it is empty for `kinds` (default all); returns what is left.
 * `beforeEachPoll` runs before every look, e.g. to close keep-alive connections that went idle since the last one.
 */
export async function settleTracked(
  tracker: ResourceTracker,
  options: { timeoutMs?: number; kinds?: readonly string[]; beforeEachPoll?: () => void } = {},
): Promise<HandleCounts> {
  const deadline = Date.now() + (options.timeoutMs ?? 2_000);
  for (;;) {
    options.beforeEachPoll?.();
    const open = excessOver({}, tracker.open(), options.kinds);
    if (Object.keys(open).length === 0 || Date.now() > deadline) return open;
    await pause(10);
  }
}

export interface UnhandledCollector {
  rejections: unknown[];
  exceptions: unknown[];
  dispose(): void;
}

/** Collect `unhandledRejection` and `uncaughtException` events from now on (in addition to vitest's own reporting). */
export function collectUnhandled(): UnhandledCollector {
  const rejections: unknown[] = [];
  const exceptions: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  const onException = (error: unknown) => exceptions.push(error);
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);
  return {
    rejections,
    exceptions,
    dispose() {
      process.off("unhandledRejection", onRejection);
      process.off("uncaughtException", onException);
    },
  };
}

/** Give pending promise rejections a chance to be reported as unhandled. */
export async function flushUnhandled(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}
