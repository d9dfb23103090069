import type { ChatEvent, MessageRead } from "../client/wire-types.js";
import type { Conversation } from "../provider/conversation.js";
import type { CliContext } from "./cli-context.js";
import { errorReport } from "./error-output.js";

/**
 * `oasst chat --json`: one JSON object a line on stdout, for scripts. Only these
 * four types are ever written; nothing else reaches stdout.
 */
export type JsonLine =
  | { type: "pending"; queue_position: number; queue_size: number }
  | { type: "token"; text: string }
  /** `conversation`: only when the chat is kept (`--keep`, `--continue`), the handle that continues it. */
  | { type: "message"; message: MessageRead; conversation?: Conversation }
  | { type: "error"; code: string; message: string; hint: string; status: number | null };

/**
 * The line for a stream event, or undefined for events scripts do not need (plugin steps, empty tokens, the error event
 * that is reported as an error line). `conversation`, the kept chat's handle, goes into the `message` line.
 */
export function jsonLineForEvent(event: ChatEvent, conversation?: Conversation): JsonLine | undefined {
  switch (event.event_type) {
    case "pending":
      return { type: "pending", queue_position: event.queue_position, queue_size: event.queue_size };
    case "token":
      return event.text ? { type: "token", text: event.text } : undefined;
    case "message":
      return conversation ? { type: "message", message: event.message, conversation } : { type: "message", message: event.message };
    default:
      return undefined;
  }
}

export function jsonLineForError(context: CliContext, error: unknown): JsonLine {
  const report = errorReport(context, error);
  return { type: "error", code: report.code, message: report.summary, hint: report.hint, status: report.status ?? null };
}

export function writeJsonLine(context: CliContext, line: JsonLine): void {
  context.stdout.write(`${JSON.stringify(line)}\n`);
}
