/**
 * The gateway's fault matrix: the OpenAI-compatible gateway (serveGateway, real HTTP)
 * in front of every fault of the local server, with the provider's outcomes of
 * helpers/fault-table.ts mapped onto what an OpenAI client sees. Consumers:
 * - normal: `stream: false`, the gateway's timeout lowered to 1 s; the client bounds
 *   an endless reply with its own AbortSignal (1.5 s);
 * - break: the official `openai` client, `stream: true`, `break` at the first content;
 * - abort: fetch with `stream: true`, its AbortSignal fired at the first content (or
 *   400 ms after the gateway's first upstream request when no text comes);
 * - timeout: `stream: false`, the gateway's timeout 800 ms.
 * After each case: the answer (status and OpenAI error code, or the text); then, since the
 * gateway answers before its chat's delete and a reply left early is deleted only once the
 * server finished it, the chats left and the warnings once they settled (a
 * `reply_still_running` exactly where a reply was left unfinished); no socket left between client, gateway and server once the client's pool
 * closed, nothing at all once all stopped, no unhandled rejection, no gateway defect
 * logged, and no planted secret (cookie, API key) in any answer or log line.
 */
import { Agent, fetch as undiciFetch } from "undici";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from "vitest";
import { closeIdleConnections, type OpenAssistantWarning } from "../../src/index.js";
import { startEmulator, type Emulator, type Fault } from "../../src/emulator/index.js";
import { serveGateway, type ServedGateway } from "../../src/gateway/index.js";
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
  waitProblem,
  type Consumer,
  type Expectation,
  type FaultRow,
  type MatrixFault,
  type Outcome,
  type TextExpectation,
} from "./helpers/fault-table.js";
import { collectUnhandled, flushUnhandled, settleTracked, trackScope, type ResourceTracker } from "./helpers/leak-check.js";
import { plantSecrets, SecretScanner } from "./helpers/secrets.js";
import { closedPort } from "./helpers/servers.js";

const MODEL = "OA_SFT_Llama_30B_6";
const MESSAGES = [{ role: "user" as const, content: "Gateway fault matrix: tell me something." }];
const PROMPT = prompterContent(MESSAGES);
const ENDLESS_TEXT = (() => {
  const source = new ReplyTokenSource(PROMPT);
  return Array.from({ length: 50_000 }, () => source.next()).join("");
})();
const secrets = plantSecrets();
const scanner = new SecretScanner(secrets);

/** What an OpenAI client sees. */
type Seen =
  | { kind: "ok" }
  /** An HTTP error answer with OpenAI's error code. */
  | { kind: "status"; status: number; code: string | null }
  /** A 200 stream that ended with an error chunk. */
  | { kind: "chunk-error"; code: string | null }
  /** The client's own abort. */
  | { kind: "client-abort" };

/** The provider's error classes as the gateway answers them (toGatewayError, docs/gateway.md "Errors"). */
const ANSWER: Record<Exclude<Outcome, "ok" | "AbortError">, { status: number; code: string }> = {
  AuthError: { status: 401, code: "upstream_auth_failed" },
  RateLimitError: { status: 429, code: "rate_limit_exceeded" },
  ServerBusyError: { status: 503, code: "server_busy" },
  ServerError: { status: 502, code: "upstream_server" },
  StreamError: { status: 502, code: "upstream_stream" },
  ProtocolError: { status: 502, code: "upstream_protocol" },
  ConnectionError: { status: 502, code: "upstream_connection" },
  TimeoutError: { status: 504, code: "upstream_timeout" },
};

/** Faults whose failure comes after the reply's first event (a `pending`): the 200 status line is out, the error is a last chunk. */
const FAILS_AFTER_FIRST_EVENT: ReadonlySet<MatrixFault> = new Set(["error-first"]);

function expectedSeen(fault: MatrixFault, consumer: Consumer, outcome: Outcome): Seen {
  if (outcome === "ok") return { kind: "ok" };
  if (outcome === "AbortError") return { kind: "client-abort" };
  const { status, code } = ANSWER[outcome];
  const streamed = consumer === "break" || consumer === "abort";
  // A text row's failure after text never reaches a consumer that stopped at the first text; without streaming it is a status.
  if (streamed && FAILS_AFTER_FIRST_EVENT.has(fault)) return { kind: "chunk-error", code };
  return { kind: "status", status, code };
}

/** The provider's outcome behind what the client saw. */
function outcomeOf(seen: Seen): Outcome {
  if (seen.kind === "ok") return "ok";
  if (seen.kind === "client-abort") return "AbortError";
  const entry = Object.entries(ANSWER).find(([, answer]) => answer.code === seen.code);
  return (entry?.[0] ?? "ok") as Outcome;
}

function describeSeen(seen: Seen): string {
  switch (seen.kind) {
    case "ok":
      return "200";
    case "status":
      return `${seen.status} ${seen.code}`;
    case "chunk-error":
      return `200 + error chunk ${seen.code}`;
    case "client-abort":
      return "client abort";
  }
}

interface CaseResult {
  seen: Seen;
  text: string;
  chatsLeft: number | undefined;
  warnings: OpenAssistantWarning[];
  /** The provider inside the gateway saw the reply's final `message` or `error` event. */
  sawEnd: boolean;
  sockets: Record<string, number>;
  leaked: Record<string, number>;
}

function errorCode(body: unknown): string | null {
  return ((body as { error?: { code?: string | null } } | undefined)?.error?.code ?? null) as string | null;
}

/**
 * The client's cap on a non-streamed answer: the safety abort where the table expects the caller to
 * end the reply (endless), else only a bound for the test. An error answer comes after the wait for a
 * left reply's end (up to the gateway's timeout again: hang → 504 after 1 s + 1 s).
 */
const ANSWER_CAP_MS = 10_000;

/** One case, with a leak tracker of its own: the cases run at once (each with its own server and gateway), and each sees only what it created. */
function runCase(fault: MatrixFault, consumer: Consumer, expectation: Expectation): Promise<CaseResult> {
  return trackScope((tracker) => runTrackedCase(fault, consumer, expectation, tracker));
}

async function runTrackedCase(fault: MatrixFault, consumer: Consumer, expectation: Expectation, tracker: ResourceTracker): Promise<CaseResult> {
  let server: Emulator | undefined;
  let gateway: ServedGateway | undefined;
  const agent = new Agent();
  const warnings: OpenAssistantWarning[] = [];
  let sawEnd = false;
  try {
    if (fault !== "refused") {
      server = await startEmulator({ quiet: true, ...MATRIX_EMULATOR, sessionToken: secrets.cookie, faults: fault === "none" ? [] : [fault as Fault] });
    }
    gateway = await serveGateway({
      port: 0,
      baseUrl: server?.url ?? `http://127.0.0.1:${await closedPort()}`,
      cookies: `next-auth.session-token=${secrets.cookie}`,
      apiKey: secrets.apiKey,
      env: {},
      maxRetries: 0,
      timeout: consumer === "timeout" ? TIMINGS.shortTimeoutMs : TIMINGS.normalTimeoutMs,
      onWarning: (warning) => warnings.push(warning),
      onEvent: (event) => {
        if (event.event_type === "message" || event.event_type === "error") sawEnd = true;
      },
    });
    const fetch = ((url: string, init: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher: agent })) as unknown as typeof globalThis.fetch;
    const url = `${gateway.url}/v1/chat/completions`;
    const headers = { "content-type": "application/json", authorization: `Bearer ${secrets.apiKey}` };
    let seen: Seen;
    let text = "";

    if (consumer === "normal" || consumer === "timeout") {
      const response = await fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify({ model: MODEL, messages: MESSAGES }),
        signal: AbortSignal.timeout(expectation.outcome === "AbortError" ? TIMINGS.safetyAbortMs : ANSWER_CAP_MS),
      }).catch((error: unknown) => error as Error);
      if (response instanceof Error) {
        seen = { kind: "client-abort" };
      } else {
        const raw = await response.text().catch(() => "");
        scanner.scan(`gateway ${fault} × ${consumer} answer`, `${[...response.headers].join("\n")}\n${raw}`);
        const body = JSON.parse(raw || "null") as { choices?: Array<{ message: { content: string } }> } | null;
        if (response.status === 200) {
          seen = { kind: "ok" };
          text = body?.choices?.[0]?.message.content ?? "";
        } else {
          seen = { kind: "status", status: response.status, code: errorCode(body) };
        }
      }
    } else if (consumer === "break") {
      const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: secrets.apiKey, maxRetries: 0, fetch });
      try {
        const stream = await openai.chat.completions.create({ model: MODEL, messages: MESSAGES, stream: true });
        seen = { kind: "ok" };
        for await (const chunk of stream) {
          const content = chunk.choices[0]?.delta.content;
          if (content) {
            text += content;
            break;
          }
        }
      } catch (error) {
        const apiError = error as { status?: number; code?: string | null; message?: string };
        scanner.scan(`gateway ${fault} × break error`, `${String(error)} ${apiError.message ?? ""}`);
        seen = apiError.status
          ? { kind: "status", status: apiError.status, code: apiError.code ?? null }
          : { kind: "chunk-error", code: apiError.code ?? null };
      }
    } else {
      const controller = new AbortController();
      const timers: NodeJS.Timeout[] = [];
      if (server && abortsWithoutText(fault)) {
        const upstream = server;
        const poll = setInterval(() => {
          if (upstream.requests.length === 0) return;
          clearInterval(poll);
          timers.push(setTimeout(() => controller.abort(), TIMINGS.abortFallbackMs));
        }, 5);
        timers.push(poll);
      }
      try {
        const response = await fetch(url, {
          method: "POST",
          headers,
          body: JSON.stringify({ model: MODEL, messages: MESSAGES, stream: true }),
          signal: controller.signal,
        });
        const raw = response.status === 200 ? "" : await response.text();
        if (response.status !== 200) {
          scanner.scan(`gateway ${fault} × abort answer`, raw);
          seen = { kind: "status", status: response.status, code: errorCode(JSON.parse(raw)) };
        } else {
          seen = { kind: "ok" };
          const decoder = new TextDecoder();
          let buffer = "";
          for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
            buffer += decoder.decode(bytes, { stream: true });
            let end: number;
            while ((end = buffer.indexOf("\n\n")) >= 0) {
              const frame = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              scanner.scan(`gateway ${fault} × abort frame`, frame);
              if (!frame.startsWith("data: ") || frame === "data: [DONE]") continue;
              const data = JSON.parse(frame.slice(6)) as { error?: { code: string | null }; choices?: Array<{ delta: { content?: string } }> };
              if (data.error) seen = { kind: "chunk-error", code: data.error.code };
              const content = data.choices?.[0]?.delta.content;
              if (content) {
                text += content;
                controller.abort();
              }
            }
          }
        }
      } catch {
        seen = { kind: "client-abort" };
      } finally {
        timers.forEach(clearTimeout);
      }
    }
    // The answer came before the chat's delete, which for a reply left early waits for the reply's end
    // (at most the gateway's timeout): wait until the chats and warnings are as expected (checked below).
    const upstream = server;
    const outcome = outcomeOf(seen);
    await vi
      .waitFor(
        () => {
          const notDeleted = warnings.filter((w) => w.code === "chat_not_deleted").map((w) => w.message);
          const stillRunning = warnings.filter((w) => w.code === "reply_still_running").map((w) => w.message);
          if (upstream && chatsProblem(expectation, upstream.liveChats(), notDeleted)) throw new Error("chats not settled");
          if (waitProblem(expectation, outcome, stillRunning, sawEnd)) throw new Error("warnings not settled");
        },
        // Settled in a few ms on a quiet machine; the bound only matters when the cases' work piles up.
        { timeout: 10_000, interval: 20 },
      )
      .catch(() => {});
    // The client's pool goes first; the gateway's upstream connection, kept alive for the next
    // reply, is closed once idle: then nothing may stay open between client, gateway and server.
    await agent.close();
    const sockets = await settleTracked(tracker, { kinds: ["TCPSocketWrap", "TLSWrap"], beforeEachPoll: closeIdleConnections });
    const chatsLeft = server?.liveChats();
    await gateway.close();
    gateway = undefined;
    await server?.stop();
    server = undefined;
    const leaked = {
      ...(await settleTracked(tracker, { kinds: ["TCPSocketWrap", "TCPServerWrap", "TLSWrap"] })),
      ...(await settleTracked(tracker, { timeoutMs: 50 })),
    };
    return { seen, text, chatsLeft, warnings, sawEnd, sockets, leaked };
  } finally {
    await agent.close().catch(() => {});
    await gateway?.close();
    await server?.stop();
  }
}

const unhandled = collectUnhandled();
const tally = { cases: 0, passed: 0, leaks: 0 };
let consoleSpy: MockInstance<typeof console.error>;
let warnSpy: MockInstance<typeof console.warn>;
beforeAll(() => {
  consoleSpy = vi.spyOn(console, "error");
  warnSpy = vi.spyOn(console, "warn");
});
afterAll(() => {
  unhandled.dispose();
  consoleSpy.mockRestore();
  warnSpy.mockRestore();
  console.log(
    `gateway fault matrix: ${tally.cases} cases run, ${tally.passed} survived, ${tally.leaks} leaks found; ` +
      `${scanner.outputsSearched} answers searched for secrets, ${scanner.leaks.length} found`,
  );
});

/**
 * The cases run at once, but these one by one, after the others: a 17 MiB line holds the process's
 * event loop long enough to turn the other cases' short timeouts into failures, and a stream written
 * one byte per write, on a busy event loop, would take its final event past the timeout.
 */
const ALONE_FAULTS: ReadonlySet<MatrixFault> = new Set(["byte-chunks", "oversized-line"]);

function matrixCase(row: FaultRow, consumer: Consumer): void {
  const expectation = row.cases[consumer];
  const accepted = [expectation.outcome, ...(expectation.alternative ? [expectation.alternative] : [])].map((o) => expectedSeen(row.fault, consumer, o));
  it(`${row.fault} × ${consumer} → ${accepted.map(describeSeen).join(" or ")}`, async () => {
    tally.cases++;
    const result = await runCase(row.fault, consumer, expectation);
    await flushUnhandled();
    if (Object.keys(result.sockets).length || Object.keys(result.leaked).length) tally.leaks++;
    expect(accepted).toContainEqual(result.seen);
    // Without streaming, the text comes whole or not at all.
    const expectedText: TextExpectation = (consumer === "normal" || consumer === "timeout") && result.seen.kind !== "ok" ? "empty" : expectation.text;
    expect(textProblem(expectedText, result.text, faultText(row.fault, PROMPT, MATRIX_EMULATOR.replyTokens), ENDLESS_TEXT)).toBeUndefined();
    expect(result.warnings.map((w) => w.code).filter((code) => code !== "chat_not_deleted" && code !== "reply_still_running")).toEqual([]);
    const notDeleted = result.warnings.filter((w) => w.code === "chat_not_deleted").map((w) => w.message);
    const stillRunning = result.warnings.filter((w) => w.code === "reply_still_running").map((w) => w.message);
    if (row.fault !== "refused") expect(chatsProblem(expectation, result.chatsLeft ?? 0, notDeleted)).toBeUndefined();
    expect(waitProblem(expectation, outcomeOf(result.seen), stillRunning, result.sawEnd)).toBeUndefined();
    for (const message of stillRunning) expect(message).toMatch(STILL_RUNNING_TEXT);
    for (const message of notDeleted) expect(message).toMatch(expectation.neverEnds ? LEFT_ON_SITE_TEXT : NOT_DELETED_TEXT);
    expect(result.sockets, "sockets left open once the client closed its pool").toEqual({});
    expect(result.leaked, "handles left after everything stopped").toEqual({});
    expect(unhandled.rejections).toEqual([]);
    // A 500 with internal_error is a gateway defect, logged on stderr: none may happen.
    const logged = consoleSpy.mock.calls.map((args) => args.map(String).join(" "));
    for (const line of [...logged, ...warnSpy.mock.calls.map((args) => args.map(String).join(" "))]) scanner.scan(`gateway ${row.fault} log`, line);
    expect(logged.filter((line) => line.startsWith("oasst gateway:"))).toEqual([]);
    expect(scanner.leaks).toEqual([]);
    tally.passed++;
  });
}

// The cases run at once, each with its own emulator, gateway, client pool and leak tracker.
describe.concurrent("gateway fault matrix", () => {
  for (const row of FAULT_TABLE.filter((r) => !ALONE_FAULTS.has(r.fault))) for (const consumer of CONSUMERS) matrixCase(row, consumer);
});

describe("gateway fault matrix", () => {
  for (const row of FAULT_TABLE.filter((r) => ALONE_FAULTS.has(r.fault))) for (const consumer of CONSUMERS) matrixCase(row, consumer);
});
