import type { Conversation } from "../provider/conversation.js";
import { OpenAssistant } from "../provider/open-assistant.js";
import type { OpenAssistantOptions } from "../provider/options.js";
import type { Messages } from "../provider/provider-types.js";
import type { CliContext } from "./cli-context.js";
import { jsonLineForEvent, writeJsonLine } from "./json-events.js";
import type { Spinner } from "./spinner.js";
import { TerminalTextFilter } from "./terminal-escapes.js";

export interface ReplyView {
  /** One JSON object a line instead of the text. */
  json: boolean;
  /** Shows the queue position until the first token (draws only on a terminal). */
  spinner: Spinner;
  /** Written before the first piece of text (the interactive session's `assistant> `). */
  label?: string;
  /** The kept chat's handle once the reply is whole (`onConversation`'s): --json adds it to the `message` line. */
  conversation?: () => Conversation | undefined;
}

/** What the spinner says for a queue position; 0 means the reply is being generated. */
function queueText(position: number, size: number): string {
  return position > 0 ? `queued: position ${position} of ${size}` : "waiting for the first token";
}

/**
 * Stream one reply to stdout as it arrives and return its final text (the
 * server's `message` content when it sent one: it is authoritative).
 * On a terminal the text shown loses its control sequences (the server's text must
 * not drive the terminal); piped, and in the returned text, it stays as the server sent it.
 * Errors propagate; the provider has deleted the chat by then, unless it is kept.
 */
export async function streamReply(context: CliContext, model: string, messages: Messages, options: OpenAssistantOptions, view: ReplyView): Promise<string> {
  const { json, spinner } = view;
  const { stdout } = context;
  let streamed = "";
  let lineOpen = false;
  let final: string | undefined;
  const terminal = stdout.isTTY === true ? new TerminalTextFilter() : undefined;
  const write = (text: string) => {
    spinner.stop();
    if (!streamed && view.label) {
      stdout.write(view.label);
      lineOpen = true;
    }
    streamed += text;
    const shown = terminal ? terminal.push(text) : text;
    if (shown) {
      stdout.write(shown);
      lineOpen = !shown.endsWith("\n");
    }
  };
  // Ends the reply's last line before anything else is printed (the chat's deletion in the --verbose trail).
  const endLine = () => {
    if (lineOpen) stdout.write("\n");
    lineOpen = false;
  };
  if (!json) spinner.update("waiting for the server");
  try {
    for await (const event of OpenAssistant.streamEvents(model, messages, options)) {
      if (json) {
        const line = jsonLineForEvent(event, view.conversation?.());
        if (line) writeJsonLine(context, line);
        if (event.event_type === "message") final = event.message.content ?? undefined;
        continue;
      }
      if (event.event_type === "pending") {
        if (!streamed) spinner.update(queueText(event.queue_position, event.queue_size));
      } else if (event.event_type === "token" && event.text) {
        write(event.text);
      } else if (event.event_type === "message") {
        final = event.message.content ?? undefined;
        // A server may send the final message without tokens: the user still sees the reply.
        if (!streamed && final) write(final);
        endLine();
      }
    }
  } finally {
    spinner.stop();
    endLine();
  }
  return final ?? streamed;
}
