import type { SamplingOptions } from "../provider/options.js";
import type { Message } from "../provider/provider-types.js";
import { convertOpenAIMessages } from "./convert-openai-messages.js";
import { invalidRequest, unsupported } from "./openai-errors.js";

/** OpenAI's limit: each stop string is looked for in every piece of the reply. */
export const MAX_STOP_STRINGS = 4;
/** Far beyond any real stop string; it bounds the text held back and searched per piece. */
export const MAX_STOP_LENGTH = 1_000;

/** A checked `POST /v1/chat/completions` body, in the provider's terms. */
export interface ChatCompletionRequest {
  model: string;
  messages: Message[];
  stream: boolean;
  /** `stream_options.include_usage`: a last chunk with the usage. */
  includeUsage: boolean;
  sampling: SamplingOptions;
  stop: string[];
}

type Body = Record<string, unknown>;

/**
 * Check the body field by field: a wrong type or an OpenAI feature Open-Assistant
 * lacks is a 400 naming the field, never a silent change of meaning. Fields that
 * do not change the reply (user, seed, metadata, store…) are ignored.
 */
export function parseChatCompletionRequest(body: unknown): ChatCompletionRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalidRequest("The request body must be a JSON object.", null);
  }
  const fields = body as Body;
  refuseUnsupported(fields);
  const { model } = fields;
  if (typeof model !== "string" || model.trim() === "") {
    throw invalidRequest("`model` must be the name of an Open-Assistant model (GET /v1/models lists them).", "model");
  }
  const stream = optionalBoolean(fields, "stream") ?? false;
  const streamOptions = fields.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && (typeof streamOptions !== "object" || Array.isArray(streamOptions))) {
    throw invalidRequest("`stream_options` must be an object.", "stream_options");
  }
  const includeUsage = streamOptions ? (optionalBoolean(streamOptions as Body, "include_usage", "stream_options.include_usage") ?? false) : false;
  const maxTokens =
    optionalNumber(fields, "max_completion_tokens", { integer: true, min: 1 }) ?? optionalNumber(fields, "max_tokens", { integer: true, min: 1 });
  return {
    model,
    messages: convertOpenAIMessages(fields.messages),
    stream,
    includeUsage,
    sampling: {
      temperature: optionalNumber(fields, "temperature", { min: 0, max: 2 }) ?? undefined,
      top_p: optionalNumber(fields, "top_p", { min: 0, max: 1 }) ?? undefined,
      max_new_tokens: maxTokens ?? undefined,
      // Open-Assistant's own sampling parameters, accepted as extensions (as vLLM does).
      top_k: optionalNumber(fields, "top_k", { integer: true, min: 1 }) ?? undefined,
      typical_p: optionalNumber(fields, "typical_p", { min: 0, max: 1 }) ?? undefined,
      repetition_penalty: optionalNumber(fields, "repetition_penalty", { min: 0 }) ?? undefined,
    },
    stop: stopStrings(fields.stop),
  };
}

function refuseUnsupported(fields: Body): void {
  for (const key of ["frequency_penalty", "presence_penalty"] as const) {
    // 0 is OpenAI's default ("no penalty"): clients that always send it are served.
    if (optionalNumber(fields, key)) {
      throw unsupported(`\`${key}\` is not supported: Open-Assistant has no such penalty (send 0 or leave it out; \`repetition_penalty\` is its own).`, key);
    }
  }
  const n = optionalNumber(fields, "n", { integer: true, min: 1 });
  if (n !== null && n !== undefined && n > 1) {
    throw unsupported("`n` > 1 is not supported: Open-Assistant answers with one choice; send several requests instead.", "n");
  }
  for (const key of ["tools", "functions"] as const) {
    const value = fields[key];
    if (value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0)) {
      throw unsupported(`\`${key}\` is not supported: Open-Assistant models cannot call tools.`, key);
    }
  }
  for (const key of ["tool_choice", "function_call"] as const) {
    const value = fields[key];
    if (value !== undefined && value !== null && value !== "none" && value !== "auto") {
      throw unsupported(`\`${key}\` is not supported: Open-Assistant models cannot call tools.`, key);
    }
  }
  const format = fields.response_format;
  if (format !== undefined && format !== null && (format as { type?: unknown }).type !== "text") {
    throw unsupported(
      'JSON output (`response_format`) is not supported: Open-Assistant has no JSON mode; only { "type": "text" } is accepted.',
      "response_format",
    );
  }
  if (optionalBoolean(fields, "logprobs") || (fields.top_logprobs !== undefined && fields.top_logprobs !== null)) {
    throw unsupported("`logprobs` is not supported: Open-Assistant sends no token probabilities.", "logprobs");
  }
  if (fields.audio !== undefined && fields.audio !== null) {
    throw unsupported("Audio output is not supported: Open-Assistant models write text only.", "audio");
  }
}

function optionalBoolean(fields: Body, key: string, param = key): boolean | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw invalidRequest(`\`${param}\` must be true or false, not ${JSON.stringify(value)}.`, param);
  return value;
}

function optionalNumber(fields: Body, key: string, rule: { integer?: boolean; min?: number; max?: number } = {}): number | null | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return value;
  const kind = rule.integer ? "an integer" : "a number";
  if (typeof value !== "number" || !Number.isFinite(value) || (rule.integer && !Number.isInteger(value))) {
    throw invalidRequest(`\`${key}\` must be ${kind}, not ${JSON.stringify(value)}.`, key);
  }
  if ((rule.min !== undefined && value < rule.min) || (rule.max !== undefined && value > rule.max)) {
    const range = rule.max === undefined ? `at least ${rule.min}` : `between ${rule.min} and ${rule.max}`;
    throw invalidRequest(`\`${key}\` must be ${range}, not ${value}.`, key);
  }
  return value;
}

function stopStrings(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const stops: unknown[] = Array.isArray(value) ? value : [value];
  if (!stops.every((item): item is string => typeof item === "string")) throw invalidRequest("`stop` must be a string or an array of strings.", "stop");
  if (stops.length > MAX_STOP_STRINGS) {
    throw invalidRequest(`\`stop\` may hold at most ${MAX_STOP_STRINGS} strings, not ${stops.length}.`, "stop");
  }
  const long = stops.findIndex((stop) => stop.length > MAX_STOP_LENGTH);
  if (long >= 0) throw invalidRequest(`Each \`stop\` string may be at most ${MAX_STOP_LENGTH} characters long; stop[${long}] is longer.`, "stop");
  return stops;
}
