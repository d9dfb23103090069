import type { Hono, MiddlewareHandler } from "hono";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { decodeCursor, type ChatCursor } from "./chat-store.js";
import type { EmulatorState } from "./emulator-state.js";
import { replyEmpty, replyInternalError, replyJson, type EmulatorBindings, type EmulatorContext } from "./node-reply.js";
import { CHAT_UPDATE_FIELDS, parseQueryBool, validateBody } from "./pydantic-validation.js";
import { bodyFields, forwardedJson, interpolated, queryParam } from "./website-request.js";
import { toChatListRead, toChatRead } from "./wire-views.js";

/** `/api/chat`: list, read, create, update and delete chats (protocol section 2.2). */

/** The website always asks for pages of 20. */
const PAGE_SIZE = 20;

const SIGN_IN_PAGE = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign in - Open Assistant</title></head>
<body><main><h1>Sign in</h1><p>You need to sign in to use the chat.</p>
<form method="post" action="/api/auth/signin/email"><input type="email" name="email"><button>Continue with Email</button></form></main></body></html>
`;

interface ChatUpdate {
  title: string | null;
  hidden: boolean | null;
  allow_data_use: boolean | null;
  active_thread_tail_message_id: string | null;
}

function listChats(c: EmulatorContext, state: EmulatorState, searchParams: URLSearchParams): Response {
  const cursor = (name: "after" | "before"): ChatCursor | undefined | null => {
    const text = queryParam(searchParams, name);
    if (!text) return undefined;
    const chatId = decodeCursor(text);
    return chatId === undefined ? null : { text, chatId };
  };
  const after = cursor("after");
  const before = cursor("before");
  const includeHiddenText = queryParam(searchParams, "include_hidden");
  const includeHidden = includeHiddenText ? parseQueryBool(includeHiddenText) : false;
  // Undecodable cursors, both cursors at once, or a non-boolean include_hidden fail upstream: a 500 here.
  if (after === null || before === null || (after && before) || includeHidden === undefined) return replyInternalError(c);
  const page = state.store.listChats({ includeHidden, limit: PAGE_SIZE, after, before }, c.var.user.id);
  return replyJson(c, 200, { chats: page.chats.map(toChatListRead), next: page.next, prev: page.prev });
}

function createChat(c: EmulatorContext, state: EmulatorState): Response {
  const { faults } = state.settings;
  if (faults.has("html")) {
    c.env.outgoing.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    c.env.outgoing.end(SIGN_IN_PAGE);
    return RESPONSE_ALREADY_SENT;
  }
  const chat = toChatListRead(state.store.createChat(c.var.user.id));
  if (faults.has("close-mid-json")) {
    const json = Buffer.from(JSON.stringify(chat));
    const { outgoing } = c.env;
    outgoing.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Content-Length": json.length });
    outgoing.write(json.subarray(0, json.length >> 1), () => outgoing.destroy());
    return RESPONSE_ALREADY_SENT;
  }
  return replyJson(c, 200, chat);
}

function updateChat(c: EmulatorContext, state: EmulatorState): Response {
  const { chat_id: chatId, ...update } = bodyFields(c.var.body);
  const validated = validateBody<ChatUpdate>(forwardedJson(update), CHAT_UPDATE_FIELDS);
  const chat = state.store.chat(interpolated(chatId), c.var.user.id);
  if (!validated.ok || !chat) return replyInternalError(c);
  const { title, hidden, allow_data_use, active_thread_tail_message_id } = validated.value;
  if (title !== null) chat.title = title;
  if (hidden !== null) chat.hidden = hidden;
  if (allow_data_use !== null) chat.allowDataUse = allow_data_use;
  if (active_thread_tail_message_id !== null) chat.activeThreadTailMessageId = active_thread_tail_message_id;
  return replyEmpty(c, 200);
}

function deleteChat(c: EmulatorContext, state: EmulatorState, chatId: string): Response {
  if (state.settings.faults.has("delete-500")) return replyInternalError(c);
  const user = c.var.user;
  const deleted = state.store.deleteChat(chatId, user.id);
  // Another user's chat is "Chat not found" upstream (404), an unhandled error on the website: 500 text.
  if (!deleted) return replyInternalError(c);
  for (const message of deleted.messages) {
    user.pending.delete(message);
    // The worker drops a queued message whose row is gone.
    const work = state.workers.workOf(message);
    if (work) work.deleted = true;
  }
  return replyEmpty(c, 200);
}

export function registerChatRoutes(app: Hono<EmulatorBindings>, state: EmulatorState, guard: MiddlewareHandler<EmulatorBindings>): void {
  app.all("/api/chat", guard, (c) => {
    const { searchParams } = new URL(c.req.url);
    const chatId = queryParam(searchParams, "chat_id");
    switch (c.req.method) {
      case "GET": {
        if (!chatId) return listChats(c, state, searchParams);
        // The website answers 404 to any upstream failure here.
        const chat = state.store.chat(chatId, c.var.user.id);
        return chat ? replyJson(c, 200, toChatRead(chat)) : replyEmpty(c, 404);
      }
      case "POST":
        return createChat(c, state);
      case "PUT":
        return updateChat(c, state);
      case "DELETE":
        return deleteChat(c, state, interpolated(chatId));
      default:
        return replyEmpty(c, 404);
    }
  });
}
