import { OpenAssistant } from "../provider/open-assistant.js";
import type { OpenAssistantOptions } from "../provider/options.js";
import type { Messages } from "../provider/provider-types.js";
import { jsonLineForEvent, writeJsonLine } from "./json-events.js";
import type { Spinner } from "./spinner.js";

export interface ReplyView {
  /** One JSON object a line instead of the text. */
  json: boolean;
  /** Shows the queue position until the first token (draws only on a terminal). */
  spinner: Spinner;
  /** Written before the first piece of text (the interactive session's `assistant> `). */
  label?: string;
}

/** What the spinner says for a queue position; 0 means the reply is being generated. */
function queueText(position: number, size: number): string {
  return position > 0 ? `queued: position ${position} of ${size}` : "waiting for the first token";
}

/**
 * Stream one reply to stdout as it arrives and return its final text (the
 * server's `message` content when it sent one: it is authoritative).
 * Errors propagate; the provider has deleted the chat by then.
 */
export async function streamReply(model: string, messages: Messages, options: OpenAssistantOptions, view: ReplyView): Promise<string> {
  const { json, spinner } = view;
  let streamed = "";
  let lineOpen = false;
  let final: string | undefined;
  const write = (text: string) => {
    spinner.stop();
    if (!streamed && view.label) process.stdout.write(view.label);
    process.stdout.write(text);
    streamed += text;
    lineOpen = !text.endsWith("\n");
  };
  // Ends the reply's last line before anything else is printed (the chat's deletion in the --verbose trail).
  const endLine = () => {
    if (lineOpen) process.stdout.write("\n");
    lineOpen = false;
  };
  if (!json) spinner.update("waiting for the server");
  try {
    for await (const event of OpenAssistant.streamEvents(model, messages, options)) {
      if (json) {
        const line = jsonLineForEvent(event);
        if (line) writeJsonLine(line);
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
