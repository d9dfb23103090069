import { Buffer } from "node:buffer";
import type { Handler } from "hono";
import { chatCompletion, completionChunk, completionMeta, textFrames, usageChunk, usageOf, type CompletionMeta } from "./completion-chunks.js";
import { parseChatCompletionRequest, type ChatCompletionRequest } from "./chat-completion-request.js";
import type { AccountPool, ChosenAccount } from "./account-pool.js";
import type { ConversationPlan, ConversationStore } from "./conversation-store.js";
import { ServerError } from "../errors.js";
import type { Conversation } from "../provider/conversation.js";
import type { ConcurrencyLimiter } from "./concurrency-limiter.js";
import { finishReply, readReply, streamReply, type ReplyPart, type UpstreamOptions } from "../provider/reply-parts.js";
import { invalidRequest, type GatewayError } from "./openai-errors.js";
import type { Messages } from "../provider/provider-types.js";

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
  /** `conversations`: chats are kept and continued (see ConversationStore); undefined: a chat per request, deleted. */
  conversations: ConversationStore | undefined;
}

/** The header that names a reply's chat on the site. */
export const CHAT_ID_HEADER = "x-oasst-chat-id";

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
    let chatId: string | undefined;
    const open = (chosen: ChosenAccount, plan: ConversationPlan | undefined) => {
      const upstream: UpstreamOptions = { ...chosen.upstream, signal, waitUntil: handOver, onChat: (id) => (chatId = id) };
      if (!plan || !deps.conversations) return streamReply(request, upstream);
      const store = deps.conversations;
      let handle: Conversation | undefined;
      const parts = streamReply(
        { ...request, messages: plan.messages },
        { ...upstream, conversation: plan.conversation, regenerate: plan.regenerate, onConversation: (kept) => (handle = kept) },
      );
      return remembered(parts, (text) => {
        if (handle) store.remember(plan, handle, text, chosen.account.id);
      });
    };
    let reply: AsyncGenerator<ReplyPart, void>;
    let first: IteratorResult<ReplyPart, void>;
    try {
      // Failures before the first part (auth, rate limit, unknown model) keep their HTTP status.
      ({ reply, first } = await startReply(deps, request.messages, open));
    } catch (error) {
      await release();
      throw error;
    }
    /** Once the reply is whole: the end of its stream and its chat's delete, then the slot. */
    const afterFinish = () =>
      settle(
        finishReply(reply)
          .then(() => chatEnd)
          .then(freeSlot),
        deps.waitUntil,
      );
    const chatHeader: Record<string, string> = chatId ? { [CHAT_ID_HEADER]: chatId } : {};
    if (!request.stream) {
      const whole = await readReply(prepend(first, reply)).catch(async (error: unknown) => {
        await release();
        throw error;
      });
      await afterFinish();
      return c.json(chatCompletion(meta, whole.text, whole.finishReason, usageOf(request.messages, whole.completionTokens)), 200, chatHeader);
    }
    const frames = completionFrames(first, reply, request, meta, deps.describe, release, afterFinish);
    return new Response(
      eventStream(frames, () => hangUp.abort()),
      { headers: { ...SSE_HEADERS, ...chatHeader } },
    );
  };
}

/**
 * The reply and its first part. With conversations, a known history goes to its chat's
 * account; a chat that is gone from the site (deleted with `oasst chats --delete`, expired)
 * is forgotten and the history starts a new chat, so that nothing the caller sent is lost.
 */
async function startReply(
  deps: ChatCompletionsDeps,
  messages: Messages,
  open: (chosen: ChosenAccount, plan: ConversationPlan | undefined) => AsyncGenerator<ReplyPart, void>,
): Promise<{ reply: AsyncGenerator<ReplyPart, void>; first: IteratorResult<ReplyPart, void> }> {
  const store = deps.conversations;
  let plan = store?.plan(messages);
  const owner = plan?.account === undefined ? undefined : await deps.pool.find(plan.account);
  // The account that holds the chat is not among this gateway's: the history starts anew.
  if (plan && plan.account !== undefined && !owner) plan = { ...plan, conversation: "new", regenerate: false, messages, account: undefined };
  const reply = open(owner ?? (await deps.pool.choose()), plan);
  try {
    return { reply, first: await reply.next() };
  } catch (error) {
    const kept = plan?.conversation;
    if (!store || typeof kept !== "object" || !chatIsGone(error)) throw error;
    store.forget([kept.chatId]);
    const fresh = store.plan(messages);
    const again = open(await deps.pool.choose(), fresh);
    return { reply: again, first: await again.next() };
  }
}

/** The site refused the prompter message under a kept reply: the chat or that message is no more. */
function chatIsGone(error: unknown): boolean {
  return error instanceof ServerError && error.summary.includes("/api/chat/prompter_message");
}

/** The reply's parts, and its text once whole to `onWhole` (before its finish part is passed on). */
async function* remembered(parts: AsyncGenerator<ReplyPart, void>, onWhole: (text: string) => void): AsyncGenerator<ReplyPart, void, undefined> {
  let text = "";
  for await (const part of parts) {
    if (part.type === "text") text += part.text;
    else if (part.type === "finish") onWhole(text);
    yield part;
  }
}

/** A generator whose first step was already taken, whole again. */
async function* prepend(first: IteratorResult<ReplyPart, void>, rest: AsyncGenerator<ReplyPart, void>): AsyncGenerator<ReplyPart, void, undefined> {
  if (first.done) return;
  yield first.value;
  yield* rest;
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
  const textFrame = textFrames(meta, withUsage);
  let finished = false;
  try {
    yield frame(completionChunk(meta, { role: "assistant", content: "" }, null, withUsage));
    for (let step = first; !step.done; step = await reply.next()) {
      const part = step.value;
      if (part.type === "pending") {
        // An SSE comment: clients ignore it, `curl -N` shows the wait, idle timeouts see traffic.
        yield `: queue position ${part.queuePosition} of ${part.queueSize}\n\n`;
      } else if (part.type === "text") {
        yield textFrame(part.text);
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
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await frames.next();
      if (cancelled) return;
      if (done) controller.close();
      // Buffer.from, not TextEncoder: one frame a token, and on Node 20 encode() allocates each result on its own.
      else controller.enqueue(Buffer.from(value, "utf8"));
    },
    async cancel() {
      cancelled = true;
      onCancel();
      await frames.return();
    },
  });
}
