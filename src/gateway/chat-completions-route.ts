import type { Handler } from "hono";
import { chatCompletion, completionChunk, completionMeta, usageChunk, usageOf, type CompletionMeta } from "./completion-chunks.js";
import { parseChatCompletionRequest, type ChatCompletionRequest } from "./chat-completion-request.js";
import type { AccountPool } from "./account-pool.js";
import type { ConcurrencyLimiter } from "./concurrency-limiter.js";
import { finishReply, readReply, streamReply, type ReplyPart, type UpstreamOptions } from "../provider/reply-parts.js";
import { invalidRequest, type GatewayError } from "./openai-errors.js";

export interface ChatCompletionsDeps {
  /** The accounts replies are spread over. */
  pool: AccountPool;
  limiter: ConcurrencyLimiter;
  /** Fires when the gateway shuts down: replies in flight end, their chats are deleted. */
  shutdown: AbortSignal | undefined;
  /** Any failure in OpenAI's error shape (secrets masked). */
  describe: (error: unknown) => GatewayError;
  /** Given, answers end with the reply and the chat's delete runs after, handed to this; else the answer waits for it. */
  waitUntil: ((task: Promise<void>) => void) | undefined;
}

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  // Reverse proxies (nginx) would otherwise buffer the tokens.
  "x-accel-buffering": "no",
};

/** `POST /v1/chat/completions`, with and without `stream`. */
export function chatCompletionsRoute(deps: ChatCompletionsDeps): Handler {
  return async (c) => {
    const request = parseChatCompletionRequest(await readJson(c.req.raw));
    const hangUp = new AbortController();
    const signal = AbortSignal.any([c.req.raw.signal, hangUp.signal, ...(deps.shutdown ? [deps.shutdown] : [])]);
    const freeSlot = await deps.limiter.acquire(signal);
    // With `waitUntil`, the provider hands over the chat's end (a reply left early is waited
    // for before its delete), so that errors are answered at once; the slot is held until it is done.
    let chatEnd: Promise<void> = Promise.resolve();
    const handOver = deps.waitUntil ? (task: Promise<void>) => void (chatEnd = task) : undefined;
    const release = () => settle(chatEnd.then(freeSlot), deps.waitUntil);
    const meta = completionMeta(request.model);
    let upstream: UpstreamOptions;
    try {
      upstream = (await deps.pool.choose()).upstream;
    } catch (error) {
      freeSlot();
      throw error;
    }
    const reply = streamReply(request, { ...upstream, signal, waitUntil: handOver });
    /** Once the reply is whole: the end of its stream and its chat's delete, then the slot. */
    const afterFinish = () =>
      settle(
        finishReply(reply)
          .then(() => chatEnd)
          .then(freeSlot),
        deps.waitUntil,
      );
    if (!request.stream) {
      const whole = await readReply(reply).catch(async (error: unknown) => {
        await release();
        throw error;
      });
      await afterFinish();
      return c.json(chatCompletion(meta, whole.text, whole.finishReason, usageOf(request.messages, whole.completionTokens)));
    }
    let first: IteratorResult<ReplyPart, void>;
    try {
      // Failures before the first event (auth, rate limit, unknown model) keep their HTTP status.
      first = await reply.next();
    } catch (error) {
      await release();
      throw error;
    }
    const frames = completionFrames(first, reply, request, meta, deps.describe, release, afterFinish);
    return new Response(
      eventStream(frames, () => hangUp.abort()),
      { headers: SSE_HEADERS },
    );
  };
}

/** `task` handed to `waitUntil`, or awaited when there is none. */
async function settle(task: Promise<void>, waitUntil: ((task: Promise<void>) => void) | undefined): Promise<void> {
  if (waitUntil) waitUntil(task);
  else await task;
}

async function readJson(request: Request): Promise<unknown> {
  const text = await request.text();
  try {
    return JSON.parse(text);
  } catch {
    throw invalidRequest("The request body is not valid JSON.", null, "invalid_json");
  }
}

/**
 * The SSE frames of a streamed completion. Owns `release`: the slot is freed once the
 * upstream chat is gone (through `afterFinish` once the reply is whole).
 */
async function* completionFrames(
  first: IteratorResult<ReplyPart, void>,
  reply: AsyncGenerator<ReplyPart, void>,
  request: ChatCompletionRequest,
  meta: CompletionMeta,
  describe: (error: unknown) => GatewayError,
  release: () => Promise<void>,
  afterFinish: () => Promise<void>,
): AsyncGenerator<string, void, undefined> {
  const withUsage = request.includeUsage;
  let finished = false;
  try {
    yield frame(completionChunk(meta, { role: "assistant", content: "" }, null, withUsage));
    for (let step = first; !step.done; step = await reply.next()) {
      const part = step.value;
      if (part.type === "pending") {
        // An SSE comment: clients ignore it, `curl -N` shows the wait, idle timeouts see traffic.
        yield `: queue position ${part.queuePosition} of ${part.queueSize}\n\n`;
      } else if (part.type === "text") {
        yield frame(completionChunk(meta, { content: part.text }, null, withUsage));
      } else {
        finished = true;
        yield frame(completionChunk(meta, {}, part.finishReason, withUsage));
        if (withUsage) yield frame(usageChunk(meta, usageOf(request.messages, part.completionTokens)));
        break;
      }
    }
    yield "data: [DONE]\n\n";
  } catch (error) {
    // The status line is long gone: the error travels as a last chunk, then the stream ends.
    yield frame(describe(error).toBody());
  } finally {
    if (finished) {
      await afterFinish();
    } else {
      await reply.return();
      await release();
    }
  }
}

function frame(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

/** Frames → response body. A client that hangs up cancels the body: `onCancel` aborts the upstream reply. */
function eventStream(frames: AsyncGenerator<string, void>, onCancel: () => void): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await frames.next();
      if (cancelled) return;
      if (done) controller.close();
      else controller.enqueue(encoder.encode(value));
    },
    async cancel() {
      cancelled = true;
      onCancel();
      await frames.return();
    },
  });
}
