import { ConfigError } from "../errors.js";
import type { Messages } from "./provider-types.js";

/**
 * gpt4free's `format_prompt`: one message is sent as its bare content; a
 * conversation as `Role: content` lines, then an `Assistant:` line to answer.
 */
export function formatPrompt(messages: Messages): string {
  const [first] = messages;
  if (first === undefined) {
    throw new ConfigError("No messages to send", "Pass at least one message, e.g. [{ role: \"user\", content: \"Hello\" }].");
  }
  if (messages.length === 1) return first.content;
  const lines = messages.map((message) => `${capitalize(message.role)}: ${message.content}`).join("\n");
  return `${lines}\nAssistant:`;
}

/** Python's str.capitalize: first character upper case, the rest lower case. */
function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1).toLowerCase();
}

/** The prompter message content the seed sends: the Llama-2 instruction wrapper around the prompt. */
export function prompterContent(messages: Messages): string {
  return `<s>[INST]\n${formatPrompt(messages)}\n[/INST]`;
}
