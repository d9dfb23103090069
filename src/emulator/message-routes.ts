import { randomBytes } from "node:crypto";
import type { Hono, MiddlewareHandler } from "hono";
import type { PluginEntry, SamplingParameters } from "../client/wire-types.js";
import type { EmulatorState } from "./emulator-state.js";
import { lookUpModel, modelConfigInfos } from "./models.js";
import { replyInternalError, replyJson, replySent, replyUpstreamError, type EmulatorBindings, type EmulatorContext } from "./node-reply.js";
import { ASSISTANT_MESSAGE_FIELDS, PROMPTER_MESSAGE_FIELDS, validateBody } from "./pydantic-validation.js";
import { bodyFields, forwardedJson, interpolated, queryParam } from "./website-request.js";
import { upstreamRequest } from "./upstream.js";
import { takeRateLimit } from "./users.js";
import { toMessageRead } from "./wire-views.js";

/**
 * Message routes of the website API: prompter and assistant messages, reading a message,
 * votes, and the model list. Errors follow the website's wrapper (`{"message": …}` with
 * the upstream status) where its handlers have one, else a 500 `Internal Server Error`.
 */

/** The inference server's `plugin_max_depth` default. */
const PLUGIN_MAX_DEPTH = 4;

interface PrompterMessageRequest {
  parent_id: string | null;
  content: string;
}

interface AssistantMessageRequest {
  parent_id: string;
  model_config_name: string;
  sampling_parameters: SamplingParameters;
  system_prompt: string | null;
  user_profile: string | null;
  user_response_instructions: string | null;
  plugins: PluginEntry[];
}

/** `random.randint(0, 2**64 - 2)`, the work parameters' seed. */
function randomSeed(): bigint {
  return randomBytes(8).readBigUInt64BE() % 0xffff_ffff_ffff_ffffn;
}

function postPrompterMessage(c: EmulatorContext, state: EmulatorState): Response {
  const { chat_id: chatId, parent_id, content } = bodyFields(c.var.body);
  const validated = validateBody<PrompterMessageRequest>(forwardedJson({ parent_id, content }), PROMPTER_MESSAGE_FIELDS);
  if (!validated.ok) return replyUpstreamError(c, 422, validated.issues);
  const request = validated.value;
  // Unknown chat or another user's: `.one()` raises, caught upstream as an empty 500.
  const chat = state.store.chat(interpolated(chatId), c.var.user.id);
  if (!chat) return replyUpstreamError(c, 500);
  if (request.parent_id === null) {
    if (chat.messages.length > 0) return replyUpstreamError(c, 400, "Trying to add first message to non-empty chat");
  } else {
    const parent = state.store.messageInChat(chat.id, request.parent_id, chat.userId);
    if (!parent) return replyUpstreamError(c, 400, "Parent message not found");
    if (parent.role !== "assistant") return replyUpstreamError(c, 400, "Parent message is not an assistant message");
    if (parent.state !== "complete") return replyUpstreamError(c, 400, "Parent message is not complete");
  }
  const message = state.store.addMessage(chat, {
    parentId: request.parent_id,
    chatId: chat.id,
    role: "prompter",
    state: "manual",
    content: request.content,
    workParameters: null,
    exactSeed: null,
  });
  if (request.parent_id === null) chat.title = request.content;
  chat.modifiedAt = message.createdAt;
  return replyJson(c, 200, toMessageRead(message));
}

function postAssistantMessage(c: EmulatorContext, state: EmulatorState): Response {
  const { settings, store, workers } = state;
  const { faults, allowedModels } = settings;
  const user = c.var.user;
  // The rate limiter runs before body validation.
  if (faults.has("rate-limit")) {
    return replyUpstreamError(c, 429, "Too Many Requests. Retry After 2 seconds.", { "Retry-After": "2" });
  }
  if (faults.has("rate-limit-500")) return replyUpstreamError(c, 500);
  // Over the limit: main.py's callback builds its HTTPException with status and detail swapped, which ends as an
  // upstream 500 `Internal Server Error` (text), relayed by the website as {"message":"Something went wrong"}.
  if (!takeRateLimit(user, settings.rateLimit)) return replyUpstreamError(c, 500);
  const { chat_id: _chatId, ...fields } = bodyFields(c.var.body);
  const validated = validateBody<AssistantMessageRequest>(forwardedJson(fields), ASSISTANT_MESSAGE_FIELDS);
  if (!validated.ok) return replyUpstreamError(c, 422, validated.issues);
  const request = validated.value;
  const model = lookUpModel(request.model_config_name, allowedModels);
  if (!model.ok) return replyUpstreamError(c, 422, model.detail);
  // initiate_assistant_message: first cancel this user's pending messages under other parents (drafts for the same
  // parent do not cancel each other), committed before the parent is even looked up.
  if (settings.cancelPending) {
    for (const pending of user.pending) {
      if (pending.parentId === request.parent_id) continue;
      pending.state = "cancelled";
      user.pending.delete(pending);
    }
  }
  // The parent is looked up by id alone (the chat id of the path is not compared): not a prompter message is an
  // exception caught upstream (empty 500), another user's one a 400 "Message not found".
  const parent = store.message(request.parent_id);
  const chat = parent?.role === "prompter" ? store.anyChat(parent.chatId) : undefined;
  if (!parent || !chat) return replyUpstreamError(c, 500);
  if (chat.userId !== user.id) return replyUpstreamError(c, 400, "Message not found");
  const seed = randomSeed();
  const message = store.addMessage(chat, {
    parentId: parent.id,
    chatId: chat.id,
    role: "assistant",
    state: "pending",
    content: null,
    workParameters: {
      model_config: model.config,
      sampling_parameters: request.sampling_parameters,
      do_sample: true,
      seed: Number(seed),
      system_prompt: request.system_prompt,
      user_profile: request.user_profile,
      user_response_instructions: request.user_response_instructions,
      plugins: request.plugins,
      plugin_max_depth: PLUGIN_MAX_DEPTH,
    },
    exactSeed: seed,
  });
  user.pending.add(message);
  const tokenCount = Math.max(0, Math.min(settings.replyTokens, request.sampling_parameters.max_new_tokens));
  const prompt = parent.content ?? "";
  // The row is inserted before the work queue refuses it, so it stays pending (and out of the queue).
  const refused = faults.has("busy");
  // The answer is the row as inserted (pending), even when a free worker takes it at once.
  const read = toMessageRead(message);
  const upstream =
    settings.upstream &&
    upstreamRequest(settings.upstream, (id) => store.message(id), parent, request.model_config_name, request.sampling_parameters, request.system_prompt);
  workers.enqueue(message, prompt, tokenCount, user.pending, !refused, upstream);
  if (refused) return replyUpstreamError(c, 503, "The server is currently busy. Please try again later.");
  return replyJson(c, 200, read);
}

function getMessage(c: EmulatorContext, state: EmulatorState): Response {
  const { searchParams } = new URL(c.req.url);
  const message = state.store.messageInChat(
    interpolated(queryParam(searchParams, "chat_id")),
    interpolated(queryParam(searchParams, "message_id")),
    c.var.user.id,
  );
  return message ? replyJson(c, 200, toMessageRead(message)) : replyInternalError(c);
}

function postVote(c: EmulatorContext, state: EmulatorState): Response {
  const { message_id: messageId, score } = bodyFields(c.var.body);
  if (score !== -1 && score !== 0 && score !== 1) return replySent(c, 400, "Invalid score");
  const message = state.store.message(interpolated(messageId));
  // Not an assistant message, or another user's ("Message not found", caught upstream): an upstream 500, unhandled here.
  if (message?.role !== "assistant" || state.store.anyChat(message.chatId)?.userId !== c.var.user.id) return replyInternalError(c);
  message.score = score;
  return replyJson(c, 200, "");
}

export function registerMessageRoutes(app: Hono<EmulatorBindings>, state: EmulatorState, guard: MiddlewareHandler<EmulatorBindings>): void {
  // The website's handlers do not look at the method.
  app.all("/api/chat/prompter_message", guard, (c) => postPrompterMessage(c, state));
  app.all("/api/chat/assistant_message", guard, (c) => postAssistantMessage(c, state));
  app.all("/api/chat/message", guard, (c) => getMessage(c, state));
  app.all("/api/chat/vote", guard, (c) => postVote(c, state));
  app.all("/api/chat/models", guard, (c) => replyJson(c, 200, modelConfigInfos(state.settings.allowedModels)));
}
