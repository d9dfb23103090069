import type { Handler } from "hono";
import { chatCompletion, completionChunk, completionMeta, usageChunk, usageOf, type CompletionMeta } from "./completion-chunks.js";
import { parseChatCompletionRequest, type ChatCompletionRequest } from "./chat-completion-request.js";
import type { ConcurrencyLimiter, Release } from "./concurrency-limiter.js";
import { collectReply, streamReply, type ReplyPart, type UpstreamOptions } from "./open-assistant-reply.js";
import { invalidRequest, type GatewayError } from "./openai-errors.js";

export interface ChatCompletionsDeps {
  upstream: UpstreamOptions;
  limiter: ConcurrencyLimiter;
  /** Fires when the gateway shuts down: replies in flight end, their chats are deleted. */
  shutdown: AbortSignal | undefined;
  /** Any failure in OpenAI's error shape (secrets masked). */
  describe: (error: unknown) => GatewayError;
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
    const release = await deps.limiter.acquire(signal);
    const meta = completionMeta(request.model);
    if (!request.stream) {
      try {
        const reply = await collectReply(request, { ...deps.upstream, signal });
        return c.json(chatCompletion(meta, reply.text, reply.finishReason, usageOf(request.messages, reply.completionTokens)));
      } finally {
        release();
      }
    }
    const reply = streamReply(request, { ...deps.upstream, signal });
    let first: IteratorResult<ReplyPart, void>;
    try {
      // Failures before the first event (auth, rate limit, unknown model) keep their HTTP status.
      first = await reply.next();
    } catch (error) {
      release();
      throw error;
    }
    const frames = completionFrames(first, reply, request, meta, deps.describe, release);
    return new Response(eventStream(frames, () => hangUp.abort()), { headers: SSE_HEADERS });
  };
}

async function readJson(request: Request): Promise<unknown> {
  const text = await request.text();
  try {
    return JSON.parse(text);
  } catch {
    throw invalidRequest("The request body is not valid JSON.", null, "invalid_json");
  }
}

/** The SSE frames of a streamed completion. Owns `release`: the slot is freed once the upstream chat is gone. */
async function* completionFrames(
  first: IteratorResult<ReplyPart, void>,
  reply: AsyncGenerator<ReplyPart, void>,
  request: ChatCompletionRequest,
  meta: CompletionMeta,
  describe: (error: unknown) => GatewayError,
  release: Release,
): AsyncGenerator<string, void, undefined> {
  const withUsage = request.includeUsage;
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
        yield frame(completionChunk(meta, {}, part.finishReason, withUsage));
        if (withUsage) yield frame(usageChunk(meta, usageOf(request.messages, part.completionTokens)));
      }
    }
    yield "data: [DONE]\n\n";
  } catch (error) {
    // The status line is long gone: the error travels as a last chunk, then the stream ends.
    yield frame(describe(error).toBody());
  } finally {
    await reply.return();
    release();
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
