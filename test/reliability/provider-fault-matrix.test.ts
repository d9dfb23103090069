/**
 * The provider's fault matrix: every fault of the local server (plus none and a
 * refused connection) × {normal, break early, abort mid-stream, timeout}. Each case
 * checks the outcome (error class or clean end) and the text against the table in
 * helpers/fault-table.ts, then the warnings (a `reply_still_running` exactly where the reply
 * was left unfinished, a `chat_not_deleted` exactly where a chat stays), the chats left on
 * the server, that the client closed its sockets by itself, that no socket, server or timer
 * (the polling of a reply's end included) is left once the server stopped, and that nothing
 * was rejected unhandled.
 */
import { connect, createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuthError,
  closeIdleConnections,
  ConnectionError,
  OpenAssistant,
  OpenAssistantError,
  ProtocolError,
  RateLimitError,
  ServerBusyError,
  ServerError,
  TimeoutError,
  type Messages,
  type OpenAssistantOptions,
  type OpenAssistantWarning,
} from "../../src/index.js";
import { startEmulator } from "../../src/emulator/index.js";
import { ReplyTokenSource } from "../../src/emulator/reply-text.js";
import { prompterContent } from "../../src/provider/format-prompt.js";
import {
  CONSUMERS,
  FAULT_TABLE,
  MATRIX_EMULATOR,
  TIMINGS,
  LEFT_ON_SITE_TEXT,
  NOT_DELETED_TEXT,
  STILL_RUNNING_TEXT,
  abortsWithoutText,
  chatsProblem,
  faultText,
  textProblem,
  rowOf,
  waitProblem,
  type Consumer,
  type Expectation,
  type FaultRow,
  type MatrixFault,
  type Outcome,
} from "./helpers/fault-table.js";
import {
  collectUnhandled,
  flushUnhandled,
  handleCounts,
  settleHandles,
  settleTracked,
  trackResources,
  trackScope,
  type HandleCounts,
  type ResourceTracker,
} from "./helpers/leak-check.js";
import { failFirst, startFlakyFront } from "./helpers/flaky-front.js";
import { closedPort } from "./helpers/servers.js";
import { startConnectProxy, startSocks5Proxy } from "../helpers/proxy-servers.js";
import { listenLocal, type LocalServer } from "../helpers/local-server.js";

const MODEL = "OA_SFT_Llama_30B_6";
const messages: Messages = [{ role: "user", content: "Fault matrix: tell me something." }];
const PROMPT = prompterContent(messages);
const ENDLESS_TEXT = (() => {
  const source = new ReplyTokenSource(PROMPT);
  return Array.from({ length: 50_000 }, () => source.next()).join("");
})();

const SOCKET_KINDS = ["TCPSocketWrap", "TLSWrap", "TCPServerWrap"];

const unhandled = collectUnhandled();
const tally = { cases: 0, passed: 0, leaks: 0 };
afterAll(() => {
  unhandled.dispose();
  console.log(`provider fault matrix: ${tally.cases} cases run, ${tally.passed} survived, ${tally.leaks} leaks found`);
});

interface CaseResult {
  text: string;
  error: unknown;
  warnings: OpenAssistantWarning[];
  /** The provider saw the reply's final `message` or `error` event (onEvent): the reply was finished. */
  sawEnd: boolean;
  chatsLeft: number | undefined;
  /** Sockets still open while the server was up: the client must close its own. */
  clientSockets: Record<string, number>;
  /** Anything left once the server stopped too. */
  leaked: Record<string, number>;
}

/** One case, with a leak tracker of its own: the cases run at once (each on its own server), and each sees only what it created. */
function runCase(fault: MatrixFault, consumer: Consumer): Promise<CaseResult> {
  return trackScope((tracker) => runTrackedCase(fault, consumer, tracker));
}

/** The bound on a case whose table outcome is not the caller's abort. */
const CASE_CAP_MS = 10_000;

async function runTrackedCase(fault: MatrixFault, consumer: Consumer, tracker: ResourceTracker): Promise<CaseResult> {
  const expected = rowOf(fault).cases[consumer];
  const server = fault === "refused" ? undefined : await startEmulator({ quiet: true, ...MATRIX_EMULATOR, faults: fault === "none" ? [] : [fault] });
  const baseUrl = server?.url ?? `http://127.0.0.1:${await closedPort()}`;
  const warnings: OpenAssistantWarning[] = [];
  const controller = new AbortController();
  let sawEnd = false;
  const options: OpenAssistantOptions = {
    baseUrl,
    cookies: server?.cookies ?? "next-auth.session-token=unused",
    env: {},
    maxRetries: 0,
    timeout: consumer === "timeout" ? TIMINGS.shortTimeoutMs : TIMINGS.normalTimeoutMs,
    // The safety abort where the table expects the caller to end the reply (endless); elsewhere only a bound for the test,
    // far above any outcome's time: cases run at once, and a loaded machine must not turn a slow healthy stream into an abort.
    signal: consumer === "abort" ? controller.signal : AbortSignal.timeout(expected.outcome === "AbortError" ? TIMINGS.safetyAbortMs : CASE_CAP_MS),
    onWarning: (warning) => warnings.push(warning),
    onEvent: (event) => {
      if (event.event_type === "message" || event.event_type === "error") sawEnd = true;
    },
  };
  const fallback =
    consumer === "abort" && abortsWithoutText(fault)
      ? setTimeout(() => controller.abort(new Error("abort consumer: no text yet")), TIMINGS.abortFallbackMs)
      : undefined;
  let text = "";
  let error: unknown;
  try {
    for await (const piece of OpenAssistant.createAsyncGenerator(MODEL, messages, options)) {
      text += piece;
      if (consumer === "break") break;
      if (consumer === "abort") controller.abort(new Error("abort consumer: mid-stream"));
    }
  } catch (caught) {
    error = caught;
  } finally {
    clearTimeout(fallback);
  }
  // The connection kept alive for the next chat is closed once idle: then nothing may stay open.
  const clientSockets = await settleTracked(tracker, { kinds: ["TCPSocketWrap", "TLSWrap"], beforeEachPoll: closeIdleConnections });
  const chatsLeft = server?.liveChats();
  await server?.stop();
  // Sockets and servers get time to close; timers hardly any: a forgotten deadline timer would still be pending.
  const leaked = {
    ...(await settleTracked(tracker, { kinds: SOCKET_KINDS })),
    ...(await settleTracked(tracker, { timeoutMs: 50 })),
  };
  return { text, error, warnings, sawEnd, chatsLeft, clientSockets, leaked };
}

function checkCase(fault: MatrixFault, expected: Expectation, result: CaseResult): void {
  const outcome = result.error === undefined ? "ok" : (result.error as Error).constructor.name;
  const accepted = [expected.outcome, ...(expected.alternative ? [expected.alternative] : [])];
  expect(accepted, `outcome ${outcome}: ${String(result.error)}`).toContain(outcome);
  if (result.error !== undefined) expect(result.error).toBeInstanceOf(OpenAssistantError);
  const textExpected = outcome === expected.alternative && expected.alternativeText ? expected.alternativeText : expected.text;
  expect(textProblem(textExpected, result.text, faultText(fault, PROMPT, MATRIX_EMULATOR.replyTokens), ENDLESS_TEXT)).toBeUndefined();
  // Only these two warnings exist here, the wait's first: it comes before the delete (or the decision to leave the chat).
  expect(result.warnings.map((w) => w.code).filter((code) => code !== "chat_not_deleted" && code !== "reply_still_running")).toEqual([]);
  const stillRunning = result.warnings.filter((w) => w.code === "reply_still_running");
  const notDeleted = result.warnings.filter((w) => w.code === "chat_not_deleted");
  expect(
    waitProblem(
      expected,
      outcome as Outcome,
      stillRunning.map((w) => w.message),
      result.sawEnd,
    ),
  ).toBeUndefined();
  if (fault !== "refused")
    expect(
      chatsProblem(
        expected,
        result.chatsLeft ?? 0,
        notDeleted.map((w) => w.message),
      ),
    ).toBeUndefined();
  for (const warning of stillRunning) {
    expect(warning.message).toMatch(STILL_RUNNING_TEXT);
    expect(warning.chatId).toBe(STILL_RUNNING_TEXT.exec(warning.message)?.[1]);
  }
  for (const warning of notDeleted) {
    expect(warning.message).toMatch(expected.neverEnds ? LEFT_ON_SITE_TEXT : NOT_DELETED_TEXT);
    if (stillRunning.length) {
      expect(warning.chatId).toBe(stillRunning[0]!.chatId);
      expect(result.warnings.indexOf(warning)).toBeGreaterThan(result.warnings.indexOf(stillRunning[0]!));
    }
  }
  expect(result.clientSockets, "sockets the client left open").toEqual({});
  expect(result.leaked, "handles left after the server stopped").toEqual({});
}

describe("the leak checks themselves", () => {
  it("see a socket the client keeps open, a listening server and a pending timer", async () => {
    const tracker = trackResources();
    const server = await startEmulator({ quiet: true });
    const socket = connect(Number(new URL(server.url).port), "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    const timer = setTimeout(() => {}, 10_000);
    const open = await settleTracked(tracker, { timeoutMs: 100 });
    expect(open).toEqual({ TCPServerWrap: 1, Timeout: 1, TCPSocketWrap: 2 }); // both ends of the socket live in this process
    clearTimeout(timer);
    socket.destroy();
    await server.stop();
    expect(await settleTracked(tracker)).toEqual({});
    tracker.stop();
  });

  it("a scoped tracker sees what its own code opened, and nothing that runs beside it", async () => {
    let release = () => {};
    const beside = trackScope(async (tracker) => {
      const timer = setTimeout(() => {}, 10_000);
      await new Promise<void>((resolve) => (release = resolve));
      const open = tracker.open();
      clearTimeout(timer);
      return open;
    });
    const own = await trackScope(async (tracker) => {
      const server = await startEmulator({ quiet: true });
      const socket = connect(Number(new URL(server.url).port), "127.0.0.1");
      await new Promise((resolve) => socket.once("connect", resolve));
      const open = await settleTracked(tracker, { timeoutMs: 100 });
      socket.destroy();
      await server.stop();
      return { open, after: await settleTracked(tracker) };
    });
    release();
    expect(own.open).toEqual({ TCPServerWrap: 1, TCPSocketWrap: 2 });
    expect(own.after).toEqual({});
    expect(await beside).toEqual({ Timeout: 1 });
  });
});

/**
 * The cases run at once, but these one by one, after the others: a 17 MiB line holds the process's
 * event loop long enough to turn the other cases' short timeouts into failures, and a stream written
 * one byte per write, on a busy event loop, would take its final event past the timeout.
 */
const ALONE_FAULTS: ReadonlySet<MatrixFault> = new Set(["byte-chunks", "oversized-line"]);

// The cases below run at once, each with its own servers and its own leak tracker; the process as a whole
// (its active handles, as it reports them) is compared with the count before them once all ended (the last test).
let baseline: HandleCounts;
beforeAll(() => {
  baseline = handleCounts();
});

function matrixCase(row: FaultRow, consumer: Consumer): void {
  const expected = row.cases[consumer];
  const label = expected.alternative ? `${expected.outcome} or ${expected.alternative}` : expected.outcome;
  it(`${row.fault} × ${consumer} → ${label}`, async () => {
    tally.cases++;
    const result = await runCase(row.fault, consumer);
    await flushUnhandled();
    if (Object.keys(result.clientSockets).length || Object.keys(result.leaked).length) tally.leaks++;
    checkCase(row.fault, expected, result);
    expect(unhandled.rejections).toEqual([]);
    expect(unhandled.exceptions).toEqual([]);
    tally.passed++;
  });
}

describe.concurrent("provider fault matrix", () => {
  for (const row of FAULT_TABLE.filter((r) => !ALONE_FAULTS.has(r.fault))) for (const consumer of CONSUMERS) matrixCase(row, consumer);
});

describe("provider fault matrix", () => {
  for (const row of FAULT_TABLE.filter((r) => ALONE_FAULTS.has(r.fault))) for (const consumer of CONSUMERS) matrixCase(row, consumer);
});

describe.concurrent("an error status on the event stream request keeps its error class", () => {
  const STATUSES = [
    [403, "", AuthError],
    [429, '{"message":"Too Many Requests"}', RateLimitError],
    [503, '{"message":"The server is currently busy. Please try again later."}', ServerBusyError],
    [500, "Internal Server Error", ServerError],
    [502, "Bad Gateway", ConnectionError],
    [302, "", ProtocolError],
  ] as const;

  /**
   * The reply was queued when its events request failed, and nobody reads it: the emulator's worker
   * marks such a reply complete after a second, and only then may its chat go. So the six statuses
   * run at once (a second in all, not six), each on its own server, under one leak tracker.
   */
  it("HTTP 403, 429, 503, 500, 502, 302 → their classes; each chat deleted once the server finished its reply; nothing left open", async () => {
    tally.cases += STATUSES.length;
    await trackScope(async (tracker) => {
      const results = await Promise.all(
        STATUSES.map(async ([status, body, type]) => {
          const server = await startEmulator({ quiet: true, ...MATRIX_EMULATOR });
          const headers: Record<string, string> = status === 302 ? { location: "http://elsewhere.example/" } : {};
          const front = await startFlakyFront(server.url, failFirst("/api/chat/events", 1, { status, body, headers }));
          const warnings: OpenAssistantWarning[] = [];
          const error = await OpenAssistant.createAsync(MODEL, messages, {
            baseUrl: front.url,
            cookies: server.cookies,
            env: {},
            maxRetries: 0,
            onWarning: (warning) => warnings.push(warning),
          }).catch((e: unknown) => e);
          const chatsLeft = server.liveChats();
          await front.close();
          await server.stop();
          return { status, type, error, warnings, chatsLeft };
        }),
      );
      for (const { status, type, error, warnings, chatsLeft } of results) {
        expect(error, `HTTP ${status}`).toBeInstanceOf(type);
        expect((error as OpenAssistantError).status, `HTTP ${status}`).toBe(status);
        // The reply was left unfinished: the delete waited for its end (one warning says so), then ran.
        expect(
          warnings.map((w) => w.code),
          `HTTP ${status}`,
        ).toEqual(["reply_still_running"]);
        expect(chatsLeft, `HTTP ${status}`).toBe(0);
      }
      expect(await settleTracked(tracker)).toEqual({});
    });
    tally.passed += STATUSES.length;
  });
});

describe.concurrent("proxy faults: the chat ends within its timeout and leaves nothing open", () => {
  /** A proxy that accepts the connection and never says a word. */
  function silentProxy(): Promise<LocalServer> {
    return listenLocal(createServer((socket) => socket.on("error", () => {})));
  }

  it.each([
    ["an HTTP proxy that never answers CONNECT", "http", "silent", TimeoutError],
    ["a SOCKS5 proxy that never answers", "socks5h", "silent", TimeoutError],
    ["an HTTP proxy refusing the password (407)", "http", "wrong-password", ConnectionError],
    ["a SOCKS5 proxy refusing the password", "socks5h", "wrong-password", ConnectionError],
    ["an HTTP proxy that is not listening", "http", "closed", ConnectionError],
  ] as const)("%s", async (_name, scheme, kind, type) => {
    tally.cases++;
    await trackScope(async (tracker) => {
      const server = await startEmulator({ quiet: true, ...MATRIX_EMULATOR });
      let proxyHostPort: string;
      let close = async () => {};
      if (kind === "silent") {
        const silent = await silentProxy();
        proxyHostPort = `u:p@127.0.0.1:${silent.port}`;
        close = silent.close;
      } else if (kind === "wrong-password") {
        const proxy = scheme === "http" ? await startConnectProxy("u:right") : await startSocks5Proxy("u:right");
        proxyHostPort = `u:wrong@127.0.0.1:${new URL(proxy.url).port}`;
        close = proxy.close;
      } else {
        proxyHostPort = `127.0.0.1:${await closedPort()}`;
      }
      const started = performance.now();
      const error = await OpenAssistant.createAsync(MODEL, messages, {
        baseUrl: server.url,
        cookies: server.cookies,
        env: {},
        proxy: `${scheme}://${proxyHostPort}`,
        timeout: TIMINGS.shortTimeoutMs,
      }).catch((e: unknown) => e);
      // The whole call, its pool's close included, ends within a few timeouts: nothing waits for undici's 300 s default.
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(error).toBeInstanceOf(type);
      expect(server.liveChats()).toBe(0);
      await close();
      await server.stop();
      expect(await settleTracked(tracker)).toEqual({});
    });
    tally.passed++;
  });
});

describe("the process, once every case above ended", () => {
  it("holds no more sockets, servers, timers or child processes than before them", async () => {
    expect(await settleHandles(baseline), "handles the process holds over the count before the cases").toEqual({});
  });
});
