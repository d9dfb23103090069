import { ConfigError } from "../errors.js";
import type { Messages } from "./provider-types.js";

/**
 * gpt4free's `format_prompt`: one message is sent as its bare content; a
 * conversation as `Role: content` lines, then an `Assistant:` line to answer.
 */
export function formatPrompt(messages: Messages): string {
  const [first] = messages;
  if (first === undefined) {
    throw new ConfigError("No messages to send", 'Pass at least one message, e.g. [{ role: "user", content: "Hello" }].');
  }
  if (messages.length === 1) return first.content;
  const lines = messages.map((message) => `${capitalize(message.role)}: ${message.content}`).join("\n");
  return `${lines}\nAssistant:`;
}

/** Python's str.capitalize: first character upper case, the rest lower case. */
function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1).toLowerCase();
}

/**
 * How the prompter message is written. `plain` (the default): `formatPrompt(messages)`, so
 * one message is sent exactly as the user wrote it; the server's worker adds the model's
 * own role tokens around the chat's thread. `gpt4free`: the seed's bytes, the prompt in a
 * Llama-2 `<s>[INST]…[/INST]` wrapper, which the model then sees inside the user's text.
 */
export type PromptFormat = "plain" | "gpt4free";

export const PROMPT_FORMATS: readonly PromptFormat[] = ["plain", "gpt4free"];

/** The content of the prompter message for `messages`. */
export function prompterContent(messages: Messages, format: PromptFormat = "plain"): string {
  const prompt = formatPrompt(messages);
  return format === "gpt4free" ? `<s>[INST]\n${prompt}\n[/INST]` : prompt;
}
