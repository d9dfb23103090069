/**
 * Faults the emulator can inject, each one a failure a client meets in the wild (or on
 * the real stack). Several may be combined: at most one changes what the event stream
 * carries (the first listed in STREAM_FAULTS wins); framing and chunking faults combine
 * with it.
 */

export const FAULT_DESCRIPTIONS = {
  auth: "403 with an empty body on every /api/chat route, whatever the cookie",
  "rate-limit": '429 {"message":"Too Many Requests. Retry After 2 seconds."} with Retry-After: 2 on assistant_message',
  "rate-limit-500": 'what the real stack answers to a rate-limited user: 500 {"message":"Something went wrong"} on assistant_message',
  busy: '503 {"message":"The server is currently busy. Please try again later."} on assistant_message (the message row stays pending)',
  "error-event": 'an `error` event ("Aborted due to worker error.", message state aborted_by_worker) after half the tokens',
  "error-first": "an `error` event before any token",
  drop: "the socket is destroyed after half the tokens, without a terminal event",
  hang: "the event stream carries only `: ping` comments, until the client leaves or the server stops",
  endless: "the event stream carries token events forever, never a terminal event",
  "malformed-json": "a `data:` line with invalid JSON after 3 tokens (the stream then goes on normally)",
  "empty-events": "the events request answers 200 with an empty body (as for a finished message)",
  "message-only": "a final `message` event with no token event before it",
  "delete-500": "DELETE /api/chat answers 500 `Internal Server Error`; the chat is not deleted",
  "byte-chunks": "the event stream is written one byte per write",
  lf: "event framing with LF instead of CRLF",
  cr: "event framing with CR instead of CRLF",
  html: "POST /api/chat answers 200 with an HTML sign-in page",
  redirect: "every /api/chat route answers 302 to http://evil.example/api/auth/signin",
  "close-mid-json": "POST /api/chat writes half of its JSON body, then destroys the socket",
  "oversized-line": "one 17 MiB `data:` line after the first token (over a 16 MiB line cap)",
  "invalid-utf8": "a token event with the invalid UTF-8 bytes 0xff 0xfe inside its JSON string, after 3 tokens",
  "slow-headers": "every route waits 10 s before answering",
} as const;

export type Fault = keyof typeof FAULT_DESCRIPTIONS;

export const FAULT_NAMES = Object.keys(FAULT_DESCRIPTIONS) as Fault[];

export function isFault(name: string): name is Fault {
  return Object.hasOwn(FAULT_DESCRIPTIONS, name);
}

/** Faults that decide what the event stream carries, in precedence order. */
export const STREAM_FAULTS = [
  "empty-events",
  "hang",
  "error-first",
  "message-only",
  "endless",
  "error-event",
  "drop",
  "malformed-json",
  "invalid-utf8",
  "oversized-line",
] as const satisfies readonly Fault[];

export type StreamFault = (typeof STREAM_FAULTS)[number];
