/**
 * The fault matrix: every fault of the local server (plus "none" and a refused
 * connection) × four consumers, with the outcome the provider must give. The CLI and
 * gateway matrices map the same outcomes onto exit codes and HTTP answers, so the
 * three layers are held to one table (docs/reliability.md prints it with the reasons).
 */
import { FAULT_NAMES, type Fault } from "../../../src/emulator/emulator.js";
import { replyTokens } from "../../../src/emulator/reply-text.js";

export type MatrixFault = Fault | "none" | "refused";

export const MATRIX_FAULTS: readonly MatrixFault[] = ["none", "refused", ...FAULT_NAMES];

/**
 * - normal: reads to the end; the 60 s default timeout lowered (see TIMINGS) so a silent server fails fast.
 * - break: leaves the loop after the first piece of text.
 * - abort: fires its AbortSignal after the first piece of text (or, when no text comes, after TIMINGS.abortFallbackMs).
 * - timeout: reads to the end with a timeout far below the normal one.
 */
export type Consumer = "normal" | "break" | "abort" | "timeout";
export const CONSUMERS: readonly Consumer[] = ["normal", "break", "abort", "timeout"];

export type ErrorName =
  | "AuthError"
  | "RateLimitError"
  | "ServerBusyError"
  | "ServerError"
  | "StreamError"
  | "ProtocolError"
  | "TimeoutError"
  | "ConnectionError"
  | "AbortError";

export type Outcome = "ok" | ErrorName;

/**
 * The text the consumer got before the end:
 * exact = the server's whole reply; prefix = a non-empty beginning of it; empty = nothing;
 * some = non-empty (an endless stream has no whole reply to compare with); upTo = a
 * beginning of it, possibly empty, possibly all of it.
 */
export type TextExpectation = "exact" | "prefix" | "empty" | "some" | "upTo";

export interface Expectation {
  outcome: Outcome;
  /** Another outcome that is right too, when the order of two events is a genuine race (see `why`). */
  alternative?: Outcome;
  /** The text with the alternative outcome, when it differs. */
  alternativeText?: TextExpectation;
  text: TextExpectation;
  /** Chats the server still holds after the case. */
  chatsLeft: number;
  /** A `chat_not_deleted` warning is reported. */
  warning: boolean;
}

export interface FaultRow {
  fault: MatrixFault;
  cases: Record<Consumer, Expectation>;
  /** Why these outcomes are the right ones (printed in docs/reliability.md). */
  why: string;
}

/** Emulator settings and consumer timings of the matrix: small, so the matrix takes seconds. */
export const TIMINGS = {
  /** The normal consumer's timeout (the 60 s default, lowered so that hang and slow-headers end). */
  normalTimeoutMs: 1_000,
  /** The timeout consumer's timeout. */
  shortTimeoutMs: 500,
  /** When no text has come by then, the abort consumer fires anyway (hang, slow-headers). */
  abortFallbackMs: 400,
  /** The normal, break and timeout consumers also pass AbortSignal.timeout(this): only an endless stream reaches it. */
  safetyAbortMs: 2_000,
} as const;

export const MATRIX_EMULATOR = { replyTokens: 8, tokenDelayMs: 5, pingIntervalMs: 25, pendingEvents: 1 } as const;

const ok = (text: TextExpectation, extra: Partial<Expectation> = {}): Expectation => ({ outcome: "ok", text, chatsLeft: 0, warning: false, ...extra });
const fails = (outcome: ErrorName, text: TextExpectation = "empty", extra: Partial<Expectation> = {}): Expectation => ({
  outcome,
  text,
  chatsLeft: 0,
  warning: false,
  ...extra,
});
const same = (expectation: Expectation): Record<Consumer, Expectation> => ({ normal: expectation, break: expectation, abort: expectation, timeout: expectation });
/** A healthy stream: whole text, or the beginning of it when the consumer stops. */
const healthy = (extra: Partial<Expectation> = {}): Record<Consumer, Expectation> => ({
  normal: ok("exact", extra),
  break: ok("prefix", extra),
  abort: fails("AbortError", "prefix", extra),
  timeout: ok("exact", extra),
});
/** Text, then a failure: the consumers that stop at the first text never see it. */
const failsAfterText = (outcome: ErrorName, extra: Partial<Expectation> = {}): Record<Consumer, Expectation> => ({
  normal: fails(outcome, "prefix", extra),
  break: ok("prefix", extra),
  abort: fails("AbortError", "prefix", extra),
  timeout: fails(outcome, "prefix", extra),
});

export const FAULT_TABLE: readonly FaultRow[] = [
  { fault: "none", cases: healthy(), why: "The control row: the whole reply, or its beginning for a consumer that stops; an abort is an AbortError." },
  {
    fault: "refused",
    cases: same(fails("ConnectionError")),
    why: "Nothing listens: ConnectionError (never a bare `TypeError: fetch failed`) before any chat exists.",
  },
  { fault: "auth", cases: same(fails("AuthError")), why: "403 on `POST /api/chat`: AuthError before any chat exists, whatever the consumer." },
  {
    fault: "rate-limit",
    cases: same(fails("RateLimitError")),
    why: "429 on assistant_message. The matrix runs with `maxRetries: 0` (retries have their own tests, and Retry-After: 2 would make each case take 4 s); the chat created before is deleted.",
  },
  {
    fault: "rate-limit-500",
    cases: same(fails("ServerError")),
    why: "What the real stack sends a rate-limited user: 500, a ServerError (not retried: a 500 may have done work).",
  },
  { fault: "busy", cases: same(fails("ServerBusyError")), why: "503 on assistant_message: ServerBusyError (`maxRetries: 0` here, as for rate-limit)." },
  {
    fault: "error-event",
    cases: failsAfterText("StreamError"),
    why: "Half the reply, then an `error` event: the text before it is delivered, then a StreamError with the server's words. A consumer that stopped at the first text never reaches it.",
  },
  { fault: "error-first", cases: same(fails("StreamError")), why: "An `error` event before any token: StreamError, with no text." },
  {
    fault: "drop",
    cases: failsAfterText("StreamError"),
    why: "The socket dies after half the tokens: a reply cut short is a StreamError (the text before it was delivered).",
  },
  {
    fault: "hang",
    cases: {
      normal: fails("TimeoutError"),
      break: fails("TimeoutError"),
      abort: fails("AbortError"),
      timeout: fails("TimeoutError"),
    },
    why: "Only ping comments, which are not progress: the normal consumer would wait the 60 s default, so its timeout is lowered to 1 s → TimeoutError; the break consumer never gets text to break on (TimeoutError too); the abort consumer fires after 400 ms → AbortError.",
  },
  {
    fault: "endless",
    cases: {
      normal: fails("AbortError", "some"),
      break: ok("some"),
      abort: fails("AbortError", "some"),
      timeout: fails("AbortError", "some"),
    },
    why: "Tokens forever: `timeout` bounds silence, not length, so reading to the end never ends. A caller bounds the total time with a signal: the normal and timeout consumers carry AbortSignal.timeout(2000) and end with AbortError, text received, chat deleted.",
  },
  {
    fault: "malformed-json",
    cases: failsAfterText("ProtocolError"),
    why: "A `data:` line that is not JSON after 3 tokens: ProtocolError (a corrupt event is not skipped: it could be the final message).",
  },
  {
    fault: "empty-events",
    cases: same(fails("StreamError")),
    why: "200 with an empty body: the stream ended before its final message, a StreamError with no text.",
  },
  {
    fault: "message-only",
    cases: {
      normal: ok("exact"),
      break: ok("exact"),
      abort: fails("AbortError", "exact", { alternative: "ok" }),
      timeout: ok("exact"),
    },
    why: "No token, only the final message: its content is the reply, delivered as one piece (fixed in this issue: createAsync returned \"\"). The abort consumer aborts after that piece, which is the last event: whether the body's end was read before the abort is a race, so a clean end is right too.",
  },
  {
    fault: "delete-500",
    cases: healthy({ chatsLeft: 1, warning: true }),
    why: "The reply is delivered (or the consumer's own outcome stands); the failed delete is a `chat_not_deleted` warning naming the chat, never thrown over the text. The server keeps that chat, so one is left.",
  },
  {
    fault: "byte-chunks",
    cases: { ...healthy(), timeout: ok("exact", { alternative: "TimeoutError", alternativeText: "upTo" }) },
    why: "One byte per write: events split anywhere, same text. The final message event is about 1.5 KB written one byte at a time, and bytes inside an event are not progress: on a loaded machine the 500 ms timeout may fire before its last byte, so a TimeoutError (after the tokens) is right too for that consumer.",
  },
  { fault: "lf", cases: healthy(), why: "LF framing: same text." },
  { fault: "cr", cases: healthy(), why: "CR framing: same text." },
  { fault: "html", cases: same(fails("ProtocolError")), why: "200 with an HTML sign-in page on `POST /api/chat`: ProtocolError saying so; no chat was created." },
  {
    fault: "redirect",
    cases: same(fails("ProtocolError")),
    why: "302 to another host: not followed (the cookie stays home), ProtocolError saying why; no chat created.",
  },
  {
    fault: "close-mid-json",
    cases: same(fails("ConnectionError", "empty", { chatsLeft: 1 })),
    why: "`POST /api/chat` sends half its JSON and closes: ConnectionError. The server created a chat whose id never reached the client, so nobody can delete it: one chat is left, unavoidably.",
  },
  {
    fault: "oversized-line",
    cases: {
      ...failsAfterText("ProtocolError"),
      normal: fails("ProtocolError", "prefix", { alternative: "TimeoutError", alternativeText: "upTo" }),
      timeout: fails("ProtocolError", "prefix", { alternative: "TimeoutError", alternativeText: "upTo" }),
    },
    why: "A 17 MiB line over the 16 MiB cap: ProtocolError, memory bounded. Bytes inside one line are not an event, so on a loaded machine the timeout may fire before 16 MiB arrived: TimeoutError is right too for the consumers that read on.",
  },
  {
    fault: "invalid-utf8",
    cases: healthy(),
    why: "Bytes 0xff 0xfe inside a token: decoded as two U+FFFD, as a browser's TextDecoder does, and the reply goes on; the expected text has them after the 3rd token.",
  },
  {
    fault: "slow-headers",
    cases: {
      normal: fails("TimeoutError"),
      break: fails("TimeoutError"),
      abort: fails("AbortError"),
      timeout: fails("TimeoutError"),
    },
    why: "No answer for 10 s: TimeoutError at the consumer's timeout, AbortError when the signal fires first; no chat was created.",
  },
];

/**
 * The chats left and the `chat_not_deleted` warnings must match the expectation, with one
 * exception: the final delete has a budget of its own, min(timeout, 5 s), so on a loaded
 * machine with a timeout of a few hundred ms it may time out. Then the chat stays, and that must be
 * reported: one more chat is right only with one more warning saying the delete got no answer.
 * Nothing is ever left silently. Returns a problem, or undefined.
 */
export function chatsProblem(expected: Expectation, chatsLeft: number, notDeletedWarnings: readonly string[]): string | undefined {
  const warnings = expected.warning ? 1 : 0;
  if (chatsLeft === expected.chatsLeft && notDeletedWarnings.length === warnings) return undefined;
  const timedOut = notDeletedWarnings.filter((w) => /DELETE \/api\/chat got no answer for \d+ ms/.test(w));
  if (chatsLeft === expected.chatsLeft + 1 && timedOut.length === 1 && notDeletedWarnings.length === warnings + 1) return undefined;
  return `${chatsLeft} chats left and ${notDeletedWarnings.length} chat_not_deleted warnings, expected ${expected.chatsLeft} and ${warnings}: ${notDeletedWarnings.join(" | ")}`;
}

/**
 * Whether the abort consumer fires without text: only for rows where no text ever comes and
 * the abort is the expected end (hang, slow-headers). Elsewhere a slow machine could make the
 * fallback fire before the first token or before the server's own error.
 */
export function abortsWithoutText(fault: MatrixFault): boolean {
  const expected = rowOf(fault).cases.abort;
  return expected.outcome === "AbortError" && expected.text === "empty";
}

export function rowOf(fault: MatrixFault): FaultRow {
  const row = FAULT_TABLE.find((r) => r.fault === fault);
  if (!row) throw new Error(`no row for ${fault}`);
  return row;
}

/** The whole text a fault's stream carries for a prompt (the reply, with the two U+FFFD of invalid-utf8 in place). */
export function faultText(fault: MatrixFault, prompt: string, tokens: number): string {
  const words = replyTokens(prompt, tokens);
  if (fault === "invalid-utf8") return [...words.slice(0, 3), "\uFFFD\uFFFD", ...words.slice(3)].join("");
  return words.join("");
}

/** Check the text a consumer received; returns a problem or undefined. */
export function textProblem(expected: TextExpectation, text: string, whole: string, endlessPrefix?: string): string | undefined {
  switch (expected) {
    case "exact":
      return text === whole ? undefined : `expected the whole reply ${JSON.stringify(whole)}, got ${JSON.stringify(text)}`;
    case "prefix":
      return text.length > 0 && whole.startsWith(text) ? undefined : `expected a non-empty beginning of ${JSON.stringify(whole)}, got ${JSON.stringify(text)}`;
    case "empty":
      return text === "" ? undefined : `expected no text, got ${JSON.stringify(text)}`;
    case "upTo":
      return whole.startsWith(text) ? undefined : `expected a beginning of ${JSON.stringify(whole)}, got ${JSON.stringify(text)}`;
    case "some":
      if (text.length === 0) return "expected some text, got none";
      if (endlessPrefix !== undefined && !(endlessPrefix.startsWith(text) || text.startsWith(endlessPrefix))) {
        return `the endless text does not follow the server's token sequence: ${JSON.stringify(text.slice(0, 80))}`;
      }
      return undefined;
  }
}
