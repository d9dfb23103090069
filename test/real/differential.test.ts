/**
 * The emulator against the real Open-Assistant stack: the same scenarios on both, comparing
 * statuses, the headers a client may look at, bodies (normalized: ids, timestamps, seeds and
 * reply texts) and event sequences. The real stack's fake worker echoes `You said: <prompt>`
 * and lorem words and the emulator writes its own words, so replies are compared by shape.
 *
 * The emulator runs as the real site is set up: Next.js 13's `Connection: close`, and a
 * lifelike worker (a token every 20 ms, about as many tokens as the fake worker's reply).
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { MODEL, realStack, uniqueUser } from "./stack.js";

interface Target {
  name: "emulator" | "real";
  url: string;
  /** A brand-new user's Cookie header value. */
  newUser(): Promise<string>;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

let emulator: Emulator;
let targets: [Target, Target];

beforeAll(async () => {
  emulator = await startEmulator({ quiet: true, connectionClose: true, tokenDelayMs: 20, replyTokens: 36 });
  const real = realStack();
  targets = [
    { name: "emulator", url: emulator.url, newUser: async () => emulator.addSession().cookie },
    { name: "real", url: real.website, newUser: () => real.mintCookie(uniqueUser("diff")) },
  ];
});

afterAll(async () => {
  await emulator?.stop();
});

function send(target: Target, cookie: string, method: string, path: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { cookie };
    if (body !== undefined) headers["content-type"] = "application/json";
    const outgoing = request(`${target.url}${path}`, { method, headers, agent: false }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("error", reject);
      incoming.on("end", () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, text: Buffer.concat(chunks).toString("utf8") }));
    });
    outgoing.on("error", reject);
    outgoing.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Reads an event stream until `until` is satisfied (then leaves) or the stream ends. */
async function readStream(
  target: Target,
  cookie: string,
  path: string,
  until: (payloads: string[]) => boolean,
  timeoutMs = 20_000,
): Promise<{ answer: Omit<Answer, "text">; raw: string; payloads: string[]; ended: boolean }> {
  return new Promise((resolve, reject) => {
    let raw = "";
    let settled = false;
    const outgoing = request(`${target.url}${path}`, { method: "GET", headers: { cookie }, agent: false }, (incoming) => {
      const answer = { status: incoming.statusCode ?? 0, headers: incoming.headers };
      const finish = (ended: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outgoing.destroy();
        resolve({ answer, raw, payloads: payloadsOf(raw), ended });
      };
      incoming.setEncoding("utf8");
      incoming.on("data", (chunk: string) => {
        raw += chunk;
        if (until(payloadsOf(raw))) finish(false);
      });
      incoming.on("end", () => finish(true));
      incoming.on("error", () => finish(false));
    });
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      outgoing.destroy();
      reject(new Error(`${target.name}: ${path} gave no satisfying events within ${timeoutMs} ms; got ${raw.slice(0, 500)}`));
    }, timeoutMs);
    outgoing.on("error", (error) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(error);
      }
    });
    outgoing.end();
  });
}

/** Complete `data:` payloads of an event body (CRLF framing), pings skipped. */
function payloadsOf(raw: string): string[] {
  const complete = raw.slice(0, raw.lastIndexOf("\r\n\r\n") + 4);
  return complete
    .split("\r\n\r\n")
    .filter((block) => block.startsWith("data: "))
    .map((block) => block.slice("data: ".length));
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TIMESTAMP = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?/g;

/** A JSON text with ids, timestamps and seeds replaced; assistant contents replaced by their type. */
function normalize(text: string): string {
  if (text === "") return "";
  const value = JSON.parse(text) as unknown;
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === "object") {
      const record = node as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [key, member] of Object.entries(record)) {
        if (key === "seed") out[key] = typeof member === "number" ? "<seed>" : member;
        else if (key === "content" && record.role === "assistant") out[key] = typeof member === "string" ? "<text>" : member;
        else out[key] = walk(member);
      }
      return out;
    }
    if (typeof node === "string") return node.replace(UUID, "<id>").replace(TIMESTAMP, "<ts>");
    return node;
  };
  return JSON.stringify(walk(value));
}

/** The headers a client may depend on. */
function shape(answer: Omit<Answer, "text">): Record<string, unknown> {
  return {
    status: answer.status,
    contentType: answer.headers["content-type"] ?? null,
    chunked: answer.headers["transfer-encoding"] === "chunked",
    // Its presence (the value depends on the ids' and seeds' digits and the reply's text).
    contentLength: answer.headers["content-length"] !== undefined,
    connection: answer.headers.connection ?? null,
  };
}

function view(answer: Answer): Record<string, unknown> {
  let body: string;
  try {
    body = normalize(answer.text);
  } catch {
    body = answer.text;
  }
  return { ...shape(answer), body };
}

/** Event types with runs of tokens collapsed: `token+`. */
function sequence(payloads: string[]): string[] {
  const types = payloads.map((payload) => (JSON.parse(payload) as { event_type: string }).event_type);
  return types.filter((type, i) => !(type === "token" && types[i - 1] === "token")).map((type) => (type === "token" ? "token+" : type));
}

/** Runs a scenario on both targets (one after the other) and returns both results. */
async function both<T>(scenario: (target: Target) => Promise<T>): Promise<{ emulator: T; real: T }> {
  const [emulatorTarget, realTarget] = targets;
  return { emulator: await scenario(emulatorTarget), real: await scenario(realTarget) };
}

interface Started {
  cookie: string;
  chatId: string;
  prompterId: string;
  assistantId: string;
  answers: { chat: Answer; prompter: Answer; assistant: Answer };
}

async function startReply(target: Target, prompt: string, cookie?: string): Promise<Started> {
  const user = cookie ?? (await target.newUser());
  const chat = await send(target, user, "POST", "/api/chat");
  const chatId = (JSON.parse(chat.text) as { id: string }).id;
  const prompter = await send(target, user, "POST", "/api/chat/prompter_message", { chat_id: chatId, parent_id: null, content: prompt });
  const prompterId = (JSON.parse(prompter.text) as { id: string }).id;
  const assistant = await send(target, user, "POST", "/api/chat/assistant_message", {
    chat_id: chatId,
    parent_id: prompterId,
    model_config_name: MODEL,
    sampling_parameters: { top_k: 50, top_p: null, typical_p: null, temperature: 0.35, repetition_penalty: 1.1111111111111112, max_new_tokens: 1024 },
    plugins: [],
  });
  const assistantId = (JSON.parse(assistant.text) as { id: string }).id;
  return { cookie: user, chatId, prompterId, assistantId, answers: { chat, prompter, assistant } };
}

const eventsPath = (started: Started, messageId = started.assistantId) => `/api/chat/events?chat_id=${started.chatId}&message_id=${messageId}`;
const isFinal = (payloads: string[]) => payloads.some((payload) => /^\{"event_type": "(message|error)"/.test(payload));

describe("emulator vs real stack", () => {
  it("create chat, prompter message, assistant message: same statuses, headers and normalized bodies", async () => {
    const results = await both(async (target) => {
      const started = await startReply(target, "Hello there");
      await readStream(target, started.cookie, eventsPath(started), isFinal);
      return { chat: view(started.answers.chat), prompter: view(started.answers.prompter), assistant: view(started.answers.assistant) };
    });
    expect(results.emulator).toEqual(results.real);
  });

  it("events: the same framing, token+ then message, the same final message shape", async () => {
    const results = await both(async (target) => {
      const started = await startReply(target, "Tell me something");
      const stream = await readStream(target, started.cookie, eventsPath(started), isFinal);
      const final = stream.payloads.at(-1)!;
      const message = JSON.parse(final) as { message: { content: string } };
      const tokens = stream.payloads
        .slice(0, -1)
        .map((payload) => (JSON.parse(payload) as { text: string }).text)
        .join("");
      const readBack = await send(target, started.cookie, "GET", `/api/chat/message?chat_id=${started.chatId}&message_id=${started.assistantId}`);
      return {
        headers: shape(stream.answer),
        ended: stream.ended,
        sequence: sequence(stream.payloads),
        // Every event a CRLF-framed `data:` line of ASCII pydantic JSON.
        framing: /^(data: \{"event_type": "[a-z_]+", [ -~]*\}\r\n\r\n|: ping - [^\r\n]*\r\n\r\n)+$/.test(stream.raw),
        tokensMakeContent: tokens === message.message.content,
        // pydantic's separators in the event; the REST view after the website's JSON round trip.
        final: normalize(final),
        finalSpacing: final.includes('"event_type": "message", "message": {"id": '),
        readBack: view(readBack),
      };
    });
    expect(results.emulator).toEqual(results.real);
    expect(results.real.sequence).toEqual(["token+", "message"]);
  });

  it("events of a finished message: 200 with an empty chunked body, no content-type", async () => {
    const results = await both(async (target) => {
      const started = await startReply(target, "Once");
      await readStream(target, started.cookie, eventsPath(started), isFinal);
      return view(await send(target, started.cookie, "GET", eventsPath(started)));
    });
    expect(results.emulator).toEqual(results.real);
    expect(results.real).toMatchObject({ status: 200, contentType: null, chunked: true, body: "" });
  });

  it("pending-cancel: a user's second assistant message cancels the first, still queued; its stream sends pending 0/0", async () => {
    const results = await both(async (target) => {
      // Four other users' long replies fill the worker's four slots.
      const blockers = await Promise.all(Array.from({ length: 4 }, () => startReply(target, "busy [[fake:delay=60]]")));
      const user = await target.newUser();
      const first = await startReply(target, "first", user);
      const second = await startReply(target, "second", user);
      const stateOf = async (started: Started) =>
        (
          JSON.parse((await send(target, user, "GET", `/api/chat/message?chat_id=${started.chatId}&message_id=${started.assistantId}`)).text) as {
            state: string;
          }
        ).state;
      const firstState = await stateOf(first);
      const zero = '{"event_type": "pending", "queue_position": 0, "queue_size": 0}';
      // Every other stream read at once, as clients do (a reply finished before its stream opens is an empty 200).
      const others = Promise.all([second, ...blockers].map((started) => readStream(target, started.cookie, eventsPath(started), isFinal, 30_000)));
      const stream = await readStream(target, user, eventsPath(first), (payloads) => payloads.filter((payload) => payload === zero).length >= 2, 30_000);
      const [secondDone] = await others;
      return {
        firstState,
        onlyPending: stream.payloads.every((payload) => payload.startsWith('{"event_type": "pending", "queue_position": ')),
        lastTwo: stream.payloads.slice(-2),
        ended: stream.ended,
        second: sequence(secondDone!.payloads).filter((type) => type !== "pending"),
      };
    });
    expect(results.emulator).toEqual(results.real);
    expect(results.real.firstState).toBe("cancelled");
  }, 90_000);

  it("parent rules: the same statuses and bodies", async () => {
    const results = await both(async (target) => {
      const started = await startReply(target, "Parent rules");
      const other = await startReply(target, "Another user's");
      const { cookie, chatId, prompterId, assistantId } = started;
      const prompter = (parent: string | null) =>
        send(target, cookie, "POST", "/api/chat/prompter_message", { chat_id: chatId, parent_id: parent, content: "next" });
      const assistant = (parent: string) =>
        send(target, cookie, "POST", "/api/chat/assistant_message", { chat_id: chatId, parent_id: parent, model_config_name: MODEL });
      const answers = {
        prompterUnderIncompleteAssistant: view(await prompter(assistantId)),
        prompterUnderPrompter: view(await prompter(prompterId)),
        prompterUnderUnknown: view(await prompter("0188e8e8-0000-7000-8000-000000000000")),
        firstMessageTwice: view(await prompter(null)),
        assistantUnderAssistant: view(await assistant(assistantId)),
        assistantUnderOtherUsersPrompter: view(await assistant(other.prompterId)),
        assistantUnderUnknown: view(await assistant("0188e8e8-0000-7000-8000-000000000000")),
        otherUsersChatPrompter: view(
          await send(target, cookie, "POST", "/api/chat/prompter_message", { chat_id: other.chatId, parent_id: other.assistantId, content: "x" }),
        ),
        otherUsersChatGet: view(await send(target, cookie, "GET", `/api/chat?chat_id=${other.chatId}`)),
      };
      await readStream(target, other.cookie, eventsPath(other), isFinal);
      return answers;
    });
    expect(results.emulator).toEqual(results.real);
  });

  it("rate limit: the 21st assistant message of a user (422s count) is a 500 {message: Something went wrong}", async () => {
    const results = await both(async (target) => {
      const user = await target.newUser();
      const invalid: Record<string, unknown>[] = [];
      for (let i = 0; i < 20; i++) invalid.push(view(await send(target, user, "POST", "/api/chat/assistant_message", { chat_id: "x" })));
      const over = view(await send(target, user, "POST", "/api/chat/assistant_message", { chat_id: "x", parent_id: "y", model_config_name: MODEL }));
      return { distinct: [...new Set(invalid.map((answer) => JSON.stringify(answer)))].map((text) => JSON.parse(text) as unknown), over };
    });
    expect(results.emulator).toEqual(results.real);
    expect(results.real.over).toMatchObject({ status: 500, body: '{"message":"Something went wrong"}' });
  });

  it("unknown model: 422 {message: Model X not found}", async () => {
    const results = await both(async (target) => {
      const started = await startReply(target, "Models");
      const answer = view(
        await send(target, started.cookie, "POST", "/api/chat/assistant_message", {
          chat_id: started.chatId,
          parent_id: started.prompterId,
          model_config_name: "no-such-model",
        }),
      );
      await readStream(target, started.cookie, eventsPath(started), isFinal);
      return answer;
    });
    expect(results.emulator).toEqual(results.real);
    expect(results.real).toMatchObject({ status: 422, body: '{"message":"Model no-such-model not found"}' });
  });

  it("delete: 200 empty, then the chat is gone (404), a second delete is a 500", async () => {
    const results = await both(async (target) => {
      const started = await startReply(target, "Delete me");
      await readStream(target, started.cookie, eventsPath(started), isFinal);
      const path = `/api/chat?chat_id=${started.chatId}`;
      return {
        delete: view(await send(target, started.cookie, "DELETE", path)),
        get: view(await send(target, started.cookie, "GET", path)),
        again: view(await send(target, started.cookie, "DELETE", path)),
        list: view(await send(target, started.cookie, "GET", "/api/chat")),
      };
    });
    expect(results.emulator).toEqual(results.real);
  });
});

/** Another assistant message under `parentId` (a continued chat's reply, or a regeneration). */
async function reply(target: Target, started: Started, parentId: string): Promise<{ answer: Answer; id: string }> {
  const answer = await send(target, started.cookie, "POST", "/api/chat/assistant_message", {
    chat_id: started.chatId,
    parent_id: parentId,
    model_config_name: MODEL,
    sampling_parameters: { top_k: 50, top_p: null, typical_p: null, temperature: 0.35, repetition_penalty: 1.1111111111111112, max_new_tokens: 1024 },
    plugins: [],
  });
  return { answer, id: (JSON.parse(answer.text) as { id: string }).id };
}

/** The final message event's content. */
async function finalContent(target: Target, started: Started, messageId: string): Promise<string> {
  const stream = await readStream(target, started.cookie, eventsPath(started, messageId), isFinal);
  return (JSON.parse(stream.payloads.at(-1)!) as { message: { content: string } }).message.content;
}

/** A chat read back: normalized, messages in creation order (the real server's order is the database's), each with its parent's place. */
function threadView(answer: Answer): Record<string, unknown> {
  const chat = JSON.parse(answer.text) as { messages: Array<{ id: string; parent_id: string | null; created_at: string; role: string; state: string }> };
  const messages = [...chat.messages].sort((a, b) => a.created_at.localeCompare(b.created_at));
  const place = new Map(messages.map((message, index) => [message.id, index]));
  return {
    ...view({ ...answer, text: JSON.stringify({ ...chat, messages }) }),
    thread: messages.map((message) => [message.role, message.parent_id === null ? null : (place.get(message.parent_id) ?? "elsewhere"), message.state]),
  };
}

/** Whether a reply was made from this prompt: the real fake worker echoes it, the emulator's words are a function of it. */
function repliesTo(target: Target, content: string, prompt: string): boolean {
  return target.name === "real" ? content.startsWith(`You said: ${prompt}\n\n`) : content === emulator.expectedReply(prompt);
}

describe("emulator vs real stack: conversations", () => {
  it("continue a chat: a prompter message under the complete reply, then its reply, made from the new message", async () => {
    const results = await both(async (target) => {
      const started = await startReply(target, "First turn");
      await readStream(target, started.cookie, eventsPath(started), isFinal);
      const next = await send(target, started.cookie, "POST", "/api/chat/prompter_message", {
        chat_id: started.chatId,
        parent_id: started.assistantId,
        content: "Second turn",
      });
      const nextId = (JSON.parse(next.text) as { id: string }).id;
      const second = await reply(target, started, nextId);
      const content = await finalContent(target, started, second.id);
      return {
        next: view(next),
        reply: view(second.answer),
        fromNewPrompt: repliesTo(target, content, "Second turn"),
        chat: threadView(await send(target, started.cookie, "GET", `/api/chat?chat_id=${started.chatId}`)),
      };
    });
    expect(results.emulator).toEqual(results.real);
    expect(results.real.next.status).toBe(200);
    expect(results.real.fromNewPrompt).toBe(true);
    expect(results.real.chat.thread).toEqual([
      ["prompter", null, "manual"],
      ["assistant", 0, "complete"],
      ["prompter", 1, "manual"],
      ["assistant", 2, "complete"],
    ]);
  });

  it("continue: parents that are not a complete assistant message of this chat, and sibling prompter messages", async () => {
    const results = await both(async (target) => {
      const started = await startReply(target, "Thread rules");
      const { cookie, chatId, prompterId, assistantId } = started;
      const prompter = (parent: string | null, chat = chatId) =>
        send(target, cookie, "POST", "/api/chat/prompter_message", { chat_id: chat, parent_id: parent, content: "next" });
      const whileRunning = view(await prompter(assistantId));
      await readStream(target, cookie, eventsPath(started), isFinal);
      const elsewhere = await send(target, cookie, "POST", "/api/chat");
      const elsewhereId = (JSON.parse(elsewhere.text) as { id: string }).id;
      return {
        whileRunning,
        underPrompter: view(await prompter(prompterId)),
        underOtherChatsReply: view(await prompter(assistantId, elsewhereId)),
        first: view(await prompter(assistantId)),
        sibling: view(await prompter(assistantId)),
        chat: threadView(await send(target, cookie, "GET", `/api/chat?chat_id=${chatId}`)),
      };
    });
    expect(results.emulator).toEqual(results.real);
    expect(results.real.whileRunning).toMatchObject({ status: 400, body: '{"message":"Parent message is not complete"}' });
    expect(results.real.underPrompter).toMatchObject({ status: 400, body: '{"message":"Parent message is not an assistant message"}' });
    expect(results.real.underOtherChatsReply).toMatchObject({ status: 400, body: '{"message":"Parent message not found"}' });
    expect([results.real.first.status, results.real.sibling.status]).toEqual([200, 200]);
  });

  it("regenerate: a second assistant message on the same prompter while the first runs; both complete, both in the chat", async () => {
    const results = await both(async (target) => {
      const started = await startReply(target, "Regenerate");
      const second = await reply(target, started, started.prompterId);
      const [first, again] = await Promise.all([finalContent(target, started, started.assistantId), finalContent(target, started, second.id)]);
      return {
        second: view(second.answer),
        bothFromThePrompt: repliesTo(target, first, "Regenerate") && repliesTo(target, again, "Regenerate"),
        chat: threadView(await send(target, started.cookie, "GET", `/api/chat?chat_id=${started.chatId}`)),
      };
    });
    expect(results.emulator).toEqual(results.real);
    expect(results.real.chat.thread).toEqual([
      ["prompter", null, "manual"],
      ["assistant", 0, "complete"],
      ["assistant", 0, "complete"],
    ]);
  });

  it('vote: 200 "" and the score set (the chat id unchecked); a bad score 400; a prompter or another user\'s message 500', async () => {
    const results = await both(async (target) => {
      const started = await startReply(target, "Vote on me");
      const other = await startReply(target, "Not yours");
      await readStream(target, started.cookie, eventsPath(started), isFinal);
      await readStream(target, other.cookie, eventsPath(other), isFinal);
      const vote = (messageId: string, score: unknown, chatId = started.chatId) =>
        send(target, started.cookie, "POST", "/api/chat/vote", { chat_id: chatId, message_id: messageId, score });
      const score = async () =>
        (
          JSON.parse((await send(target, started.cookie, "GET", `/api/chat/message?chat_id=${started.chatId}&message_id=${started.assistantId}`)).text) as {
            score: number;
          }
        ).score;
      const up = view(await vote(started.assistantId, 1));
      const afterUp = await score();
      const down = view(await vote(started.assistantId, -1, other.chatId));
      const afterDown = await score();
      return {
        up,
        afterUp,
        down,
        afterDown,
        two: view(await vote(started.assistantId, 2)),
        text: view(await vote(started.assistantId, "1")),
        prompter: view(await vote(started.prompterId, 1)),
        othersMessage: view(await vote(other.assistantId, 1)),
        unknown: view(await vote("0188e8e8-0000-7000-8000-000000000000", 1)),
      };
    });
    expect(results.emulator).toEqual(results.real);
    expect(results.real).toMatchObject({ up: { status: 200, body: '""' }, afterUp: 1, afterDown: -1, two: { status: 400, body: "Invalid score" } });
  });

  it("PUT /api/chat: title, hidden, thread tail; lists with and without hidden chats; failures are 500 text", async () => {
    const results = await both(async (target) => {
      const started = await startReply(target, "Put me");
      await readStream(target, started.cookie, eventsPath(started), isFinal);
      const { cookie, chatId } = started;
      const visible = await send(target, cookie, "POST", "/api/chat");
      const put = (body: Record<string, unknown>) => send(target, cookie, "PUT", "/api/chat", body);
      const list = async (query: string) => view(await send(target, cookie, "GET", `/api/chat${query}`));
      return {
        update: view(await put({ chat_id: chatId, title: "Renamed", hidden: true, active_thread_tail_message_id: started.assistantId })),
        read: threadView(await send(target, cookie, "GET", `/api/chat?chat_id=${chatId}`)),
        tailIsTheReply:
          (JSON.parse((await send(target, cookie, "GET", `/api/chat?chat_id=${chatId}`)).text) as { active_thread_tail_message_id: string })
            .active_thread_tail_message_id === started.assistantId,
        list: await list(""),
        listFalse: await list("?include_hidden=false"),
        listHidden: await list("?include_hidden=true"),
        nothing: view(await put({ chat_id: chatId })),
        nulls: view(await put({ chat_id: chatId, title: null, hidden: null })),
        readAfterNulls: threadView(await send(target, cookie, "GET", `/api/chat?chat_id=${chatId}`)),
        unhide: view(await put({ chat_id: chatId, hidden: false, allow_data_use: false })),
        listAfter: await list(""),
        unknownChat: view(await put({ chat_id: "0188e8e8-0000-7000-8000-000000000000", title: "x" })),
        longTitle: view(await put({ chat_id: chatId, title: "x".repeat(101) })),
        visibleId: (JSON.parse(visible.text) as { id: string }).id !== chatId,
      };
    });
    expect(results.emulator).toEqual(results.real);
    expect(results.real.update).toMatchObject({ status: 200, body: "" });
    expect(results.real.tailIsTheReply).toBe(true);
    expect(results.real.unknownChat).toMatchObject({ status: 500, body: "Internal Server Error" });
  });

  it("GET /api/chat/plugins: the built-in plugins (addresses under the inference server's API_ROOT)", async () => {
    const inference = realStack().inference;
    const results = await both(async (target) => {
      const cookie = await target.newUser();
      const answer = await send(target, cookie, "GET", "/api/chat/plugins");
      return view({ ...answer, text: answer.text.replaceAll(inference, "http://localhost:8000") });
    });
    expect(results.emulator).toEqual(results.real);
    expect(results.real.status).toBe(200);
  });
});
