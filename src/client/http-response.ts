import type { OpenAssistantError } from "../errors.js";
import { readWhole, type BodyQueue } from "./body-queue.js";
import { errorForStatus, type CallContext } from "./http-errors.js";

/**
 * An answer whose headers have arrived; the body is read with `text()`, or chunk by
 * chunk with `read()`. Over direct connections and proxies it is a `QueuedResponse`;
 * over a caller's fetch it wraps the fetch Response.
 */
export interface HttpResponse {
  readonly status: number;
  /** 2xx. */
  readonly ok: boolean;
  readonly url: string;
  /**
   * The whole body as text (UTF-8, a leading BOM dropped, as fetch's `text()`). Past
   * `maxBytes` the rest is dropped, with the connection, and a BodyTooLargeError thrown.
   */
  text(maxBytes: number): Promise<string>;
  /** The next chunk of the body; undefined at its end. */
  read(): Promise<Uint8Array | undefined>;
  /** Stop reading: the rest of the body is dropped, with the connection if it is still streaming. */
  cancel(): void;
  /** The typed error for this non-2xx answer, given its body. */
  error(body: string, call: CallContext): OpenAssistantError;
}

/** Header lookup by name, any case: what the error mapping reads. */
export interface HeaderLookup {
  get(name: string): string | null;
}

/** An answer whose body arrives through a `BodyQueue` (Node's HTTP client, or undici's dispatcher API). */
export class QueuedResponse implements HttpResponse {
  readonly ok: boolean;

  constructor(
    readonly status: number,
    readonly headers: HeaderLookup,
    readonly url: string,
    readonly body: BodyQueue,
  ) {
    this.ok = status >= 200 && status <= 299;
  }

  text(maxBytes: number): Promise<string> {
    return this.body.text(maxBytes);
  }

  read(): Promise<Uint8Array | undefined> {
    return this.body.read();
  }

  cancel(): void {
    this.body.cancel();
  }

  error(body: string, call: CallContext): OpenAssistantError {
    return errorForStatus(this, body, call);
  }
}

export class FetchResponse implements HttpResponse {
  readonly #response: Response;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #done = false;

  constructor(response: Response) {
    this.#response = response;
  }

  get status(): number {
    return this.#response.status;
  }

  get ok(): boolean {
    return this.#response.ok;
  }

  get url(): string {
    return this.#response.url;
  }

  text(maxBytes: number): Promise<string> {
    return readWhole(this, maxBytes);
  }

  async read(): Promise<Uint8Array | undefined> {
    if (this.#done) return undefined;
    this.#reader ??= this.#response.body?.getReader();
    if (!this.#reader) {
      this.#done = true;
      return undefined;
    }
    const { done, value } = await this.#reader.read();
    if (done) this.#done = true;
    return done ? undefined : value;
  }

  cancel(): void {
    this.#reader?.cancel().catch(() => {});
  }

  error(body: string, call: CallContext): OpenAssistantError {
    return errorForStatus(this.#response, body, call);
  }
}
