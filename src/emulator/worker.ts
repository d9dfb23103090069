import type { StoredMessage } from "./chat-store.js";
import type { EmulatorSettings } from "./settings.js";
import type { TokenEventsCache } from "./token-events-cache.js";
import { streamCompletion, type UpstreamOptions, type UpstreamRequest } from "./upstream.js";

/**
 * The emulated work queues and workers, after the real server's model (queueing.py,
 * routes/workers.py, chat_repository.start_work):
 *
 * - Each model config has its own work queue (the server keys queues by compat hash)
 *   and its own worker with `workerSlots` parallel requests (`max_parallel_requests`).
 * - An assistant message is `pending` from its creation until the worker takes it off
 *   the queue, which it does as soon as a slot is free, whether or not the client has
 *   opened the event stream. The worker then marks it `in_progress` and pushes its
 *   tokens, one every `tokenDelayMs` (all at once with 0), to the message's list; a
 *   stream reads that list destructively, so tokens pushed before it opened arrive at
 *   once, and two streams of one message share them out.
 * - Taking a message off the queue: a `cancelled` one is dropped; one whose chat was
 *   deleted makes the worker fail (the real server reads the message's row, which is
 *   gone), as does finishing a reply whose chat was deleted meanwhile: every reply the
 *   worker was generating then ends with "Aborted due to worker error."
 *   (`deleteFailsWorker`); one queued longer than `messageTimeoutMs` becomes `timeout` and gets an
 *   `error` item "Timeout" (checked first, as start_work does).
 * - Queue positions come from the queue's enqueue/dequeue counters and the message's
 *   `pos:` key, which expires 60 s (message_queue_expire) after the enqueue.
 *
 * With an upstream (`settings.upstream`), the worker streams the reply from that model
 * server instead: its deltas are the tokens, and a failure ends the reply as a worker
 * error ("Aborted due to worker error.", `aborted_by_worker`), as the real worker's does.
 *
 * One deliberate difference: a reply the worker has finished before any stream opened
 * on it stays `in_progress` for up to a second, until a stream opens (which then gets
 * the whole reply) or the second is over. The real worker completes it at once; but
 * with a fast emulated worker (token delay 0) a client opening the stream right after
 * its POST would then find a finished message (an empty 200) every time.
 */

/**
 * A reply the worker finished before any stream opened on it becomes `complete` this long
 * after (the real worker completes it at once; a stream opened later gets the empty 200).
 */
const UNREAD_REPLY_GRACE_MS = 1000;

/** message_queue_expire: the `pos:` key of a queued message expires after this. */
const POSITION_KEY_EXPIRE_MS = 60_000;

export interface QueuePosition {
  queue_position: number;
  queue_size: number;
}

class WorkQueue {
  private items: MessageWork[] = [];
  /** The replies the worker is generating. */
  readonly generating = new Set<MessageWork>();
  private head = 0;
  /** Redis `ctr_enq:` / `ctr_deq:` counters. */
  enqueued = 0;
  dequeued = 0;
  /** Slots in use. */
  running = 0;

  push(work: MessageWork): void {
    this.items.push(work);
  }

  shift(): MessageWork | undefined {
    if (this.head >= this.items.length) return undefined;
    const work = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return work;
  }
}

/** One assistant message's way through the queue and the worker, and what its streams have read. */
export class MessageWork {
  /** The queue's enqueue counter after this message was pushed (`pos:{id}`); 0 when never queued. */
  position = 0;
  enqueuedAt = 0;
  /** The worker took it (it holds, or held, a slot). */
  started = false;
  /** Tokens the worker has pushed. */
  produced = 0;
  /** The worker has pushed everything: tokens and the final item. */
  productionEnded = false;
  /** The final item on the message's list: the finished message, or an error ("Timeout"). */
  terminal: { kind: "message" } | { kind: "error"; error: string } | undefined;
  /** Tokens and final item already taken off the list by a stream. */
  delivered = 0;
  terminalDelivered = false;
  streamsOpened = 0;
  openStreams = 0;
  /** The message's final state has been applied. */
  finished = false;
  /** Its chat was deleted. */
  deleted = false;
  /** The upstream's tokens so far (with an upstream). */
  readonly tokens: string[] = [];
  /** Stops the upstream request. */
  upstreamAbort: AbortController | undefined;
  private waiters = new Set<() => void>();

  constructor(
    readonly message: StoredMessage,
    readonly prompt: string,
    readonly tokenCount: number,
    /** The owner's pending set, which the message leaves when the worker takes it. */
    readonly ownerPending: Set<StoredMessage>,
    readonly queue: WorkQueue,
    /** The request to the upstream model server, when the emulator has one. */
    readonly upstream: UpstreamRequest | undefined,
  ) {}

  /** Something was pushed: wake the streams waiting on this message. */
  notify(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Resolves true when something is pushed, false after `ms` of silence or when the signal fires. */
  waitForItem(ms: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (pushed: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        signal.removeEventListener("abort", aborted);
        resolve(pushed);
      };
      const wake = () => done(true);
      const aborted = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      this.waiters.add(wake);
      signal.addEventListener("abort", aborted, { once: true });
    });
  }
}

export class WorkerPool {
  private readonly queues = new Map<string, WorkQueue>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Each assistant message's life in the queue and the worker, once it was queued. */
  private readonly works = new WeakMap<StoredMessage, MessageWork>();

  constructor(
    private readonly settings: EmulatorSettings,
    private readonly tokenEvents: TokenEventsCache,
  ) {}

  /** Creates the message's work record; `queue` false leaves it out of the queue (a refused enqueue: 503). */
  enqueue(message: StoredMessage, prompt: string, tokenCount: number, ownerPending: Set<StoredMessage>, queue = true, upstream?: UpstreamRequest): MessageWork {
    const queueKey = JSON.stringify(message.workParameters?.model_config ?? null);
    let workQueue = this.queues.get(queueKey);
    if (!workQueue) {
      workQueue = new WorkQueue();
      this.queues.set(queueKey, workQueue);
    }
    const work = new MessageWork(message, prompt, tokenCount, ownerPending, workQueue, upstream);
    this.works.set(message, work);
    if (queue) {
      workQueue.enqueued++;
      work.position = workQueue.enqueued;
      work.enqueuedAt = Date.now();
      workQueue.push(work);
      this.pump(workQueue);
    }
    return work;
  }

  /** What a `pending` event says: `max(pos - dequeued, 0)` and `max(enqueued - dequeued, position)`. */
  position(work: MessageWork): QueuePosition {
    const { queue } = work;
    const pos = work.position > 0 && Date.now() - work.enqueuedAt < POSITION_KEY_EXPIRE_MS ? work.position : 0;
    const queuePosition = Math.max(pos - queue.dequeued, 0);
    return { queue_position: queuePosition, queue_size: Math.max(queue.enqueued - queue.dequeued, queuePosition) };
  }

  /** The message's work, if it was queued. */
  workOf(message: StoredMessage): MessageWork | undefined {
    return this.works.get(message);
  }

  /** A stream opened on the message. */
  attach(work: MessageWork): void {
    work.streamsOpened++;
    work.openStreams++;
  }

  /** A stream closed: if the worker is done, the message gets its final state (the client left early). */
  detach(work: MessageWork): void {
    work.openStreams--;
    if (work.productionEnded && work.openStreams === 0) this.finish(work);
  }

  /** Applies the worker's result: `complete` with the whole text. Once. */
  finish(work: MessageWork): void {
    if (work.finished || work.terminal?.kind !== "message") return;
    work.finished = true;
    const { message } = work;
    message.state = "complete";
    message.content = work.upstream ? work.tokens.join("") : this.tokenEvents.get(work.prompt, work.tokenCount, this.settings.separator).text;
  }

  /** Stops every timer (the server is stopping). */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const queue of this.queues.values()) for (const work of queue.generating) work.upstreamAbort?.abort();
  }

  private pump(queue: WorkQueue): void {
    while (queue.running < this.settings.workerSlots) {
      const work = queue.shift();
      if (!work) return;
      queue.dequeued++;
      const { message } = work;
      const timeout = this.settings.messageTimeoutMs;
      if (timeout > 0 && Date.now() - message.createdAt / 1000 > timeout) {
        message.state = "timeout";
        work.ownerPending.delete(message);
        work.terminal = { kind: "error", error: "Timeout" };
        work.productionEnded = true;
        work.notify();
        continue;
      }
      if (work.deleted && this.settings.deleteFailsWorker) {
        this.failWorker(queue);
        continue;
      }
      if (message.state === "cancelled" || work.deleted || message.state !== "pending") continue;
      this.start(work);
    }
  }

  private start(work: MessageWork): void {
    const { queue, message } = work;
    queue.running++;
    queue.generating.add(work);
    work.started = true;
    message.state = "in_progress";
    work.ownerPending.delete(message);
    const delay = this.settings.tokenDelayMs;
    if (this.settings.streamFault !== undefined) {
      // A stream fault scripts the stream itself; the worker only holds the slot for the reply's duration.
      this.later(delay * work.tokenCount, () => this.release(work));
      work.notify();
      return;
    }
    const { upstream } = this.settings;
    if (upstream && work.upstream) return this.generateUpstream(work, upstream, work.upstream);
    if (delay <= 0 || work.tokenCount <= 1) {
      work.produced = work.tokenCount;
      this.endProduction(work);
      return;
    }
    work.produced = 1;
    work.notify();
    const step = () => {
      if (work.productionEnded) return; // the worker failed
      work.produced++;
      if (work.produced >= work.tokenCount) {
        this.endProduction(work);
        return;
      }
      work.notify();
      this.later(delay, step);
    };
    this.later(delay, step);
  }

  private generateUpstream(work: MessageWork, upstream: UpstreamOptions, request: UpstreamRequest): void {
    const abort = new AbortController();
    work.upstreamAbort = abort;
    const onToken = (text: string) => {
      work.tokens.push(text);
      work.produced++;
      work.notify();
    };
    streamCompletion(upstream, request, abort.signal, onToken).then(
      () => this.endProduction(work),
      (error: unknown) => {
        // Aborted: the server is stopping, or the worker already failed this reply.
        if (abort.signal.aborted || work.productionEnded) return;
        if (!this.settings.quiet) console.error(`oasst emulate: upstream failed: ${error instanceof Error ? error.message : String(error)}`);
        // As with a finished reply: a stream opened right after the POST (a refused connection fails at once) still gets
        // the error event, which sets the state.
        this.abortReply(work, work.streamsOpened === 0 ? UNREAD_REPLY_GRACE_MS : 0);
        this.release(work);
      },
    );
  }

  /** The worker's error for one reply: an `error` item, the message `aborted_by_worker` (after `graceMs`). */
  private abortReply(work: MessageWork, graceMs = 0): void {
    work.upstreamAbort?.abort();
    if (graceMs > 0) this.later(graceMs, () => (work.message.state = "aborted_by_worker"));
    else work.message.state = "aborted_by_worker";
    work.terminal = { kind: "error", error: "Aborted due to worker error." };
    work.productionEnded = true;
    work.finished = true;
    work.notify();
  }

  private endProduction(work: MessageWork): void {
    if (work.productionEnded) return;
    if (work.deleted && this.settings.deleteFailsWorker) {
      this.failWorker(work.queue);
      return;
    }
    work.terminal = { kind: "message" };
    work.productionEnded = true;
    if (work.streamsOpened > 0 && work.openStreams === 0) this.finish(work);
    if (work.streamsOpened === 0) {
      this.later(UNREAD_REPLY_GRACE_MS, () => {
        if (work.streamsOpened === 0) this.finish(work);
      });
    }
    this.release(work);
    work.notify();
  }

  private release(work: MessageWork): void {
    if (!work.queue.generating.delete(work)) return;
    work.queue.running--;
    this.pump(work.queue);
  }

  /** The worker's connection failed: every reply it was generating is aborted, and it takes work again. */
  private failWorker(queue: WorkQueue): void {
    for (const work of queue.generating) this.abortReply(work);
    queue.generating.clear();
    queue.running = 0;
    this.pump(queue);
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }
}
