import type { Hono, MiddlewareHandler } from "hono";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { MessageState } from "../client/wire-types.js";
import type { StoredMessage } from "./chat-store.js";
import type { EmulatorState } from "./emulator-state.js";
import { replyEmptyChunked, replyInternalError, type EmulatorBindings, type EmulatorContext } from "./node-reply.js";
import { pydanticJson } from "./pydantic-json.js";
import { ReplyTokenSource } from "./reply-text.js";
import { EventStreamWriter } from "./sse-writer.js";
import { tokenEventStart, tokenEventText, type TokenEvents } from "./token-events-cache.js";
import { queryParam, interpolated } from "./website-request.js";
import { toPydanticMessage } from "./wire-views.js";
import type { MessageWork, WorkerPool } from "./worker.js";

/**
 * `/api/chat/events`: the reply of an assistant message as an event stream (protocol
 * section 3), as `message_events` reads it: the message's list of worker items (tokens,
 * then the finished message or an error), taken destructively; after each
 * `pendingEventIntervalMs` of silence before the first item, a `pending` event with the
 * queue position. A cancelled message never gets an item: `pending` forever. Stream
 * faults script the stream once the worker has taken the message.
 */

const FINISHED_STATES: ReadonlySet<MessageState> = new Set(["manual", "complete", "aborted_by_worker"]);
const WORKER_ERROR = "Aborted due to worker error.";
/** Tokens written before a mid-stream fault (malformed JSON, invalid UTF-8). */
const TOKENS_BEFORE_BAD_LINE = 3;
/** Length of the `oversized-line` fault's line: over a 16 MiB line cap. */
const OVERSIZED_LINE_BYTES = 17 * 1024 * 1024;
const TOKEN_JSON_HEAD = Buffer.from('{"event_type": "token", "text": "');
const TOKEN_JSON_TAIL = Buffer.from('"}');
/** Token events per write when streaming endlessly without a delay. */
const ENDLESS_BATCH = 1024;

/** How the stream leaves the message: finished by the worker, aborted by it, or untouched. */
type Outcome = "complete" | "aborted" | "none";

class ReplyStream {
  private readonly settings: EmulatorState["settings"];
  private readonly writer: EventStreamWriter;
  private readonly prompt: string;
  private readonly tokenCount: number;

  private readonly workers: WorkerPool;

  constructor(
    state: EmulatorState,
    c: EmulatorContext,
    private readonly message: StoredMessage,
    private readonly events: TokenEvents,
    prompt: string,
    tokenCount: number,
    private readonly work: MessageWork | undefined,
  ) {
    this.settings = state.settings;
    this.workers = state.workers;
    this.prompt = prompt;
    this.tokenCount = tokenCount;
    this.writer = new EventStreamWriter(c.env.outgoing, this.settings.separator, this.settings.faults.has("byte-chunks"), c.var.lifetime);
  }

  get outcome(): Outcome {
    switch (this.settings.streamFault) {
      case "hang":
      case "endless":
        return "none";
      case "error-first":
      case "error-event":
        return "aborted";
      default:
        return "complete";
    }
  }

  /** Applies the outcome once; the worker's result stands even if the client left early. */
  settle(): void {
    if (FINISHED_STATES.has(this.message.state)) return;
    if (this.outcome === "complete") {
      this.message.state = "complete";
      this.message.content = this.events.text;
    } else if (this.outcome === "aborted") {
      this.message.state = "aborted_by_worker";
    }
  }

  async run(): Promise<void> {
    const { writer, settings, work } = this;
    const fault = settings.streamFault;
    writer.startPings(settings.pingIntervalMs);
    if (work) this.workers.attach(work);
    try {
      if (fault === "hang") return await writer.untilClosed();
      await this.sendScriptedPending();
      if (!work) return await this.sendScript();
      const started = await this.waitForWorker(work);
      if (!started) return;
      if (fault !== undefined) return await this.sendScript();
      await this.sendItems(work);
    } finally {
      writer.stopPings();
      if (work) this.workers.detach(work);
    }
  }

  /**
   * Before the worker takes the message: silence, and after each `pendingEventIntervalMs`
   * of it a `pending` event. False when the stream ended here (client gone, or a
   * timed-out message's error delivered).
   */
  private async waitForWorker(work: MessageWork): Promise<boolean> {
    const { writer, settings } = this;
    while (writer.open) {
      if (work.started) return true;
      if (work.terminal && !work.terminalDelivered) {
        await this.sendItems(work);
        return false;
      }
      const pushed = await work.waitForItem(settings.pendingEventIntervalMs, writer.signal);
      if (!pushed && writer.open && !work.started) await this.sendPendingPosition(work);
    }
    return false;
  }

  /** The worker's items as they come: tokens in batches, then the final item; `pending` only before the first. */
  private async sendItems(work: MessageWork): Promise<void> {
    const { writer, settings, events } = this;
    let hasStarted = false;
    while (writer.open) {
      if (work.delivered < work.produced) {
        const from = work.delivered;
        work.delivered = work.produced;
        hasStarted = true;
        if (work.upstream) {
          const text = work.tokens.slice(from, work.delivered).map((token) => tokenEventText(token, settings.separator));
          await writer.send(Buffer.from(text.join(""), "latin1"));
          continue;
        }
        await writer.send(events.body.subarray(tokenEventStart(events, from), tokenEventStart(events, work.delivered)));
        continue;
      }
      const terminal = work.terminal;
      if (terminal && !work.terminalDelivered) {
        work.terminalDelivered = true;
        if (terminal.kind === "message") {
          this.workers.finish(work);
          return await this.sendMessage();
        }
        // An upstream failure before any stream opened left the message in progress for this stream to see.
        if (this.message.state === "in_progress") this.message.state = "aborted_by_worker";
        const event = { event_type: "error", error: terminal.error, message: toPydanticMessage(this.message) };
        await writer.send(writer.dataEvent(pydanticJson(event)));
        return await writer.end();
      }
      const pushed = await work.waitForItem(settings.pendingEventIntervalMs, writer.signal);
      if (!pushed && !hasStarted && writer.open) await this.sendPendingPosition(work);
    }
  }

  private async sendPendingPosition(work: MessageWork): Promise<void> {
    const { queue_position, queue_size } = this.workers.position(work);
    await this.writer.send(this.writer.dataEvent(`{"event_type": "pending", "queue_position": ${queue_position}, "queue_size": ${queue_size}}`));
  }

  /** A stream fault's script (the worker has taken the message). */
  private async sendScript(): Promise<void> {
    const { writer } = this;
    const fault = this.settings.streamFault;
    try {
      if (fault === "error-first") return await this.sendError();
      this.message.state = "in_progress";
      if (fault === "message-only") return await this.sendMessage();
      if (fault === "endless") return await this.sendEndless();
      const cut = this.cutPoint();
      await this.sendTokens(0, cut);
      switch (fault) {
        case "error-event":
          return await this.sendError();
        case "drop":
          this.settle();
          return await writer.destroyAfterFlush();
        case "malformed-json":
          await writer.send(writer.dataEvent('{"event_type": "token", "text": "unterminated'));
          break;
        case "invalid-utf8":
          await writer.send(writer.dataEvent(Buffer.concat([TOKEN_JSON_HEAD, Buffer.from([0xff, 0xfe]), TOKEN_JSON_TAIL])));
          break;
        case "oversized-line":
          await writer.send(writer.dataEvent(`{"event_type": "token", "text": "${"x".repeat(OVERSIZED_LINE_BYTES)}"}`));
          break;
      }
      await this.sendTokens(cut, this.tokenCount);
      await this.sendMessage();
    } finally {
      this.settle();
    }
  }

  /** Where a mid-stream fault strikes. */
  private cutPoint(): number {
    switch (this.settings.streamFault) {
      case "error-event":
      case "drop":
        return Math.floor(this.tokenCount / 2);
      case "malformed-json":
      case "invalid-utf8":
        return Math.min(TOKENS_BEFORE_BAD_LINE, this.tokenCount);
      case "oversized-line":
        return Math.min(1, this.tokenCount);
      default:
        return this.tokenCount;
    }
  }

  /** `pendingEvents` scripted `pending` events, counting down (a demo queue), each followed by `pendingIntervalMs`. */
  private async sendScriptedPending(): Promise<void> {
    const { pendingEvents, pendingIntervalMs } = this.settings;
    for (let position = pendingEvents; position >= 1 && this.writer.open; position--) {
      await this.writer.send(this.writer.dataEvent(`{"event_type": "pending", "queue_position": ${position}, "queue_size": ${pendingEvents}}`));
      await this.writer.pause(pendingIntervalMs);
    }
  }

  /** Token events [from, to): one write without a delay, else one write per token. */
  private async sendTokens(from: number, to: number): Promise<void> {
    const { events, writer } = this;
    if (from >= to) return;
    const delay = this.settings.tokenDelayMs;
    if (delay <= 0) {
      await writer.send(events.body.subarray(tokenEventStart(events, from), tokenEventStart(events, to)));
      return;
    }
    for (let index = from; index < to && writer.open; index++) {
      if (index > 0) await writer.pause(delay);
      await writer.send(events.body.subarray(tokenEventStart(events, index), tokenEventStart(events, index + 1)));
    }
  }

  private async sendEndless(): Promise<void> {
    const { writer, settings } = this;
    const source = new ReplyTokenSource(this.prompt);
    for (let index = 0; writer.open; index++) {
      if (settings.tokenDelayMs > 0) {
        if (index > 0) await writer.pause(settings.tokenDelayMs);
        await writer.send(Buffer.from(tokenEventText(source.next(), settings.separator), "latin1"));
        continue;
      }
      const batch = Array.from({ length: ENDLESS_BATCH }, () => tokenEventText(source.next(), settings.separator));
      await writer.send(Buffer.from(batch.join(""), "latin1"));
    }
  }

  private async sendError(): Promise<void> {
    this.settle();
    const event = { event_type: "error", error: WORKER_ERROR, message: toPydanticMessage(this.message) };
    await this.writer.send(this.writer.dataEvent(pydanticJson(event)));
    await this.writer.end();
  }

  private async sendMessage(): Promise<void> {
    this.settle();
    // An upstream's reply is the message's content (set by the worker), not the synthetic text.
    const textJson = this.work?.upstream ? undefined : this.events.textJson;
    const event = { event_type: "message", message: toPydanticMessage(this.message, textJson) };
    await this.writer.send(this.writer.dataEvent(pydanticJson(event)));
    await this.writer.end();
  }
}

async function streamEvents(c: EmulatorContext, state: EmulatorState): Promise<Response> {
  const { searchParams } = new URL(c.req.url);
  const chatId = interpolated(queryParam(searchParams, "chat_id"));
  const message = state.store.messageInChat(chatId, interpolated(queryParam(searchParams, "message_id")), c.var.user.id);
  // Unknown message (or another user's): an unhandled upstream 500; a prompter message: an upstream 400. Both reach
  // the client as 500.
  if (message?.role !== "assistant" || !message.workParameters) return replyInternalError(c);
  // A finished message: upstream 204, whose empty body the website pipes into a chunked 200.
  if (FINISHED_STATES.has(message.state)) return replyEmptyChunked(c, 200);
  const work = state.workers.workOf(message);
  const prompt = work?.prompt ?? (message.parentId && state.store.message(message.parentId)?.content) ?? "";
  const { settings } = state;
  const tokenCount = work?.tokenCount ?? Math.max(0, Math.min(settings.replyTokens, message.workParameters.sampling_parameters.max_new_tokens));
  const events = state.tokenEvents.get(prompt, tokenCount, settings.separator);
  const stream = new ReplyStream(state, c, message, events, prompt, tokenCount, work);
  if (settings.streamFault === "empty-events") {
    stream.settle();
    return replyEmptyChunked(c, 200);
  }
  await stream.run();
  return RESPONSE_ALREADY_SENT;
}

export function registerEventsRoute(app: Hono<EmulatorBindings>, state: EmulatorState, guard: MiddlewareHandler<EmulatorBindings>): void {
  // Any method works (the seed uses POST).
  app.all("/api/chat/events", guard, (c) => streamEvents(c, state));
}
