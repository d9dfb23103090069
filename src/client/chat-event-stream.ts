import { ProtocolError } from "../errors.js";
import { SseEventTooLongError, SseLineTooLongError } from "../sse/sse-decoder.js";
import type { ChatEventDecoder } from "./chat-events.js";
import type { Deadline } from "./deadline.js";
import type { CallContext } from "./http-errors.js";
import type { HttpResponse } from "./http-response.js";
import { mapFailure } from "./http-transport.js";
import type { ChatEvent } from "./wire-types.js";

/**
 * An open event stream (`POST /api/chat/events`), pulled one network read at a time:
 * `next()` resolves with the chat events of the next read that held any, undefined at
 * the end. It is a plain object rather than an async generator so that a reader pays
 * one step per read, not one per layer of generators (a reply streams a read per token).
 * The timeout bounds the server's silence while `next()` waits: it restarts with each
 * batch and with each call. `close()` stops reading (the connection goes with it if the
 * reply has not ended); reading to the end closes it too.
 */
export class ChatEventStream {
  readonly #response: HttpResponse;
  readonly #deadline: Deadline;
  readonly #decoder: ChatEventDecoder;
  readonly #call: CallContext;
  #done = false;

  constructor(response: HttpResponse, deadline: Deadline, decoder: ChatEventDecoder, call: CallContext) {
    this.#response = response;
    this.#deadline = deadline;
    this.#decoder = decoder;
    this.#call = call;
  }

  /** The events of the next network read that held any; undefined once the stream has ended. */
  next(): Promise<ChatEvent[] | undefined> {
    if (this.#done) return Promise.resolve(undefined);
    // The caller's own time since the last batch is not the server's silence.
    this.#deadline.refresh();
    return this.#read();
  }

  // Promise callbacks rather than an async function: the reader's generator stays a small
  // function for the JIT to compile, instead of one with this loop inlined.
  #read(): Promise<ChatEvent[] | undefined> {
    return this.#response.read().then(this.#onChunk, this.#onFailure);
  }

  readonly #onChunk = (chunk: Uint8Array | undefined): ChatEvent[] | undefined | Promise<ChatEvent[] | undefined> => {
    let batch: ChatEvent[];
    try {
      batch = chunk ? this.#decoder.push(chunk) : this.#decoder.end();
    } catch (error) {
      return this.#onFailure(error);
    }
    if (!chunk) {
      this.close();
      return batch.length ? batch : undefined;
    }
    // Only events count as progress: a server that sends nothing but pings is hanging.
    if (batch.length === 0) return this.#read();
    this.#deadline.refresh();
    return batch;
  };

  readonly #onFailure = (error: unknown): never => {
    this.close();
    throw this.#failure(error);
  };

  /** Stop reading; an unfinished reply's connection is closed. */
  close(): void {
    if (this.#done) return;
    this.#done = true;
    this.#deadline.dispose();
    this.#response.cancel();
  }

  #failure(error: unknown): Error {
    const { chatId } = this.#call;
    if (error instanceof SseLineTooLongError) {
      return new ProtocolError(`POST /api/chat/events sent a line longer than ${error.maxLineLength} characters`, {
        chatId,
        hint: "Raise `maxLineLength` if the server's replies are really that long.",
      });
    }
    if (error instanceof SseEventTooLongError) {
      return new ProtocolError(`POST /api/chat/events sent an event longer than ${error.maxEventLength} characters (its data lines together)`, {
        chatId,
        hint: "Raise `maxLineLength` (it bounds an event as well as a line) if the server's replies are really that long.",
      });
    }
    return mapFailure(error, this.#deadline, this.#call, this.#response.url, "stream");
  }
}
