import { once } from "node:events";
import type { ServerResponse } from "node:http";
import { setTimeout as delay, setImmediate as nextTurn } from "node:timers/promises";
import { nowMicros, pythonStr } from "./clock.js";
import type { EventSeparator } from "./token-events-cache.js";

/**
 * Writes an event stream the way the website relays sse-starlette's output: status 200,
 * no content-type and no SSE headers (the website pipes the bytes through and sends its
 * headers with the first byte), a chunked body of `data: <json>` events and `: ping`
 * comments. Writes are serialized, so a ping never lands inside an event even when the
 * stream is written one byte at a time.
 */
export class EventStreamWriter {
  private queue: Promise<void> = Promise.resolve();
  /** Settles when the last write has reached the socket (write callbacks run in write order). */
  private lastWriteFlushed: Promise<void> = Promise.resolve();
  private pingTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly outgoing: ServerResponse,
    private readonly separator: EventSeparator,
    private readonly byteChunks: boolean,
    /** Aborted when the connection closes (client gone, or server stopping). */
    readonly signal: AbortSignal,
  ) {
    outgoing.statusCode = 200;
    signal.addEventListener("abort", () => this.stopPings(), { once: true });
  }

  get open(): boolean {
    return !this.signal.aborted && !this.outgoing.writableEnded;
  }

  /** A framed `data:` event. The JSON is pydantic's, so ASCII, unless a fault hands raw bytes. */
  dataEvent(json: string | Uint8Array): Buffer {
    if (typeof json === "string") return Buffer.from(`data: ${json}${this.separator}${this.separator}`, "latin1");
    return Buffer.concat([Buffer.from("data: "), json, Buffer.from(this.separator + this.separator)]);
  }

  /** sse-starlette >= 1.4 keep-alive, first one `intervalMs` after the stream starts. */
  startPings(intervalMs: number): void {
    this.pingTimer = setInterval(() => {
      void this.send(Buffer.from(`: ping - ${pythonStr(nowMicros())}${this.separator}${this.separator}`, "latin1"));
    }, intervalMs);
  }

  stopPings(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  /** Queues bytes; resolves once they are handed to the socket (after a drain if it was full). */
  send(chunk: Buffer): Promise<void> {
    this.queue = this.queue.then(() => this.write(chunk));
    return this.queue;
  }

  /** Resolves after `ms` of silence, or early when the connection closes. */
  async pause(ms: number): Promise<void> {
    if (ms <= 0 || !this.open) return;
    await delay(ms, undefined, { signal: this.signal }).catch(() => undefined);
  }

  /** Resolves when the connection closes (streams that never end by themselves). */
  async untilClosed(): Promise<void> {
    if (this.signal.aborted) return;
    await once(this.signal, "abort");
  }

  /** Ends the chunked body after everything queued. */
  async end(): Promise<void> {
    await this.queue;
    this.stopPings();
    if (this.open) this.outgoing.end();
  }

  /** Destroys the socket once everything queued has reached it: no terminal chunk, a cut connection. */
  async destroyAfterFlush(): Promise<void> {
    await this.queue;
    this.stopPings();
    if (this.open) {
      const closed = new Promise<void>((resolve) => this.signal.addEventListener("abort", () => resolve(), { once: true }));
      await Promise.race([this.lastWriteFlushed, closed]);
    }
    this.outgoing.socket?.destroy();
  }

  private async write(chunk: Buffer): Promise<void> {
    if (!this.byteChunks) {
      await this.writeChunk(chunk);
      return;
    }
    for (let i = 0; i < chunk.length && this.open; i++) {
      await this.writeChunk(chunk.subarray(i, i + 1));
      // A turn of the event loop between bytes, so that each byte leaves in its own packet.
      await nextTurn();
    }
  }

  private async writeChunk(chunk: Buffer): Promise<void> {
    if (!this.open) return;
    let hasRoom = true;
    this.lastWriteFlushed = new Promise((resolve) => {
      hasRoom = this.outgoing.write(chunk, () => resolve());
    });
    if (hasRoom) return;
    try {
      await once(this.outgoing, "drain", { signal: this.signal });
    } catch {
      // The connection closed while the socket was full: nothing more to write.
    }
  }
}
