/**
 * A response body between the network and its reader: chunks queue up as they
 * arrive, `read()` takes them in order. Past a few queued chunks it asks the
 * network side to pause (`wantsPause`) and calls `onDrain` once the reader caught up.
 */

/** Chunks queued before the network side is asked to pause (a socket read is up to 64 KiB). */
const HIGH_WATER_CHUNKS = 8;
/** Stateless without `stream: true`: one serves every body. */
const utf8 = new TextDecoder();

/** A body read whole went past the reader's limit; the transfer was stopped. */
export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The answer is larger than ${maxBytes} bytes`);
    this.name = "BodyTooLargeError";
  }
}

export class BodyQueue {
  readonly #chunks: Uint8Array[] = [];
  #waiting: { resolve: (chunk: Uint8Array | undefined) => void; reject: (error: unknown) => void } | undefined;
  #ended = false;
  #failure: { error: unknown } | undefined;
  #drain: (() => void) | undefined;
  readonly #onCancel: () => void;

  /** `onCancel` stops the transfer when the reader gives up before the end. */
  constructor(onCancel: () => void) {
    this.#onCancel = onCancel;
  }

  get wantsPause(): boolean {
    return this.#chunks.length >= HIGH_WATER_CHUNKS;
  }

  /** Call `resume` once, when the reader has taken every queued chunk. */
  onDrain(resume: () => void): void {
    this.#drain = resume;
  }

  /** From the network: a chunk of the body. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.#ended || this.#failure) return;
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting.resolve(chunk);
    } else {
      this.#chunks.push(chunk);
    }
  }

  /** From the network: the body is complete. */
  end(): void {
    if (this.#failure) return;
    this.#ended = true;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve(undefined);
  }

  /** From the network: the body broke off. */
  fail(error: unknown): void {
    if (this.#ended || this.#failure) return;
    this.#failure = { error };
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(error);
  }

  /** The next chunk; undefined at the end of the body. */
  read(): Promise<Uint8Array | undefined> {
    const chunk = this.#chunks.shift();
    if (chunk) {
      if (this.#chunks.length === 0) this.#resume();
      return Promise.resolve(chunk);
    }
    if (this.#failure) return Promise.reject(this.#failure.error);
    if (this.#ended) return Promise.resolve(undefined);
    this.#resume();
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  /**
   * The whole body as text: UTF-8, U+FFFD for bad bytes, a leading BOM dropped (as fetch's `text()`).
   * Past `maxBytes` it stops the transfer (with the connection, if still streaming) and throws a BodyTooLargeError.
   */
  async text(maxBytes = Number.POSITIVE_INFINITY): Promise<string> {
    // A small answer has usually come whole with its head: no read loop then.
    if (this.#ended && !this.#failure && byteLength(this.#chunks) <= maxBytes) return decodeAll(this.#chunks.splice(0));
    return readWhole(this, maxBytes);
  }

  /** Stop reading: what is queued is dropped, and an unfinished transfer is stopped. */
  cancel(): void {
    this.#chunks.length = 0;
    this.#drain = undefined;
    if (this.#ended || this.#failure) return;
    this.#failure = { error: new Error("The reader stopped reading") };
    this.#onCancel();
  }

  #resume(): void {
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.();
  }
}

/** Reads `body` to its end as text (as `BodyQueue.text`); past `maxBytes` cancels it and throws a BodyTooLargeError. */
export async function readWhole(body: { read(): Promise<Uint8Array | undefined>; cancel(): void }, maxBytes: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (let chunk = await body.read(); chunk; chunk = await body.read()) {
    bytes += chunk.length;
    if (bytes > maxBytes) {
      body.cancel();
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(chunk);
  }
  return decodeAll(chunks);
}

function byteLength(chunks: Uint8Array[]): number {
  let bytes = 0;
  for (const chunk of chunks) bytes += chunk.length;
  return bytes;
}

function decodeAll(chunks: Uint8Array[]): string {
  return utf8.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
}
