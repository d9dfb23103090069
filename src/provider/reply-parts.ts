import { OpenAssistant } from "./open-assistant.js";
import { DEFAULT_SAMPLING, type OpenAssistantOptions, type SamplingOptions } from "./options.js";
import type { Messages } from "./provider-types.js";
import { StopSequenceCutter } from "./stop-sequences.js";

/** Why a reply ended: a stop string or the model's own end ("stop"), or all of `max_new_tokens` used ("length"). */
export type ReplyFinishReason = "stop" | "length";

/** One step of a reply, as the gateway and the AI SDK model both need it. */
export type ReplyPart =
  | { type: "pending"; queuePosition: number; queueSize: number }
  | { type: "text"; text: string }
  /** `completionTokens` counts the server's token events: it sends no token counts of its own. */
  | { type: "finish"; finishReason: ReplyFinishReason; completionTokens: number };

export interface ReplyRequest {
  model: string;
  messages: Messages;
  sampling: SamplingOptions;
  /** Cut the reply at the first of these; the rest of the reply is not waited for. */
  stop?: readonly string[] | undefined;
}

/** Connection options of the provider: everything but the sampling parameters, which come per request. */
export type UpstreamOptions = Omit<OpenAssistantOptions, keyof SamplingOptions>;

/**
 * One reply from Open-Assistant as text parts, then a `finish` part. The finish part
 * comes as soon as the reply is whole (the server's final `message` event, or a stop
 * string); running the generator on after it reads the end of the event stream and
 * deletes the chat (`finishReply`). Stopping early (a stop string, or the consumer
 * leaving the loop) ends the upstream stream and deletes the chat, as the provider
 * does for every early exit.
 */
export async function* streamReply(request: ReplyRequest, upstream: UpstreamOptions): AsyncGenerator<ReplyPart, void, undefined> {
  const cutter = new StopSequenceCutter(request.stop ?? []);
  const maxNewTokens = request.sampling.max_new_tokens ?? DEFAULT_SAMPLING.max_new_tokens;
  let tokens = 0;
  let finished = false;
  try {
    // One step per network read, not per token: relaying costs per step, not per character.
    for await (const batch of OpenAssistant.streamEventBatches(request.model, request.messages, { ...upstream, ...request.sampling })) {
      // The reply is whole: what follows is read only to reach the end of the stream.
      if (finished) continue;
      let piece = "";
      let complete = false;
      let failed = false;
      for (const event of batch) {
        if (event.event_type === "pending") {
          yield { type: "pending", queuePosition: event.queue_position, queueSize: event.queue_size };
        } else if (event.event_type === "token") {
          tokens++;
          piece += event.text;
        } else if (event.event_type === "message") {
          // A server that streams no tokens still sends the whole reply in its final message.
          if (tokens === 0) piece += event.message.content ?? "";
          complete = true;
        } else if (event.event_type === "error") {
          // The provider throws it once this batch is taken: the reply is not whole.
          failed = true;
        }
      }
      const text = piece ? cutter.push(piece) : "";
      if (text) yield { type: "text", text };
      if (cutter.stopped) {
        finished = true;
        yield { type: "finish", finishReason: "stop", completionTokens: tokens };
        return;
      }
      if (complete && !failed) {
        const rest = cutter.flush();
        if (rest) yield { type: "text", text: rest };
        finished = true;
        yield { type: "finish", finishReason: tokens >= maxNewTokens ? "length" : "stop", completionTokens: tokens };
      }
    }
  } catch (error) {
    // After the finish part the caller has the whole reply; a failure while reading the end
    // of the stream changes nothing for it, and the chat's delete reports its own failure.
    if (!finished) throw error;
  }
}

/**
 * Run a reply on from its finish part to its end: the rest of the event stream is read
 * (its connection stays reusable) and the chat deleted. Never rejects.
 */
export async function finishReply(parts: AsyncGenerator<ReplyPart, void>): Promise<void> {
  while (!(await parts.next()).done);
}

/** A whole reply: its text and how it ended. */
export interface CollectedReply {
  text: string;
  finishReason: ReplyFinishReason;
  completionTokens: number;
}

/** The reply's parts up to its finish part; the generator is left there (see `finishReply`). */
export async function readReply(parts: AsyncGenerator<ReplyPart, void>): Promise<CollectedReply> {
  let text = "";
  for (let step = await parts.next(); !step.done; step = await parts.next()) {
    const part = step.value;
    if (part.type === "text") text += part.text;
    else if (part.type === "finish") return { text, finishReason: part.finishReason, completionTokens: part.completionTokens };
  }
  throw new Error("streamReply ended without its finish part");
}

/** A whole reply, returned once its chat is deleted. */
export async function collectReply(request: ReplyRequest, upstream: UpstreamOptions): Promise<CollectedReply> {
  const parts = streamReply(request, upstream);
  const reply = await readReply(parts);
  await finishReply(parts);
  return reply;
}
