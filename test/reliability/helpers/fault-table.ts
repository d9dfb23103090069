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
  "AuthError" | "RateLimitError" | "ServerBusyError" | "ServerError" | "StreamError" | "ProtocolError" | "TimeoutError" | "ConnectionError" | "AbortError";

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
  /** Chats the server still holds after the case (once the provider is done with it). */
  chatsLeft: number;
  /** A `chat_not_deleted` warning is reported. */
  warning: boolean;
  /**
   * A `reply_still_running` warning is reported: the reply was left (the consumer stopped, or a
   * failure) before the server had finished it, so the chat's delete waited for its end. The one
   * race: a consumer that stops after the provider already read the final `message` (or `error`)
   * event left a finished reply, and then no warning is right (the matrices check that case by itself).
   */
  waited: boolean;
  /** `waited` with the alternative outcome, when it differs. */
  alternativeWaited?: boolean;
  /** The server never finishes the reply: its chat is left on the site, and the `chat_not_deleted` warning says so (not a failed delete). */
  neverEnds?: boolean;
}

export interface FaultRow {
  fault: MatrixFault;
  cases: Record<Consumer, Expectation>;
  /** Why these outcomes are the right ones (printed in docs/reliability.md). */
  why: string;
}

/**
 * Emulator settings and consumer timings of the matrix: small, so the matrix takes seconds. The
 * consumer's `timeout` also bounds the wait for the end of a reply left early (hang, endless: never).
 */
export const TIMINGS = {
  /** The normal consumer's timeout (the 60 s default, lowered so that hang and slow-headers end, and the wait for a reply that never ends too). */
  normalTimeoutMs: 1_000,
  /** The timeout consumer's timeout. */
  shortTimeoutMs: 800,
  /** When no text has come by then, the abort consumer fires anyway (hang, slow-headers). */
  abortFallbackMs: 400,
  /** The normal, break and timeout consumers also pass AbortSignal.timeout(this): only an endless stream reaches it. */
  safetyAbortMs: 1_500,
} as const;

export const MATRIX_EMULATOR = { replyTokens: 8, tokenDelayMs: 5, pingIntervalMs: 25, pendingEvents: 1 } as const;

const ok = (text: TextExpectation, extra: Partial<Expectation> = {}): Expectation => ({
  outcome: "ok",
  text,
  chatsLeft: 0,
  warning: false,
  waited: false,
  ...extra,
});
const fails = (outcome: ErrorName, text: TextExpectation = "empty", extra: Partial<Expectation> = {}): Expectation => ({
  outcome,
  text,
  chatsLeft: 0,
  warning: false,
  waited: false,
  ...extra,
});
/** The reply was left before its end: the delete waited for it, and the server finished it, so the chat was deleted. */
const LEFT = { waited: true } as const;
/** The reply was left and the server never finishes it (hang, endless): the chat is left on the site, with a warning. */
const LEFT_FOREVER = { waited: true, chatsLeft: 1, warning: true, neverEnds: true } as const;
const same = (expectation: Expectation): Record<Consumer, Expectation> => ({
  normal: expectation,
  break: expectation,
  abort: expectation,
  timeout: expectation,
});
/** A healthy stream: whole text, or the beginning of it when the consumer stops (leaving the reply running). */
const healthy = (extra: Partial<Expectation> = {}): Record<Consumer, Expectation> => ({
  normal: ok("exact", extra),
  break: ok("prefix", { ...extra, ...LEFT }),
  abort: fails("AbortError", "prefix", { ...extra, ...LEFT }),
  timeout: ok("exact", extra),
});
/**
 * Text, then a failure: the consumers that stop at the first text never see it. `serverEnded`: the
 * failure is the server's own end of the reply (an `error` event); otherwise the client gave up on a
 * reply the server was still finishing, and the delete waited for it.
 */
const failsAfterText = (outcome: ErrorName, serverEnded: boolean): Record<Consumer, Expectation> => ({
  normal: fails(outcome, "prefix", { waited: !serverEnded }),
  break: ok("prefix", LEFT),
  abort: fails("AbortError", "prefix", LEFT),
  timeout: fails(outcome, "prefix", { waited: !serverEnded }),
});

export const FAULT_TABLE: readonly FaultRow[] = [
  {
    fault: "none",
    cases: healthy(),
    why: "The control row: the whole reply, or its beginning for a consumer that stops; an abort is an AbortError. A consumer that stops leaves the reply running: a `reply_still_running` warning, the message's state is read until the reply is complete (a few ms here), then the chat is deleted.",
  },
  {
    fault: "refused",
    cases: same(fails("ConnectionError")),
    why: "Nothing listens: ConnectionError (never a bare `TypeError: fetch failed`) before any chat exists.",
  },
  { fault: "auth", cases: same(fails("AuthError")), why: "403 on `POST /api/chat`: AuthError before any chat exists, whatever the consumer." },
  {
    fault: "rate-limit",
    cases: same(fails("RateLimitError")),
    why: "429 on assistant_message. The matrix runs with `maxRetries: 0` (retries have their own tests, and Retry-After: 2 would make each case take 4 s); the chat created before is deleted at once (no reply was queued).",
  },
  {
    fault: "rate-limit-500",
    cases: same(fails("ServerError")),
    why: "What the real stack sends a rate-limited user: 500, a ServerError (not retried: a 500 may have done work).",
  },
  { fault: "busy", cases: same(fails("ServerBusyError")), why: "503 on assistant_message: ServerBusyError (`maxRetries: 0` here, as for rate-limit)." },
  {
    fault: "error-event",
    cases: failsAfterText("StreamError", true),
    why: "Half the reply, then an `error` event: the text before it is delivered, then a StreamError with the server's words; the error ended the reply on the server, so the chat is deleted at once. A consumer that stopped at the first text never reaches it: it left a running reply (`reply_still_running`), whose end (aborted_by_worker) is waited for before the delete.",
  },
  {
    fault: "error-first",
    cases: same(fails("StreamError")),
    why: "An `error` event before any token: StreamError, with no text; the reply ended on the server, the chat is deleted at once.",
  },
  {
    fault: "drop",
    cases: failsAfterText("StreamError", false),
    why: "The socket dies after half the tokens: a reply cut short is a StreamError (the text before it was delivered). The server's worker finishes the reply anyway, so every consumer waits for that (`reply_still_running`) before the delete.",
  },
  {
    fault: "hang",
    cases: {
      normal: fails("TimeoutError", "empty", LEFT_FOREVER),
      break: fails("TimeoutError", "empty", LEFT_FOREVER),
      abort: fails("AbortError", "empty", LEFT_FOREVER),
      timeout: fails("TimeoutError", "empty", LEFT_FOREVER),
    },
    why: "Only ping comments, which are not progress: the normal consumer would wait the 60 s default, so its timeout is lowered to 1 s → TimeoutError; the break consumer never gets text to break on (TimeoutError too); the abort consumer fires after 400 ms → AbortError. The message never finishes: after waiting `timeout` for its end, the chat is left on the site with a `chat_not_deleted` warning naming it (deleting it could abort other replies).",
  },
  {
    fault: "endless",
    cases: {
      normal: fails("AbortError", "some", LEFT_FOREVER),
      break: ok("some", LEFT_FOREVER),
      abort: fails("AbortError", "some", LEFT_FOREVER),
      timeout: fails("AbortError", "some", LEFT_FOREVER),
    },
    why: "Tokens forever: `timeout` bounds silence, not length, so reading to the end never ends. A caller bounds the total time with a signal: the normal and timeout consumers carry AbortSignal.timeout(1500) and end with AbortError, text received. The reply never finishes: after waiting `timeout` for its end, the chat is left on the site with a `chat_not_deleted` warning.",
  },
  {
    fault: "malformed-json",
    cases: failsAfterText("ProtocolError", false),
    why: "A `data:` line that is not JSON after 3 tokens: ProtocolError (a corrupt event is not skipped: it could be the final message). The server goes on with the reply: its end is waited for before the delete.",
  },
  {
    fault: "empty-events",
    cases: {
      normal: ok("exact"),
      break: ok("exact"),
      abort: fails("AbortError", "exact", { alternative: "ok" }),
      timeout: ok("exact"),
    },
    why: "200 with an empty body, what the real website answers for a message already finished: the provider reads the message, which is `complete`, and its content is the whole reply, delivered as one piece after the stream ended; the chat is deleted at once. The abort consumer aborts after that last piece: the provider itself ends cleanly then, while a client of the gateway may see its own abort first, so both are right.",
  },
  {
    fault: "message-only",
    cases: {
      normal: ok("exact"),
      break: ok("exact"),
      abort: fails("AbortError", "exact", { alternative: "ok" }),
      timeout: ok("exact"),
    },
    why: 'No token, only the final message: its content is the reply, delivered as one piece (fixed in this issue: createAsync returned ""). The abort consumer aborts after that piece, which is the last event: whether the body\'s end was read before the abort is a race, so a clean end is right too. The reply was finished when the consumer stopped: no wait.',
  },
  {
    fault: "delete-500",
    cases: healthy({ chatsLeft: 1, warning: true }),
    why: "The reply is delivered (or the consumer's own outcome stands); the failed delete is a `chat_not_deleted` warning naming the chat, never thrown over the text. The server keeps that chat, so one is left. A consumer that stops waits for the reply's end first, as in the control row.",
  },
  {
    fault: "byte-chunks",
    cases: { ...healthy(), timeout: ok("exact", { alternative: "TimeoutError", alternativeText: "upTo", alternativeWaited: true }) },
    why: "One byte per write: events split anywhere, same text. The final message event is about 1.5 KB written one byte at a time, and bytes inside an event are not progress: on a loaded machine the 800 ms timeout may fire before its last byte, so a TimeoutError (after the tokens, the reply's end then waited for) is right too for that consumer.",
  },
  { fault: "lf", cases: healthy(), why: "LF framing: same text." },
  { fault: "cr", cases: healthy(), why: "CR framing: same text." },
  {
    fault: "html",
    cases: same(fails("ProtocolError")),
    why: "200 with an HTML sign-in page on `POST /api/chat`: ProtocolError saying so; no chat was created.",
  },
  {
    fault: "redirect",
    cases: same(fails("ProtocolError")),
    why: "302 to another host: not followed (the cookie stays home), ProtocolError saying why; no chat created.",
  },
  {
    fault: "close-mid-json",
    cases: same(fails("ConnectionError", "empty", { chatsLeft: 1 })),
    why: "`POST /api/chat` sends half its JSON and closes: ConnectionError. The server created a chat whose id never reached the client, so nobody can delete it: one chat is left, unavoidably (and silently: the client knows no id to name).",
  },
  {
    fault: "oversized-line",
    cases: {
      ...failsAfterText("ProtocolError", false),
      normal: fails("ProtocolError", "prefix", { alternative: "TimeoutError", alternativeText: "upTo", waited: true }),
      timeout: fails("ProtocolError", "prefix", { alternative: "TimeoutError", alternativeText: "upTo", waited: true }),
    },
    why: "A 17 MiB line over the 16 MiB cap: ProtocolError, memory bounded. Bytes inside one line are not an event, so on a loaded machine the timeout may fire before 16 MiB arrived: TimeoutError is right too for the consumers that read on. Either way the reply was left running, and its end is waited for before the delete.",
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

/** The texts of the two warnings of a reply left early (src/provider/open-assistant.ts). */
export const STILL_RUNNING_TEXT =
  /^Waiting for the server to finish the reply before deleting chat ([0-9a-f-]{36}): Open-Assistant aborts other replies when a chat is deleted while its reply runs\.$/;
export const LEFT_ON_SITE_TEXT = /^Chat ([0-9a-f-]{36}) was left on the site: the end of its reply could not be seen, .*`oasst chats --delete \1`\.$/;
export const NOT_DELETED_TEXT = /^Chat ([0-9a-f-]{36}) could not be deleted.*`oasst chats --delete \1`\.$/;

/** Whether the expectation (with the outcome seen: its alternative or not) says the reply's end was waited for. */
export function expectsWait(expected: Expectation, outcome: Outcome): boolean {
  if (outcome === expected.alternative && outcome !== expected.outcome) return expected.alternativeWaited ?? expected.waited;
  return expected.waited;
}

/**
 * The `reply_still_running` warnings must match the expectation: one where the reply was left
 * unfinished, none elsewhere. `sawEnd`: the final `message` or `error` event had reached the
 * provider before the consumer left (a slow machine can deliver a short reply's end in the same read
 * as its first text); then the reply was finished and no warning is right. Returns a problem, or undefined.
 */
export function waitProblem(expected: Expectation, outcome: Outcome, stillRunningWarnings: readonly string[], sawEnd: boolean): string | undefined {
  const wanted = expectsWait(expected, outcome) && !sawEnd ? 1 : 0;
  if (stillRunningWarnings.length === wanted) return undefined;
  return `${stillRunningWarnings.length} reply_still_running warnings, expected ${wanted}${sawEnd ? " (the reply's end had reached the provider)" : ""}: ${stillRunningWarnings.join(" | ")}`;
}

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
