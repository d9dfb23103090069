import type { Messages } from "../provider/provider-types.js";
import type { ReplyFinishReason } from "../provider/reply-parts.js";
import { estimatePromptTokens } from "../provider/token-estimate.js";

/** What every object of one completion shares. */
export interface CompletionMeta {
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
}

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    message: { role: "assistant"; content: string; refusal: null };
    logprobs: null;
    finish_reason: ReplyFinishReason;
  }>;
  usage: CompletionUsage;
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: Array<{
    index: 0;
    delta: { role?: "assistant"; content?: string };
    logprobs: null;
    finish_reason: ReplyFinishReason | null;
  }>;
  /** Present (null until the last chunk) when the caller asked for `stream_options.include_usage`. */
  usage?: CompletionUsage | null;
}

export function completionMeta(model: string): CompletionMeta {
  return { id: `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`, created: Math.floor(Date.now() / 1000), model };
}

/** Open-Assistant reports no token counts: completion tokens are its token events, prompt tokens an estimate. */
export function usageOf(messages: Messages, completionTokens: number): CompletionUsage {
  const promptTokens = estimatePromptTokens(messages);
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

export function chatCompletion(meta: CompletionMeta, content: string, finishReason: ReplyFinishReason, usage: CompletionUsage): ChatCompletion {
  return {
    ...meta,
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: finishReason }],
    usage,
  };
}

/** A chunk of the only choice. `withUsage` adds `usage: null`, as OpenAI does when usage comes last. */
export function completionChunk(
  meta: CompletionMeta,
  delta: ChatCompletionChunk["choices"][number]["delta"],
  finishReason: ReplyFinishReason | null,
  withUsage: boolean,
): ChatCompletionChunk {
  const chunk: ChatCompletionChunk = {
    ...meta,
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
  if (withUsage) chunk.usage = null;
  return chunk;
}

const EMPTY_CONTENT = '"content":""';

/**
 * The SSE frame of a text chunk, as `data: ${JSON.stringify(completionChunk(meta, { content: text }, null, withUsage))}\n\n`
 * writes it: what every text chunk of the completion shares is serialized once, the text in each frame.
 * (`"content":""` occurs once in the empty chunk's JSON: a quote inside a string is escaped.)
 */
export function textFrames(meta: CompletionMeta, withUsage: boolean): (text: string) => string {
  const empty = JSON.stringify(completionChunk(meta, { content: "" }, null, withUsage));
  const at = empty.indexOf(EMPTY_CONTENT);
  const head = `data: ${empty.slice(0, at)}"content":`;
  const tail = `${empty.slice(at + EMPTY_CONTENT.length)}\n\n`;
  return (text) => head + JSON.stringify(text) + tail;
}

/** The last chunk of `stream_options.include_usage`: no choices, the usage. */
export function usageChunk(meta: CompletionMeta, usage: CompletionUsage): ChatCompletionChunk {
  return { ...meta, object: "chat.completion.chunk", choices: [], usage };
}
