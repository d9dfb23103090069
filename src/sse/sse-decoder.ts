/**
 * A server-sent-events decoder (WHATWG HTML "event stream interpretation") that
 * works on raw byte chunks split anywhere and returns, per chunk, the events that
 * chunk completed. Returning a batch instead of calling back per event lets the
 * consumer hand a whole network read to its caller in one step.
 *
 * Differences from the standard, on purpose:
 * - `end()` delivers a last event even without its trailing blank line
 *   (servers that close right after the final event's data line).
 * - A line longer than `maxLineLength` characters, or an event whose data lines add up to
 *   more than `maxEventLength`, is an error, not unbounded memory.
 */

export interface SseEvent {
  /** The `event:` field; undefined for the default type ("message"). */
  event: string | undefined;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The event's own `id:` field (eventsource-parser's rule; keeping the last id for a reconnect is the caller's business). */
  id: string | undefined;
}

export interface SseDecoderOptions {
  /** Longest line accepted, in UTF-16 code units. Default 16 MiB. */
  maxLineLength?: number;
  /** Longest data of one event (its `data:` lines joined), in UTF-16 code units. Default `maxLineLength`. */
  maxEventLength?: number;
  /** Called with each valid `retry:` value (ms). */
  onRetry?: (ms: number) => void;
}

export const DEFAULT_MAX_LINE_LENGTH = 16 * 1024 * 1024;

export class SseLineTooLongError extends Error {
  constructor(readonly maxLineLength: number) {
    super(`An event-stream line is longer than ${maxLineLength} characters`);
    this.name = "SseLineTooLongError";
  }
}

export class SseEventTooLongError extends Error {
  constructor(readonly maxEventLength: number) {
    super(`An event-stream event's data is longer than ${maxEventLength} characters`);
    this.name = "SseEventTooLongError";
  }
}

const LF = 10;

/**
 * UTF-8 bytes arriving in chunks → text, as `TextDecoder` with `{ stream: true }` decodes
 * them (U+FFFD for invalid bytes, one leading BOM dropped), without the streaming
 * decoder's cost per call on Node 20: each chunk is decoded in one non-streaming call up
 * to its last complete sequence, and the few bytes of a sequence cut by the chunk's end
 * wait for the next one.
 * (Cutting before a lead byte never changes the output: the streaming decoder ends an
 * unfinished sequence at a lead byte exactly as a decoder at its end of input does.)
 */
export class Utf8StreamDecoder {
  readonly #decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  #carry: Uint8Array | undefined;
  #atStart = true;

  decode(chunk: Uint8Array): string {
    let bytes = chunk;
    if (this.#carry) {
      bytes = new Uint8Array(this.#carry.length + chunk.length);
      bytes.set(this.#carry);
      bytes.set(chunk, this.#carry.length);
      this.#carry = undefined;
    }
    const complete = completeLength(bytes);
    if (complete < bytes.length) {
      this.#carry = bytes.slice(complete);
      bytes = bytes.subarray(0, complete);
    }
    return complete === 0 ? "" : this.#dropBom(this.#decoder.decode(bytes));
  }

  /** The end of the stream: bytes still waiting become U+FFFD. */
  end(): string {
    const rest = this.#carry;
    this.#carry = undefined;
    return rest ? this.#dropBom(this.#decoder.decode(rest)) : "";
  }

  #dropBom(text: string): string {
    if (!this.#atStart || text.length === 0) return text;
    this.#atStart = false;
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }
}

/** Length of `bytes` without a last UTF-8 sequence that its lead byte says is unfinished. */
function completeLength(bytes: Uint8Array): number {
  const length = bytes.length;
  for (let i = length - 1; i >= 0 && i >= length - 4; i--) {
    const byte = bytes[i] as number;
    if (byte < 0x80) return length;
    if (byte >= 0xc0) {
      const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return length - i < needed ? i : length;
    }
    // A continuation byte: its lead byte is further back.
  }
  return length;
}

export class SseDecoder {
  readonly #maxLineLength: number;
  readonly #maxEventLength: number;
  readonly #onRetry: ((ms: number) => void) | undefined;
  readonly #text = new Utf8StreamDecoder();
  /** Start of a line not yet terminated. */
  #partial = "";
  /** The previous chunk ended in CR: a LF starting the next one belongs to it. */
  #afterCR = false;
  #data: string | undefined;
  #event: string | undefined;
  #id: string | undefined;
  #out: SseEvent[] = [];

  constructor(options: SseDecoderOptions = {}) {
    this.#maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    this.#maxEventLength = options.maxEventLength ?? this.#maxLineLength;
    this.#onRetry = options.onRetry;
  }

  /** Feed a chunk; returns the events it completed (often none, often many). */
  push(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === "string" ? chunk : this.#text.decode(chunk);
    this.#scan(text);
    return this.#take();
  }

  /** The stream ended: flush the decoder, the last line and a last unterminated event. */
  end(): SseEvent[] {
    this.#scan(this.#text.end());
    if (this.#partial) {
      const line = this.#partial;
      this.#partial = "";
      this.#line(line);
    }
    this.#dispatch();
    return this.#take();
  }

  #take(): SseEvent[] {
    const out = this.#out;
    if (out.length) this.#out = [];
    return out;
  }

  #scan(text: string): void {
    let start = 0;
    const length = text.length;
    if (this.#afterCR) {
      this.#afterCR = false;
      if (length > 0 && text.charCodeAt(0) === LF) start = 1;
    }
    // Two native searches instead of a char loop: the common case is CRLF.
    let nextLF = text.indexOf("\n", start);
    let nextCR = text.indexOf("\r", start);
    while (nextLF !== -1 || nextCR !== -1) {
      let end: number;
      let next: number;
      if (nextCR !== -1 && (nextLF === -1 || nextCR < nextLF)) {
        end = nextCR;
        if (nextCR + 1 < length) {
          next = text.charCodeAt(nextCR + 1) === LF ? nextCR + 2 : nextCR + 1;
        } else {
          next = length;
          this.#afterCR = true;
        }
      } else {
        end = nextLF;
        next = nextLF + 1;
      }
      if (this.#partial) {
        const line = this.#partial + text.slice(start, end);
        this.#partial = "";
        this.#checkLength(line.length);
        this.#line(line);
      } else {
        this.#checkLength(end - start);
        this.#line(text.slice(start, end));
      }
      start = next;
      if (nextLF !== -1 && nextLF < start) nextLF = text.indexOf("\n", start);
      if (nextCR !== -1 && nextCR < start) nextCR = text.indexOf("\r", start);
    }
    if (start < length) {
      this.#partial = this.#partial ? this.#partial + text.slice(start) : text.slice(start);
      this.#checkLength(this.#partial.length);
    }
  }

  #checkLength(length: number): void {
    if (length > this.#maxLineLength) {
      this.#partial = "";
      throw new SseLineTooLongError(this.#maxLineLength);
    }
  }

  #line(line: string): void {
    if (line.length === 0) {
      this.#dispatch();
      return;
    }
    const first = line.charCodeAt(0);
    if (first === 58 /* ":" comment, e.g. sse_starlette's ping */) return;
    // Fast path for the only field Open-Assistant really writes.
    if (first === 100 /* d */ && line.startsWith("data:")) {
      this.#appendData(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
      return;
    }
    const colon = line.indexOf(":");
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = "";
    } else {
      field = line.slice(0, colon);
      value = line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1);
    }
    switch (field) {
      case "data":
        this.#appendData(value);
        break;
      case "event":
        this.#event = value;
        break;
      case "id":
        if (!value.includes("\0")) this.#id = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.#onRetry?.(Number(value));
        break;
      default:
      // Unknown fields are ignored, as the standard says.
    }
  }

  #appendData(value: string): void {
    // Short data lines without a blank line between them would otherwise grow one event without end.
    const length = this.#data === undefined ? value.length : this.#data.length + 1 + value.length;
    if (length > this.#maxEventLength) {
      this.#data = undefined;
      throw new SseEventTooLongError(this.#maxEventLength);
    }
    this.#data = this.#data === undefined ? value : `${this.#data}\n${value}`;
  }

  #dispatch(): void {
    const data = this.#data;
    const event = this.#event;
    const id = this.#id;
    this.#data = undefined;
    this.#event = undefined;
    this.#id = undefined;
    // An event with no data line is not dispatched (standard), only its fields reset.
    if (data === undefined) return;
    this.#out.push({ event: event || undefined, data, id });
  }
}
