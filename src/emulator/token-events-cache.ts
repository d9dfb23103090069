import { pyStringLiteral } from "./pydantic-json.js";
import { REPLY_WORDS, ReplyTokenSource, tokenText } from "./reply-text.js";

/**
 * Pre-encoded token events. Benchmarks stream 200,000 tokens per reply, so the token part
 * of a stream is encoded once per (prompt, length, framing) into one buffer and written
 * in a few large writes; per-token work happens only when a token delay is configured.
 */

export type EventSeparator = "\r\n" | "\n" | "\r";

export interface TokenEvents {
  /** The reply text: every token joined. */
  readonly text: string;
  /** `text` as a Python JSON string literal, for the final `message` event. */
  readonly textJson: string;
  /** Every `data: {"event_type": "token", …}` event, framed. ASCII only (pydantic escapes the rest). */
  readonly body: Buffer;
  /** Byte offset where token event `i` ends; event `i` starts at `tokenEnds[i - 1]` (or 0). */
  readonly tokenEnds: Uint32Array;
}

/** One token event, framed, as sse-starlette writes pydantic's `TokenResponseEvent.json()`. */
export function tokenEventText(token: string, separator: EventSeparator): string {
  return `data: {"event_type": "token", "text": ${pyStringLiteral(token)}}${separator}${separator}`;
}

export function tokenEventStart(events: TokenEvents, index: number): number {
  return index === 0 ? 0 : (events.tokenEnds[index - 1] ?? events.body.length);
}

/** A token's pieces, pre-encoded: its framed event, its escaped text (no quotes), its UTF-8 text. */
interface EncodedToken {
  event: Buffer;
  literal: Buffer;
  text: Buffer;
}

function encodeToken(token: string, separator: EventSeparator): EncodedToken {
  return {
    event: Buffer.from(tokenEventText(token, separator), "latin1"),
    literal: Buffer.from(pyStringLiteral(token).slice(1, -1), "latin1"),
    text: Buffer.from(token, "utf8"),
  };
}

/** Per separator: every word encoded as a first token and as a later one (with its leading space). */
const encodedWords = new Map<EventSeparator, { first: EncodedToken[]; later: EncodedToken[] }>();

function wordsFor(separator: EventSeparator): { first: EncodedToken[]; later: EncodedToken[] } {
  let words = encodedWords.get(separator);
  if (!words) {
    words = {
      first: REPLY_WORDS.map((_, index) => encodeToken(tokenText(index, 0), separator)),
      later: REPLY_WORDS.map((_, index) => encodeToken(tokenText(index, 1), separator)),
    };
    encodedWords.set(separator, words);
  }
  return words;
}

/** Two passes over the word indices: the sizes, then copies into three buffers. */
function encodeTokenEvents(prompt: string, count: number, separator: EventSeparator): TokenEvents {
  const { first, later } = wordsFor(separator);
  const source = new ReplyTokenSource(prompt);
  const pieces = new Array<EncodedToken>(count);
  let eventBytes = 0;
  let literalBytes = 0;
  let textBytes = 0;
  for (let i = 0; i < count; i++) {
    const piece = (i === 0 ? first : later)[source.nextWordIndex()] as EncodedToken;
    pieces[i] = piece;
    eventBytes += piece.event.length;
    literalBytes += piece.literal.length;
    textBytes += piece.text.length;
  }
  const body = Buffer.allocUnsafe(eventBytes);
  const literal = Buffer.allocUnsafe(literalBytes);
  const text = Buffer.allocUnsafe(textBytes);
  const tokenEnds = new Uint32Array(count);
  let eventOffset = 0;
  let literalOffset = 0;
  let textOffset = 0;
  for (let i = 0; i < count; i++) {
    const piece = pieces[i] as EncodedToken;
    body.set(piece.event, eventOffset);
    eventOffset += piece.event.length;
    tokenEnds[i] = eventOffset;
    literal.set(piece.literal, literalOffset);
    literalOffset += piece.literal.length;
    text.set(piece.text, textOffset);
    textOffset += piece.text.length;
  }
  return { text: text.toString("utf8"), textJson: `"${literal.toString("latin1")}"`, body, tokenEnds };
}

/** A small LRU of encoded replies (a 200,000-token entry holds about 10 MB). */
export class TokenEventsCache {
  private readonly entries = new Map<string, TokenEvents>();

  constructor(private readonly maxEntries: number) {}

  get(prompt: string, count: number, separator: EventSeparator): TokenEvents {
    const key = `${count}\u0000${separator}\u0000${prompt}`;
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
    } else {
      entry = encodeTokenEvents(prompt, count, separator);
      if (this.entries.size >= this.maxEntries) {
        const oldest = this.entries.keys().next();
        if (!oldest.done) this.entries.delete(oldest.value);
      }
    }
    this.entries.set(key, entry);
    return entry;
  }
}
