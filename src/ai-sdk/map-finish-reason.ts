import type { LanguageModelV3FinishReason } from "@ai-sdk/provider";
import type { ReplyFinishReason } from "../provider/reply-parts.js";

/**
 * The reply's end in the AI SDK's terms. Open-Assistant sends no finish reason of
 * its own (`raw` stays undefined): "length" is inferred from all of
 * `max_new_tokens` being used, "error" from a failed stream.
 */
export function mapFinishReason(reason: ReplyFinishReason | "error"): LanguageModelV3FinishReason {
  return { unified: reason, raw: undefined };
}
