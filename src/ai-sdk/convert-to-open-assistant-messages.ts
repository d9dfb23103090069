import { UnsupportedFunctionalityError, type LanguageModelV3Prompt } from "@ai-sdk/provider";
import type { Message } from "../provider/provider-types.js";

/**
 * The AI SDK's prompt → the provider's `{ role, content }` messages, which
 * `formatPrompt` flattens into `Role: content` lines. Text parts of one message are
 * joined with newlines (as the gateway does); reasoning parts are not sent back;
 * files, tool calls and tool results have no Open-Assistant counterpart.
 */
export function convertToOpenAssistantMessages(prompt: LanguageModelV3Prompt): Message[] {
  return prompt.map((message): Message => {
    switch (message.role) {
      case "system":
        return { role: "system", content: message.content };
      case "user":
      case "assistant": {
        const texts: string[] = [];
        for (const part of message.content) {
          if (part.type === "text") texts.push(part.text);
          else if (part.type === "file") throw unsupported("file parts", "Open-Assistant models read text only.");
          else if (part.type === "tool-call" || part.type === "tool-result") throw unsupported("tool calls", "Open-Assistant models cannot call tools.");
        }
        return { role: message.role, content: texts.join("\n") };
      }
      case "tool":
        throw unsupported("tool results", "Open-Assistant models cannot call tools.");
    }
  });
}

function unsupported(functionality: string, why: string): UnsupportedFunctionalityError {
  return new UnsupportedFunctionalityError({ functionality, message: `The Open-Assistant provider does not support ${functionality}: ${why}` });
}
