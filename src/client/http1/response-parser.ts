/**
 * An HTTP/1.1 response parser: bytes in, head / body slices / end out. It keeps no
 * copy of the body: each body callback gets a view into the bytes it was given.
 * It reads what RFC 9112 says a client must: interim 1xx answers, Content-Length,
 * chunked bodies (extensions and trailers skipped) and bodies that end with the connection.
 */

/** Most bytes of a status line plus headers, and of one chunk-size or trailer line. */
export const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE_BYTES = 4 * 1024;

export interface ResponseHeadFields {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Map<string, string>;
  /** The connection may carry another request once this body has ended. */
  keepAlive: boolean;
}

export interface ParserEvents {
  onHead(head: ResponseHeadFields): void;
  onBody(bytes: Uint8Array): void;
  onEnd(): void;
}

/** The bytes broke the protocol: the connection can carry nothing more. */
export class HttpParseError extends Error {
  readonly code = "HPE_INVALID";
  constructor(message: string) {
    super(message);
    this.name = "HttpParseError";
  }
}

const enum State {
  Head,
  Fixed,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

const CR = 13;
const LF = 10;
const HEAD_END = Buffer.from("\r\n\r\n", "latin1");
/** Characters of a token (RFC 9110 5.6.2), by code: header names are tokens. */
const TOKEN_CHARS = new Uint8Array(128);
for (const char of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN_CHARS[char.charCodeAt(0)] = 1;

function isToken(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code > 127 || TOKEN_CHARS[code] === 0) return false;
  }
  return true;
}

function isSpaceOrTab(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** A lone CR or LF in `text[start, end)`. */
function hasLineBreak(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === CR || code === LF) return true;
  }
  return false;
}

/** One digit or more, nothing else. */
function isDigits(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return text.length > 0;
}

/** `HTTP/1.x NNN` and an optional ` reason` (no line break in it): returns x (0 or 1). */
function statusLineMinor(head: string, lineEnd: number): number {
  const minor = head.charCodeAt(7) - 48;
  const valid =
    lineEnd >= 12 &&
    head.startsWith("HTTP/1.") &&
    (minor === 0 || minor === 1) &&
    head.charCodeAt(8) === 0x20 &&
    isDigit(head.charCodeAt(9)) &&
    isDigit(head.charCodeAt(10)) &&
    isDigit(head.charCodeAt(11)) &&
    (lineEnd === 12 || head.charCodeAt(12) === 0x20);
  if (!valid || hasLineBreak(head, 12, lineEnd)) throw new HttpParseError(`the answer does not start with an HTTP/1.x status line`);
  return minor;
}

/** One length, or the same one repeated ("5, 5", as RFC 9112 6.3 allows); anything else is refused. */
function contentLengthValue(header: string): number {
  // A list is built only when there is one: a single number is the rule.
  const only = header.includes(",") ? theOneValue(header) : header;
  if (only === undefined || only.length > 15 || !isDigits(only)) {
    throw new HttpParseError(`the answer has an invalid Content-Length (${header})`);
  }
  return Number(only);
}

/** The value a comma-separated list repeats, or undefined when its values differ. */
function theOneValue(list: string): string | undefined {
  const values = new Set(list.split(",").map((value) => value.trim()));
  return values.size === 1 ? [...values][0] : undefined;
}

export class ResponseParser {
  #state = State.Head;
  /** Bytes of an unfinished head or chunk line, kept across pushes. */
  #pending: Buffer | undefined;
  /** Body bytes still expected: of a Content-Length body, or of the current chunk. */
  #left = 0;
  readonly #events: ParserEvents;
  readonly #headRequest: boolean;

  constructor(events: ParserEvents, options: { headRequest?: boolean } = {}) {
    this.#events = events;
    this.#headRequest = options.headRequest ?? false;
  }

  /** True once the whole response (body included) has been read. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /** True when the body runs until the connection closes (neither length nor chunked). */
  get readsUntilClose(): boolean {
    return this.#state === State.UntilClose;
  }

  /** Feed bytes from the socket. Returns how many were used: bytes after the response's end are left over. */
  push(input: Buffer): number {
    let data = input;
    let base = 0;
    if (this.#pending) {
      // Only heads and chunk lines are kept: join them with what came.
      base = -this.#pending.length;
      data = Buffer.concat([this.#pending, input]);
      this.#pending = undefined;
    }
    let at = 0;
    while (at < data.length && this.#state !== State.Done) {
      switch (this.#state) {
        case State.Head:
          at = this.#head(data, at);
          break;
        case State.Fixed:
          at = this.#counted(data, at);
          if (this.#left === 0) this.#finish();
          break;
        case State.UntilClose:
          this.#events.onBody(data.subarray(at));
          at = data.length;
          break;
        case State.ChunkSize:
          at = this.#chunkSize(data, at);
          break;
        case State.ChunkData:
          at = this.#counted(data, at);
          if (this.#left === 0) this.#state = State.ChunkDataEnd;
          break;
        case State.ChunkDataEnd:
          at = this.#chunkDataEnd(data, at);
          break;
        case State.Trailers:
          at = this.#trailer(data, at);
          break;
      }
      if (at < 0) {
        // An unfinished line: keep its bytes for the next push.
        this.#pending = data.subarray(-at - 1);
        return input.length;
      }
    }
    return Math.max(0, at + base);
  }

  /** Body bytes of a known length (the whole body, or one chunk): as many as are left and came. */
  #counted(data: Buffer, at: number): number {
    const take = Math.min(this.#left, data.length - at);
    this.#left -= take;
    this.#events.onBody(data.subarray(at, at + take));
    return at + take;
  }

  /** The connection closed: ends a body that runs until then; anything else was cut short. */
  close(): void {
    if (this.#state === State.UntilClose) {
      this.#finish();
      return;
    }
    if (this.#state !== State.Done) {
      throw new Error(
        this.#state === State.Head && !this.#pending
          ? "the server closed the connection without answering"
          : "the server closed the connection in the middle of the answer",
      );
    }
  }

  #finish(): void {
    this.#state = State.Done;
    this.#events.onEnd();
  }

  /** Returns the next offset, or -(start + 1) when the line is not complete yet. */
  #head(data: Buffer, at: number): number {
    const end = data.indexOf(HEAD_END, at);
    if (end === -1) {
      // The head's limit, plus what may be the start of its closing CRLF CRLF.
      if (data.length - at > MAX_HEAD_BYTES + 3) throw new HttpParseError(`the answer's headers are longer than ${MAX_HEAD_BYTES} bytes`);
      return -(at + 1);
    }
    if (end - at > MAX_HEAD_BYTES) throw new HttpParseError(`the answer's headers are longer than ${MAX_HEAD_BYTES} bytes`);
    // One latin1 string, read with indexOf and charCodeAt: this runs once per answer, on a cold cache.
    const head = data.toString("latin1", at, end);
    let lineEnd = head.indexOf("\r\n");
    if (lineEnd === -1) lineEnd = head.length;
    const minor = statusLineMinor(head, lineEnd);
    const status = (head.charCodeAt(9) - 48) * 100 + (head.charCodeAt(10) - 48) * 10 + (head.charCodeAt(11) - 48);
    const headers = new Map<string, string>();
    for (let start = lineEnd + 2; start < head.length; start = lineEnd + 2) {
      lineEnd = head.indexOf("\r\n", start);
      if (lineEnd === -1) lineEnd = head.length;
      const colon = head.indexOf(":", start);
      if (colon <= start || colon > lineEnd || !isToken(head, start, colon)) throw new HttpParseError("the answer has a malformed header line");
      const name = head.slice(start, colon).toLowerCase();
      // Only spaces and tabs surround a value (RFC 9110 5.5).
      let from = colon + 1;
      let to = lineEnd;
      while (from < to && isSpaceOrTab(head.charCodeAt(from))) from++;
      while (to > from && isSpaceOrTab(head.charCodeAt(to - 1))) to--;
      const value = head.slice(from, to);
      const before = headers.get(name);
      headers.set(name, before === undefined ? value : `${before}, ${value}`);
    }
    const next = end + 4;
    // Interim answers (100 Continue, 103 Early Hints) precede the real one.
    if (status >= 100 && status < 200 && status !== 101) return next;
    const connection = headers.get("connection")?.toLowerCase() ?? "";
    let keepAlive = minor === 1 ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    const transferEncoding = headers.get("transfer-encoding");
    const contentLength = headers.get("content-length");
    if (this.#headRequest || status === 204 || status === 304 || status === 101) {
      this.#events.onHead({ status, headers, keepAlive: keepAlive && status !== 101 });
      this.#finish();
      return next;
    }
    if (transferEncoding !== undefined) {
      if (!/(?:^|,)\s*chunked\s*$/i.test(transferEncoding)) {
        // Any coding but a final chunked: the body ends with the connection (RFC 9112 6.3).
        keepAlive = false;
        this.#state = State.UntilClose;
      } else {
        this.#state = State.ChunkSize;
      }
    } else if (contentLength !== undefined) {
      this.#left = contentLengthValue(contentLength);
      this.#state = State.Fixed;
    } else {
      keepAlive = false;
      this.#state = State.UntilClose;
    }
    this.#events.onHead({ status, headers, keepAlive });
    if (this.#state === State.Fixed && this.#left === 0) this.#finish();
    return next;
  }

  #line(data: Buffer, at: number): number {
    const end = data.indexOf(LF, at);
    if (end === -1) {
      if (data.length - at > MAX_CHUNK_LINE_BYTES) throw new HttpParseError("the answer has a chunk line longer than 4 KiB");
      return -1;
    }
    if (end === at || data[end - 1] !== CR) throw new HttpParseError("the answer's chunked body has a line without CRLF");
    return end;
  }

  #chunkSize(data: Buffer, at: number): number {
    const end = this.#line(data, at);
    if (end === -1) return -(at + 1);
    const text = data.toString("latin1", at, end - 1);
    const size = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(text);
    if (!size) throw new HttpParseError("the answer's chunked body has an invalid chunk size");
    this.#left = Number.parseInt(size[1] as string, 16);
    this.#state = this.#left === 0 ? State.Trailers : State.ChunkData;
    return end + 1;
  }

  #chunkDataEnd(data: Buffer, at: number): number {
    if (data.length - at < 2) {
      if (data[at] !== CR) throw new HttpParseError("the answer's chunk is longer than its size");
      return -(at + 1);
    }
    if (data[at] !== CR || data[at + 1] !== LF) throw new HttpParseError("the answer's chunk is longer than its size");
    this.#state = State.ChunkSize;
    return at + 2;
  }

  #trailer(data: Buffer, at: number): number {
    const end = this.#line(data, at);
    if (end === -1) return -(at + 1);
    // Trailer fields are skipped; the empty line ends the body.
    if (end - at === 1) this.#finish();
    return end + 1;
  }
}
