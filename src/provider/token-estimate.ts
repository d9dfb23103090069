import { prompterContent } from "./format-prompt.js";
import type { Messages } from "./provider-types.js";

/**
 * An estimate of a prompt's tokens, as Open-Assistant counts none: one per 4 characters of
 * the flattened prompt (the usual rule of thumb for English text with Llama-style
 * tokenizers), rounded up. The gateway's `prompt_tokens` and the AI SDK's `inputTokens` both use it.
 */
export function estimatePromptTokens(messages: Messages): number {
  return Math.ceil(prompterContent(messages).length / 4);
}
