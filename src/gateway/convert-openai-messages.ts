import type { Message } from "../provider/provider-types.js";
import { invalidRequest, unsupported } from "./openai-errors.js";

const TEXT_ROLES: ReadonlySet<string> = new Set(["system", "developer", "user", "assistant"]);

/** What a non-text content part is, for the 400 that refuses it. */
const NON_TEXT_PARTS: Readonly<Record<string, string>> = {
  image_url: "Images are not supported: Open-Assistant models read text only",
  input_audio: "Audio input is not supported: Open-Assistant models read text only",
  file: "Files are not supported: Open-Assistant models read text only",
};

/**
 * OpenAI chat messages → the provider's `{ role, content }` messages, which
 * `formatPrompt` flattens into `Role: content` lines. Text parts of one message
 * are joined with newlines; tools, images, audio and files are refused.
 */
export function convertOpenAIMessages(value: unknown): Message[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidRequest("`messages` must be a non-empty array of messages.", "messages");
  }
  return value.map((message: unknown, index) => convertMessage(message, `messages[${index}]`));
}

function convertMessage(message: unknown, param: string): Message {
  if (typeof message !== "object" || message === null || Array.isArray(message)) {
    throw invalidRequest(`${param} must be an object with \`role\` and \`content\`.`, param);
  }
  const { role, content, tool_calls: toolCalls, function_call: functionCall } = message as Record<string, unknown>;
  if (role === "tool" || role === "function") {
    throw unsupported(`Tools are not supported: Open-Assistant models cannot call functions (${param} has role "${role}").`, `${param}.role`);
  }
  if (typeof role !== "string" || !TEXT_ROLES.has(role)) {
    throw invalidRequest(`${param}.role must be one of system, developer, user, assistant; got ${JSON.stringify(role)}.`, `${param}.role`);
  }
  if ((Array.isArray(toolCalls) && toolCalls.length > 0) || (functionCall !== undefined && functionCall !== null)) {
    throw unsupported(`Tools are not supported: Open-Assistant models cannot call functions (${param} has tool calls).`, `${param}.tool_calls`);
  }
  return { role, content: contentText(content, `${param}.content`) };
}

function contentText(content: unknown, param: string): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw invalidRequest(`${param} must be a string or an array of text parts.`, param);
  return content
    .map((part: unknown, index) => {
      const { type, text } = (typeof part === "object" && part !== null ? part : {}) as Record<string, unknown>;
      if (type === "text" && typeof text === "string") return text;
      const refusal = typeof type === "string" ? NON_TEXT_PARTS[type] : undefined;
      if (refusal) throw unsupported(`${refusal} (${param}[${index}] is of type "${String(type)}").`, `${param}[${index}]`);
      throw invalidRequest(`${param}[${index}] must be a text part: { "type": "text", "text": "…" }.`, `${param}[${index}]`);
    })
    .join("\n");
}
