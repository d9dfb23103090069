import type { SamplingParameters } from "../client/wire-types.js";
import { SseDecoder } from "../sse/sse-decoder.js";
import type { StoredMessage } from "./chat-store.js";

/**
 * The emulator's worker in front of a real model: an OpenAI-compatible server (Ollama,
 * llama.cpp's server, vLLM, LM Studio) streams `POST {baseUrl}/chat/completions`, and its
 * deltas become the reply's tokens. Everything read is capped, so a broken or hostile
 * upstream cannot grow the emulator's memory without bound.
 */

/** `EmulatorOptions.upstream`. */
export interface UpstreamOptions {
  /** The OpenAI-compatible API's base URL, e.g. `http://127.0.0.1:11434/v1` (Ollama). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`. Default none. */
  apiKey?: string;
  /** The `model` of every request. Default: the Open-Assistant model config name of the message. */
  model?: string;
}

export interface UpstreamMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** The body of the `/chat/completions` request. */
export interface UpstreamRequest {
  model: string;
  messages: UpstreamMessage[];
  stream: true;
  max_tokens: number;
  temperature?: number;
  top_p?: number;
}

/** A reply longer than this (UTF-16 units) fails: the message keeps everything it streamed in memory. */
const MAX_REPLY_CHARS = 4 * 1024 * 1024;
/** One SSE line or event of the upstream: a chunk carries one delta, far below this. */
const MAX_EVENT_CHARS = 1024 * 1024;
/** How much of an error answer's body goes into the log line. */
const MAX_ERROR_BODY_BYTES = 2048;

export class UpstreamError extends Error {
  override name = "UpstreamError";
}

/** The chat's thread from its root to `parent` (the prompter message answered) as OpenAI messages, the system prompt first. */
export function upstreamRequest(
  upstream: UpstreamOptions,
  lookUp: (id: string) => StoredMessage | undefined,
  parent: StoredMessage,
  modelConfigName: string,
  sampling: SamplingParameters,
  systemPrompt: string | null,
): UpstreamRequest {
  const thread: UpstreamMessage[] = [];
  for (let message: StoredMessage | undefined = parent; message; message = message.parentId ? lookUp(message.parentId) : undefined) {
    thread.push({ role: message.role === "prompter" ? "user" : "assistant", content: message.content ?? "" });
  }
  thread.reverse();
  if (systemPrompt) thread.unshift({ role: "system", content: systemPrompt });
  return {
    model: upstream.model ?? modelConfigName,
    messages: thread,
    stream: true,
    max_tokens: sampling.max_new_tokens,
    ...(sampling.temperature === null ? {} : { temperature: sampling.temperature }),
    ...(sampling.top_p === null ? {} : { top_p: sampling.top_p }),
  };
}

/** Up to `max` bytes of a body, then the rest is dropped. */
async function readCapped(body: ReadableStream<Uint8Array> | null, max: number): Promise<string> {
  if (!body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, max).toString("utf8");
}

interface CompletionChunk {
  choices?: { delta?: { content?: unknown }; finish_reason?: unknown }[];
  error?: unknown;
}

/** The longest an upstream may stay silent (loading a model included) before the reply fails. */
export const UPSTREAM_SILENCE_MS = 300_000;

/** Streams one completion; `onToken` gets each non-empty content delta. Rejects with an UpstreamError (or the abort reason). */
export async function streamCompletion(
  upstream: UpstreamOptions,
  request: UpstreamRequest,
  stop: AbortSignal,
  onToken: (text: string) => void,
  silenceMs = UPSTREAM_SILENCE_MS,
): Promise<void> {
  const url = `${upstream.baseUrl}/chat/completions`;
  // A model server that goes quiet must not hold its worker slot for ever.
  const silent = new AbortController();
  let timer = setTimeout(() => silent.abort(), silenceMs);
  const heard = () => {
    clearTimeout(timer);
    timer = setTimeout(() => silent.abort(), silenceMs);
  };
  const signal = AbortSignal.any([stop, silent.signal]);
  try {
    await streamWithin(url, upstream, request, signal, onToken, heard);
  } catch (error) {
    if (silent.signal.aborted && !stop.aborted) throw new UpstreamError(`POST ${url} sent nothing for ${Math.round(silenceMs / 1000)} s`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function streamWithin(
  url: string,
  upstream: UpstreamOptions,
  request: UpstreamRequest,
  signal: AbortSignal,
  onToken: (text: string) => void,
  heard: () => void,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        ...(upstream.apiKey ? { authorization: `Bearer ${upstream.apiKey}` } : {}),
      },
      body: JSON.stringify(request),
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new UpstreamError(`POST ${url} failed: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  }
  if (!response.ok) {
    const body = (await readCapped(response.body, MAX_ERROR_BODY_BYTES)).replace(/\s+/g, " ").trim();
    throw new UpstreamError(`POST ${url} answered ${response.status}${body ? `: ${body}` : ""}`);
  }
  if (!response.body) throw new UpstreamError(`POST ${url} answered without a body`);
  const decoder = new SseDecoder({ maxLineLength: MAX_EVENT_CHARS });
  let length = 0;
  let finished = false;
  const handle = (data: string): boolean => {
    if (data === "[DONE]") return true;
    let chunk: CompletionChunk;
    try {
      chunk = JSON.parse(data) as CompletionChunk;
    } catch {
      throw new UpstreamError(`POST ${url} streamed an event that is not JSON`);
    }
    if (chunk.error !== undefined) throw new UpstreamError(`POST ${url} streamed an error: ${JSON.stringify(chunk.error).slice(0, 500)}`);
    const choice = chunk.choices?.[0];
    const content = choice?.delta?.content;
    if (typeof content === "string" && content.length > 0) {
      length += content.length;
      if (length > MAX_REPLY_CHARS) throw new UpstreamError(`POST ${url} streamed a reply over ${MAX_REPLY_CHARS} characters`);
      onToken(content);
    }
    if (choice?.finish_reason) finished = true;
    return false;
  };
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      heard();
      const events = done ? decoder.end() : decoder.push(value);
      for (const event of events) if (handle(event.data)) return;
      if (done) break;
    }
  } catch (error) {
    if (signal.aborted || error instanceof UpstreamError) throw error;
    throw new UpstreamError(`POST ${url}: ${(error as Error).message}`);
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  // Some servers close right after the last chunk instead of sending [DONE]; a stream cut before any finish is a failure.
  if (!finished) throw new UpstreamError(`POST ${url} ended its stream before the reply finished`);
}
