import {
  InvalidArgumentError,
  type SharedV3ProviderMetadata,
  type LanguageModelV3,
  type LanguageModelV3CallOptions,
  type LanguageModelV3GenerateResult,
  type LanguageModelV3StreamPart,
  type LanguageModelV3StreamResult,
  type LanguageModelV3Usage,
  type SharedV3Warning,
} from "@ai-sdk/provider";
import type { ChatEvent } from "../client/wire-types.js";
import { AbortError } from "../errors.js";
import { checkConversation, type Conversation } from "../provider/conversation.js";
import { collectReply, streamReply, type ReplyPart, type ReplyRequest, type UpstreamOptions } from "../provider/reply-parts.js";
import { estimatePromptTokens } from "../provider/token-estimate.js";
import { convertToOpenAssistantMessages } from "./convert-to-open-assistant-messages.js";
import { mapFinishReason } from "./map-finish-reason.js";

/** Model config names of Open-Assistant servers; any other name the server knows works too. */
export type OpenAssistantModelId = "OA_SFT_Llama_30B_6" | "OA_SFT_Llama2_70B_10" | (string & {});

/** `providerOptions.openAssistant`: Open-Assistant's sampling parameters that the AI SDK has no name for, and conversations. */
export interface OpenAssistantLanguageModelOptions {
  typicalP?: number;
  repetitionPenalty?: number;
  /**
   * `"new"`: keep the chat; a handle (`providerMetadata.openAssistant` of an earlier
   * result): continue that chat with the prompt's last user message alone (docs/conversations.md).
   */
  conversation?: Conversation | "new";
  /** With a handle: another reply to the same user message. */
  regenerate?: boolean;
}

export interface OpenAssistantModelConfig {
  provider: string;
  /** Base URL, cookies, proxy, headers, fetch. */
  upstream: UpstreamOptions;
}

/**
 * An Open-Assistant model behind the AI SDK's language-model interface (v3).
 * Each call is one Open-Assistant chat, deleted when the reply ends, fails, or is aborted,
 * unless `providerOptions.openAssistant.conversation` keeps it.
 */
export class OpenAssistantLanguageModel implements LanguageModelV3 {
  readonly specificationVersion = "v3";
  readonly modelId: OpenAssistantModelId;
  /** Text only: no URL is ever handed to the model. */
  readonly supportedUrls: Record<string, RegExp[]> = {};
  readonly #config: OpenAssistantModelConfig;

  constructor(modelId: OpenAssistantModelId, config: OpenAssistantModelConfig) {
    this.modelId = modelId;
    this.#config = config;
  }

  get provider(): string {
    return this.#config.provider;
  }

  async doGenerate(options: LanguageModelV3CallOptions): Promise<LanguageModelV3GenerateResult> {
    const { request, warnings, upstream, conversation } = this.#callArgs(options);
    const timestamp = new Date();
    const reply = await collectReply(request, { ...upstream, signal: options.abortSignal });
    return {
      content: reply.text ? [{ type: "text", text: reply.text }] : [],
      finishReason: mapFinishReason(reply.finishReason),
      usage: usageOf(estimatePromptTokens(request.messages), reply.completionTokens),
      warnings,
      response: { modelId: this.modelId, timestamp },
      ...conversation.metadata(),
    };
  }

  async doStream(options: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamResult> {
    const { request, warnings, upstream, conversation } = this.#callArgs(options);
    const cancel = new AbortController();
    const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, cancel.signal]) : cancel.signal;
    const raw: ChatEvent[] = [];
    const reply = streamReply(request, {
      ...upstream,
      signal,
      onEvent: options.includeRawChunks ? (event) => raw.push(event) : undefined,
    });
    // As a fetch-based provider's doStream rejects when its HTTP call fails: failures before
    // the first part (auth, rate limit, unknown model, connection) reject here, later ones are error parts.
    const first = await reply.next();
    const parts = streamParts(prepend(first, reply), raw, warnings, this.modelId, conversation, estimatePromptTokens(request.messages));
    return {
      stream: new ReadableStream<LanguageModelV3StreamPart>({
        async pull(controller) {
          try {
            const { done, value } = await parts.next();
            if (done) controller.close();
            else controller.enqueue(value);
          } catch (error) {
            // An abort errors the stream, as a fetch-based provider's body read would.
            controller.error(error);
          }
        },
        async cancel() {
          cancel.abort();
          await parts.return();
          // Stopped before `parts` passed the first part on, the reply was never returned: its chat still needs its end.
          await reply.return();
        },
      }),
    };
  }

  /** The call options in Open-Assistant's terms, with a warning for each setting it cannot honour. */
  #callArgs(options: LanguageModelV3CallOptions): { request: ReplyRequest; warnings: SharedV3Warning[]; upstream: UpstreamOptions; conversation: KeptChat } {
    const warnings: SharedV3Warning[] = [];
    const unsupported = (feature: string, details: string) => warnings.push({ type: "unsupported", feature, details });
    if (options.frequencyPenalty)
      unsupported("frequencyPenalty", "Open-Assistant has no frequency penalty; use providerOptions.openAssistant.repetitionPenalty.");
    if (options.presencePenalty) unsupported("presencePenalty", "Open-Assistant has no presence penalty; use providerOptions.openAssistant.repetitionPenalty.");
    if (options.seed !== undefined) unsupported("seed", "Open-Assistant picks its own seed.");
    if (options.responseFormat?.type === "json") unsupported("responseFormat", "Open-Assistant has no JSON mode: the reply is plain text.");
    if (options.tools?.length) unsupported("tools", "Open-Assistant models cannot call tools: the tools were not sent.");
    const extra = openAssistantOptions(options.providerOptions?.openAssistant);
    const headers = Object.fromEntries(Object.entries(options.headers ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const conversation = new KeptChat();
    const upstream: UpstreamOptions = extra.conversation
      ? { ...this.#config.upstream, conversation: extra.conversation, regenerate: extra.regenerate, onConversation: conversation.keep }
      : this.#config.upstream;
    return {
      request: {
        model: this.modelId,
        messages: convertToOpenAssistantMessages(options.prompt),
        sampling: {
          temperature: options.temperature,
          top_p: options.topP,
          top_k: options.topK,
          max_new_tokens: options.maxOutputTokens,
          typical_p: extra.typicalP,
          repetition_penalty: extra.repetitionPenalty,
        },
        stop: options.stopSequences,
      },
      warnings,
      upstream: Object.keys(headers).length ? { ...upstream, headers: { ...upstream.headers, ...headers } } : upstream,
      conversation,
    };
  }
}

/** The handle of a kept chat, once the reply is whole: `providerMetadata.openAssistant`, to pass back in `providerOptions`. */
class KeptChat {
  #handle: Conversation | undefined;
  readonly keep = (handle: Conversation): void => {
    this.#handle = handle;
  };
  metadata(): { providerMetadata?: SharedV3ProviderMetadata } {
    const handle = this.#handle;
    return handle ? { providerMetadata: { openAssistant: { chatId: handle.chatId, messageId: handle.messageId, parentId: handle.parentId } } } : {};
  }
}

/** The reply as stream parts: raw events (when asked for) ahead of the parts they made. */
async function* streamParts(
  reply: AsyncGenerator<ReplyPart, void>,
  raw: ChatEvent[],
  warnings: SharedV3Warning[],
  modelId: string,
  conversation: KeptChat,
  inputTokens: number,
): AsyncGenerator<LanguageModelV3StreamPart, void, undefined> {
  const textId = "0";
  let textStarted = false;
  yield { type: "stream-start", warnings };
  yield { type: "response-metadata", modelId, timestamp: new Date() };
  try {
    for await (const part of reply) {
      for (const event of raw.splice(0)) yield { type: "raw", rawValue: event };
      if (part.type === "text") {
        if (!textStarted) yield { type: "text-start", id: textId };
        textStarted = true;
        yield { type: "text-delta", id: textId, delta: part.text };
      } else if (part.type === "finish") {
        if (textStarted) yield { type: "text-end", id: textId };
        yield {
          type: "finish",
          finishReason: mapFinishReason(part.finishReason),
          usage: usageOf(inputTokens, part.completionTokens),
          ...conversation.metadata(),
        };
      }
    }
    for (const event of raw.splice(0)) yield { type: "raw", rawValue: event };
  } catch (error) {
    if (error instanceof AbortError) throw error;
    if (textStarted) yield { type: "text-end", id: textId };
    yield { type: "error", error };
    yield { type: "finish", finishReason: mapFinishReason("error"), usage: usageOf(inputTokens, undefined) };
  }
}

/** A generator whose first step was already taken, whole again. */
async function* prepend(first: IteratorResult<ReplyPart, void>, rest: AsyncGenerator<ReplyPart, void>): AsyncGenerator<ReplyPart, void, undefined> {
  if (first.done) return;
  yield first.value;
  yield* rest;
}

/** Open-Assistant counts nothing: output tokens are its token events, input tokens an estimate (`estimatePromptTokens`). */
function usageOf(inputTokens: number, outputTokens: number | undefined): LanguageModelV3Usage {
  return {
    inputTokens: { total: inputTokens, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: outputTokens, text: outputTokens, reasoning: undefined },
  };
}

function openAssistantOptions(value: unknown): OpenAssistantLanguageModelOptions {
  if (value === undefined) return {};
  const options = value as Record<string, unknown>;
  for (const key of ["typicalP", "repetitionPenalty"] as const) {
    const field = options[key];
    if (field !== undefined && (typeof field !== "number" || !Number.isFinite(field))) {
      throw new InvalidArgumentError({ argument: `providerOptions.openAssistant.${key}`, message: `${key} must be a number, not ${JSON.stringify(field)}` });
    }
  }
  try {
    checkConversation(options.conversation);
  } catch (error) {
    throw new InvalidArgumentError({ argument: "providerOptions.openAssistant.conversation", message: (error as Error).message, cause: error });
  }
  if (options.regenerate !== undefined && typeof options.regenerate !== "boolean") {
    throw new InvalidArgumentError({ argument: "providerOptions.openAssistant.regenerate", message: "regenerate must be true or false" });
  }
  return options as OpenAssistantLanguageModelOptions;
}
