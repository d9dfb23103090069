import { ProtocolError } from "../errors.js";
import { DEFAULT_MAX_LINE_LENGTH, SseDecoder, Utf8StreamDecoder, type SseEvent } from "../sse/sse-decoder.js";
import { TokenRunScanner } from "./token-run-scanner.js";
import type { ChatEvent, ChatEventType } from "./wire-types.js";

const KNOWN_TYPES: ReadonlySet<string> = new Set<ChatEventType>([
  "pending",
  "token",
  "message",
  "error",
  "safe_prompt",
  "plugin_intermediate",
]);

/**
 * Turn one SSE event into a typed chat event. Returns undefined for what the
 * protocol says to skip: sse-starlette's old `event: ping` events and event types
 * this version does not know (newer servers may add some).
 */
export function parseChatEvent(sse: SseEvent, chatId?: string): ChatEvent | undefined {
  if (sse.event === "ping") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(sse.data);
  } catch (cause) {
    throw new ProtocolError(`The event stream sent data that is not JSON: ${preview(sse.data)}`, { chatId, cause });
  }
  if (typeof value !== "object" || value === null || typeof (value as { event_type?: unknown }).event_type !== "string") {
    throw new ProtocolError(`The event stream sent an object without "event_type": ${preview(sse.data)}`, { chatId });
  }
  const event = value as ChatEvent;
  if (!KNOWN_TYPES.has(event.event_type)) return undefined;
  if (event.event_type === "token" && typeof event.text !== "string") {
    throw new ProtocolError(`The event stream sent a token event without text: ${preview(sse.data)}`, { chatId });
  }
  if (event.event_type === "error" && typeof event.error !== "string") {
    throw new ProtocolError(`The event stream sent an error event without an error text: ${preview(sse.data)}`, { chatId });
  }
  return event;
}

function preview(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

const SEPARATOR = "\r\n\r\n";
/** A token event as sse-starlette frames pydantic's `TokenResponseEvent.json()`. */
const TOKEN_HEAD = 'data: {"event_type": "token", "text": "';
const TOKEN_TAIL = '"}';
/** Where the event type's first letter is in a data line. */
const TOKEN_TYPE_AT = TOKEN_HEAD.indexOf("token");
/** Distinct escaped token texts one stream remembers. */
const UNESCAPED_CACHE_SIZE = 4096;
/** The end of one token event and the start of the next. */
const TOKEN_CHAIN = TOKEN_TAIL + SEPARATOR + TOKEN_HEAD;

/**
 * The event stream of `POST /api/chat/events`: bytes in, chat events out, per network
 * read. The server's own framing, `data: {"event_type": "token", "text": "…"}` between
 * CRLF pairs, is read here directly: in an ASCII read (the server escapes everything
 * else) by the WebAssembly `TokenRunScanner`, otherwise by a split on the CRLF pairs,
 * and the token's JSON string unescaped by hand (JSON.parse per event was a third of
 * the client's time on a 200,000-token reply). Everything else (other events, other
 * line ends, comments, fields, a chunk's unfinished end) goes through the standard
 * `SseDecoder` and `parseChatEvent`, so the events are exactly theirs;
 * test/client/chat-event-decoder.test.ts checks it against eventsource-parser and JSON.parse.
 */
export class ChatEventDecoder {
  readonly #utf8 = new Utf8StreamDecoder();
  readonly #sse: SseDecoder;
  readonly #maxLineLength: number;
  readonly #chatId: string | undefined;
  /** The SSE decoder holds nothing: the next character starts a line and an event. */
  #clean = true;
  /** Escaped token text (between the quotes) → its value. */
  readonly #unescaped = new Map<string, string>();
  readonly #scanner = TokenRunScanner.shared();
  readonly #joinTokens: boolean;

  /**
   * `joinTokens`: a run of token events in one read may come as one token event whose
   * text is theirs joined (for consumers that only want the text: no object per token).
   */
  constructor(options: { maxLineLength?: number | undefined; chatId?: string | undefined; joinTokens?: boolean | undefined } = {}) {
    this.#maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    this.#sse = new SseDecoder({ maxLineLength: this.#maxLineLength });
    this.#chatId = options.chatId;
    this.#joinTokens = options.joinTokens ?? false;
  }

  /** Feed a chunk; returns the chat events it completed. */
  push(chunk: Uint8Array): ChatEvent[] {
    const out: ChatEvent[] = [];
    const ascii = this.#scanner ? this.#utf8.ascii(chunk) : undefined;
    if (ascii === undefined) this.#scan(this.#utf8.decode(chunk), out, undefined);
    else this.#scan(ascii, out, chunk);
    return out;
  }

  /** The stream ended: the last line and a last unterminated event. */
  end(): ChatEvent[] {
    const out: ChatEvent[] = [];
    const rest = this.#utf8.end();
    if (rest) this.#scan(rest, out, undefined);
    this.#slow(this.#sse.end(), out);
    return out;
  }

  /** `ascii`: the read's bytes when `text` is their ASCII text (the scanner's input), else undefined. */
  #scan(text: string, out: ChatEvent[], ascii: Uint8Array | undefined): void {
    const length = text.length;
    let at = 0;
    let loaded = false;
    if (!this.#clean) {
      // The SSE decoder holds the start of a line or event: it gets everything up to the next separator.
      const end = text.indexOf(SEPARATOR);
      if (end === -1) {
        this.#slow(this.#sse.push(text), out);
        return;
      }
      this.#slow(this.#sse.push(text.slice(0, end + SEPARATOR.length)), out);
      this.#clean = true;
      at = end + SEPARATOR.length;
    }
    // Here `at` starts a line and an event.
    while (at < length) {
      if (isTokenHeadAt(text, at)) {
        if (ascii && this.#scanner) {
          if (!loaded) this.#scanner.load(ascii);
          loaded = true;
          // The scanner stops at the first event it does not take: that one is read below.
          at = this.#scannedRun(this.#scanner, text, at, out);
          if (at === length) return;
        } else {
          // A run of token events: each one's text ends where `"}\r\n\r\ndata: {"event_type": "token", "text": "` starts.
          let textStart = at + TOKEN_HEAD.length;
          for (;;) {
            const chain = text.indexOf(TOKEN_CHAIN, textStart);
            if (chain === -1) break;
            const token = chain + TOKEN_TAIL.length - at <= this.#maxLineLength ? this.#tokenText(text, textStart, chain) : undefined;
            if (token === undefined) break;
            out.push({ event_type: "token", text: token });
            at = chain + TOKEN_TAIL.length + SEPARATOR.length;
            textStart = chain + TOKEN_CHAIN.length;
          }
        }
      }
      // One event (the last of a run, or any other), up to its separator.
      const end = text.indexOf(SEPARATOR, at);
      if (end === -1) {
        this.#slow(this.#sse.push(text.slice(at)), out);
        this.#clean = false;
        return;
      }
      if (end > at) {
        const part = text.slice(at, end);
        const token = part.length <= this.#maxLineLength ? tokenEvent(part) : undefined;
        if (token) out.push(token);
        else this.#slow(this.#sse.push(part + SEPARATOR), out);
      }
      at = end + SEPARATOR.length;
    }
  }

  /** The scanner's run of token events at `at`, into `out`; returns where the run stopped. */
  #scannedRun(scanner: TokenRunScanner, text: string, at: number, out: ChatEvent[]): number {
    if (this.#joinTokens) {
      const run = scanner.join(at, this.#maxLineLength);
      if (run.count > 0) out.push({ event_type: "token", text: run.text });
      return run.end;
    }
    const count = scanner.tokens(at, this.#maxLineLength);
    const offsets = scanner.offsets;
    for (let k = 0, word = scanner.first; k < count; k++, word += 2) {
      const start = offsets[word] as number;
      const end = offsets[word + 1] as number;
      // A negative end: the text holds escapes, which the scanner found valid.
      const token = end >= 0 ? text.slice(start, end) : this.#unescape(text.slice(start, end & 0x7fff_ffff));
      if (token === undefined) return start - TOKEN_HEAD.length;
      out.push({ event_type: "token", text: token });
    }
    return scanner.end();
  }

  /** `tokenText`, with the escaped texts remembered: a reply repeats its words, and unescaping was a third of the scan. */
  #tokenText(source: string, start: number, end: number): string | undefined {
    for (let i = start; i < end; i++) {
      const code = source.charCodeAt(i);
      if (code === 0x5c /* \ */) return this.#unescape(source.slice(start, end));
      if (code === 0x22 /* " */ || code < 0x20) return undefined;
    }
    return source.slice(start, end);
  }

  /** The value of an escaped token text, remembered; undefined where JSON.parse would refuse it. */
  #unescape(escaped: string): string | undefined {
    let text = this.#unescaped.get(escaped);
    if (text === undefined) {
      text = unescapeJsonString(escaped, 0, escaped.length);
      if (text === undefined) return undefined;
      if (this.#unescaped.size >= UNESCAPED_CACHE_SIZE) this.#unescaped.clear();
      this.#unescaped.set(escaped, text);
    }
    return text;
  }

  #slow(events: SseEvent[], out: ChatEvent[]): void {
    for (const sse of events) {
      const event = parseChatEvent(sse, this.#chatId);
      if (event) out.push(event);
    }
  }
}

/** `text` has the token event head at `at` (String#startsWith is several times slower on Node 20). */
function isTokenHeadAt(text: string, at: number): boolean {
  return text.length - at >= TOKEN_HEAD.length && text.charCodeAt(at + TOKEN_TYPE_AT) === 0x74 /* t of "token" */ && text.slice(at, at + TOKEN_HEAD.length) === TOKEN_HEAD;
}

/** A token event written exactly as the server writes it, else undefined (then the general path decides). */
function tokenEvent(part: string): ChatEvent | undefined {
  const end = part.length - TOKEN_TAIL.length;
  if (end < TOKEN_HEAD.length || !isTokenHeadAt(part, 0) || part.charCodeAt(end) !== 0x22 || part.charCodeAt(end + 1) !== 0x7d) return undefined;
  const text = tokenText(part, TOKEN_HEAD.length, end);
  return text === undefined ? undefined : { event_type: "token", text };
}

/** The value of the JSON string whose contents are `source[start, end)`; undefined where JSON.parse would refuse it. */
function tokenText(source: string, start: number, end: number): string | undefined {
  for (let i = start; i < end; i++) {
    const code = source.charCodeAt(i);
    if (code === 0x5c /* \ */) return unescapeJsonString(source, start, end);
    if (code === 0x22 /* " */ || code < 0x20) return undefined;
  }
  return source.slice(start, end);
}

/**
 * The value of the JSON string literal whose contents (without the quotes) are
 * `source[start, end)`, or undefined where JSON.parse would refuse it.
 */
export function unescapeJsonString(source: string, start: number, end: number): string | undefined {
  let text = "";
  let from = start;
  for (let i = start; i < end; i++) {
    const code = source.charCodeAt(i);
    if (code === 0x22 || code < 0x20) return undefined;
    if (code !== 0x5c) continue;
    if (i + 1 >= end) return undefined;
    text += source.slice(from, i);
    const escape = source.charCodeAt(i + 1);
    switch (escape) {
      case 0x22: // "
      case 0x5c: // \
      case 0x2f: // /
        text += String.fromCharCode(escape);
        break;
      case 0x62: // b
        text += "\b";
        break;
      case 0x66: // f
        text += "\f";
        break;
      case 0x6e: // n
        text += "\n";
        break;
      case 0x72: // r
        text += "\r";
        break;
      case 0x74: // t
        text += "\t";
        break;
      case 0x75: {
        // u: exactly four hex digits
        if (i + 6 > end) return undefined;
        let unit = 0;
        for (let j = i + 2; j < i + 6; j++) {
          const digit = hexValue(source.charCodeAt(j));
          if (digit < 0) return undefined;
          unit = unit * 16 + digit;
        }
        text += String.fromCharCode(unit);
        i += 4;
        break;
      }
      default:
        return undefined;
    }
    i += 1;
    from = i + 1;
  }
  return text + source.slice(from, end);
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  return -1;
}
