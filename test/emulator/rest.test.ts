import { describe, expect, it } from "vitest";
import type { ChatListRead, ChatRead, ListChatsResponse, MessageRead, ModelConfigInfo } from "../../src/client/wire-types.js";
import { MODEL_NAMES } from "../../src/emulator/models.js";
import { emulator, http, MODEL, postJson, startReply } from "./helpers.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/;
const CHAT_LIST_KEYS = ["id", "created_at", "modified_at", "title", "hidden", "allow_data_use", "active_thread_tail_message_id"];
const MESSAGE_KEYS = [
  "id",
  "parent_id",
  "content",
  "chat_id",
  "created_at",
  "role",
  "state",
  "score",
  "reports",
  "work_parameters",
  "safe_content",
  "safety_level",
  "safety_label",
  "safety_rots",
  "used_plugin",
];

describe("chats", () => {
  it("creates a chat: compact JSON with every field in order, title and thread tail null", async () => {
    const server = await emulator();
    const response = await http(server, "POST", "/api/chat", { headers: { "content-type": "application/json" }, body: "" });
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("application/json; charset=utf-8");
    const chat = JSON.parse(response.text) as ChatListRead;
    expect(Object.keys(chat)).toEqual(CHAT_LIST_KEYS);
    expect(response.text).toBe(JSON.stringify(chat));
    expect(chat.id).toMatch(UUID);
    expect(chat.created_at).toMatch(TIMESTAMP);
    expect(chat).toMatchObject({ title: null, hidden: false, allow_data_use: true, active_thread_tail_message_id: null });
    expect(chat.modified_at).toBe(chat.created_at);
    expect(server.liveChats()).toBe(1);
  });

  it("reads a chat with all its messages; an unknown chat is a 404 with an empty body", async () => {
    const server = await emulator();
    const { chatId, prompterId, assistant } = await startReply(server, "Grüße 🙂");
    const response = await http(server, "GET", `/api/chat?chat_id=${chatId}`);
    const chat = JSON.parse(response.text) as ChatRead;
    expect(Object.keys(chat)).toEqual([...CHAT_LIST_KEYS, "messages"]);
    // Raw UTF-8 in website bodies, not \u escapes.
    expect(response.text).toContain('"title":"Grüße 🙂"');
    expect(chat.messages.map((message) => message.id)).toEqual([prompterId, assistant.id]);
    for (const message of chat.messages) expect(Object.keys(message)).toEqual(MESSAGE_KEYS);
    expect(chat.modified_at).toBe(chat.messages[0]!.created_at);
    const missing = await http(server, "GET", "/api/chat?chat_id=00000000-0000-7000-8000-000000000000");
    expect([missing.status, missing.body.length, missing.headers["content-type"]]).toEqual([404, 0, undefined]);
  });

  it("lists 20 chats per page, newest first, with base64 cursors for older and newer pages", async () => {
    const server = await emulator();
    const ids: string[] = [];
    for (let i = 0; i < 45; i++) ids.push((JSON.parse((await http(server, "POST", "/api/chat")).text) as ChatListRead).id);
    const newestFirst = [...ids].reverse();
    const page = async (query: string) => JSON.parse((await http(server, "GET", `/api/chat${query}`)).text) as ListChatsResponse;

    const first = await page("");
    expect(Object.keys(first)).toEqual(["chats", "next", "prev"]);
    expect(first.chats.map((chat) => chat.id)).toEqual(newestFirst.slice(0, 20));
    expect(first.prev).toBeNull();
    expect(first.next).toBe(Buffer.from(newestFirst[19]!).toString("base64"));

    const second = await page(`?after=${encodeURIComponent(first.next!)}`);
    expect(second.chats.map((chat) => chat.id)).toEqual(newestFirst.slice(20, 40));
    const third = await page(`?after=${encodeURIComponent(second.next!)}`);
    expect(third.chats.map((chat) => chat.id)).toEqual(newestFirst.slice(40));
    expect(third.next).toBeNull();
    expect(third.prev).toBe(Buffer.from(newestFirst[40]!).toString("base64"));

    const back = await page(`?before=${encodeURIComponent(third.prev!)}`);
    expect(back.chats.map((chat) => chat.id)).toEqual(newestFirst.slice(20, 40));
    expect(back.next).toBe(Buffer.from(newestFirst[39]!).toString("base64"));
    expect(back.prev).toBe(Buffer.from(newestFirst[20]!).toString("base64"));

    for (const bad of ["?after=abc", `?after=${encodeURIComponent(first.next!)}&before=${encodeURIComponent(first.next!)}`, "?include_hidden=maybe"]) {
      const failure = await http(server, "GET", `/api/chat${bad}`);
      expect([failure.status, failure.text]).toEqual([500, "Internal Server Error"]);
    }
  });

  it("updates title, hidden and data use with PUT; hidden chats leave the list unless include_hidden", async () => {
    const server = await emulator();
    const chat = JSON.parse((await http(server, "POST", "/api/chat")).text) as ChatListRead;
    const put = (body: unknown) => http(server, "PUT", "/api/chat", { headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const ok = await put({ chat_id: chat.id, title: "Renamed", hidden: true, allow_data_use: false });
    expect([ok.status, ok.body.length]).toEqual([200, 0]);
    const read = JSON.parse((await http(server, "GET", `/api/chat?chat_id=${chat.id}`)).text) as ChatRead;
    expect(read).toMatchObject({ title: "Renamed", hidden: true, allow_data_use: false, modified_at: chat.modified_at });
    expect((JSON.parse((await http(server, "GET", "/api/chat")).text) as ListChatsResponse).chats).toEqual([]);
    const withHidden = JSON.parse((await http(server, "GET", "/api/chat?include_hidden=true")).text) as ListChatsResponse;
    expect(withHidden.chats.map((listed) => listed.id)).toEqual([chat.id]);
    for (const bad of [
      { chat_id: "nope", title: "x" },
      { chat_id: chat.id, title: "x".repeat(101) },
      { chat_id: chat.id, hidden: "perhaps" },
    ]) {
      const failure = await put(bad);
      expect([failure.status, failure.text]).toEqual([500, "Internal Server Error"]);
    }
  });

  it("deletes a chat: 200 empty, then 500 text for an unknown one; liveChats counts", async () => {
    const server = await emulator();
    const a = JSON.parse((await http(server, "POST", "/api/chat")).text) as ChatListRead;
    await http(server, "POST", "/api/chat");
    expect(server.liveChats()).toBe(2);
    const deleted = await http(server, "DELETE", `/api/chat?chat_id=${a.id}`);
    expect([deleted.status, deleted.body.length, deleted.headers["content-type"]]).toEqual([200, 0, undefined]);
    expect(server.liveChats()).toBe(1);
    const again = await http(server, "DELETE", `/api/chat?chat_id=${a.id}`);
    expect([again.status, again.statusMessage, again.text]).toEqual([500, "Internal Server Error", "Internal Server Error"]);
    expect(again.headers["content-type"]).toBeUndefined();
    expect(server.liveChats()).toBe(1);
  });

  it("answers 404 with an empty body to other methods on /api/chat and to unknown paths", async () => {
    const server = await emulator();
    for (const [method, path] of [
      ["PATCH", "/api/chat"],
      ["GET", "/api/nothing"],
    ] as const) {
      const response = await http(server, method, path);
      expect([response.status, response.body.length]).toEqual([404, 0]);
    }
  });
});

describe("prompter messages", () => {
  it("adds the first message: MessageRead, manual, the chat's title becomes its content", async () => {
    const server = await emulator();
    const { chatId, prompterId } = await startReply(server, "A question?");
    const chat = JSON.parse((await http(server, "GET", `/api/chat?chat_id=${chatId}`)).text) as ChatRead;
    const prompter = chat.messages.find((message) => message.id === prompterId)!;
    expect(prompter).toMatchObject({ parent_id: null, content: "A question?", chat_id: chatId, role: "prompter", state: "manual", work_parameters: null });
    expect(chat.title).toBe("A question?");
  });

  it("applies the server's parent checks with {message} bodies", async () => {
    const server = await emulator();
    const { chatId, prompterId, assistant } = await startReply(server, "Hi");
    const post = (body: unknown) => postJson(server, "/api/chat/prompter_message", body);
    const expectError = async (body: unknown, status: number, message: unknown) => {
      const response = await post(body);
      expect(response.status).toBe(status);
      expect(response.headers["content-type"]).toBe("application/json; charset=utf-8");
      expect(JSON.parse(response.text)).toEqual({ message });
    };
    await expectError({ chat_id: chatId, parent_id: null, content: "x" }, 400, "Trying to add first message to non-empty chat");
    await expectError({ chat_id: chatId, parent_id: "nope", content: "x" }, 400, "Parent message not found");
    await expectError({ chat_id: chatId, parent_id: prompterId, content: "x" }, 400, "Parent message is not an assistant message");
    await expectError({ chat_id: chatId, parent_id: assistant.id, content: "x" }, 400, "Parent message is not complete");
    await expectError({ chat_id: "nope", parent_id: null, content: "x" }, 500, "Something went wrong");
    await expectError({ chat_id: chatId, parent_id: null }, 422, [{ loc: ["body", "content"], msg: "field required", type: "value_error.missing" }]);
    await expectError({ chat_id: chatId, parent_id: null, content: ["x"] }, 422, [
      { loc: ["body", "content"], msg: "str type expected", type: "type_error.str" },
    ]);
  });
});

describe("assistant messages", () => {
  it("creates a pending message with the work parameters filled", async () => {
    const server = await emulator();
    const { assistant, prompterId, chatId } = await startReply(server, "Hi", { samplingParameters: { top_k: "40", temperature: 0.5 } });
    expect(Object.keys(assistant)).toEqual(MESSAGE_KEYS);
    expect(assistant).toMatchObject({ parent_id: prompterId, chat_id: chatId, content: null, role: "assistant", state: "pending", score: 0 });
    const work = assistant.work_parameters!;
    expect(Object.keys(work)).toEqual([
      "model_config",
      "sampling_parameters",
      "do_sample",
      "seed",
      "system_prompt",
      "user_profile",
      "user_response_instructions",
      "plugins",
      "plugin_max_depth",
    ]);
    expect(work.model_config).toEqual({ model_id: "OpenAssistant/oasst-sft-6-llama-30b", max_input_length: 1024, max_total_length: 1792, quantized: false });
    expect(work.sampling_parameters).toEqual({ top_k: 40, top_p: null, typical_p: null, temperature: 0.5, repetition_penalty: null, max_new_tokens: 1024 });
    expect(work).toMatchObject({ do_sample: true, plugins: [], plugin_max_depth: 4, system_prompt: null });
    expect(Number.isInteger(work.seed)).toBe(true);
  });

  it("defaults the sampling parameters and echoes plugins with their defaults", async () => {
    const server = await emulator();
    const { chatId, prompterId } = await startReply(server, "Hi");
    const response = await postJson(server, "/api/chat/assistant_message", {
      chat_id: chatId,
      parent_id: prompterId,
      model_config_name: "_lorem",
      plugins: [{ url: "https://plugin.example/ai-plugin.json" }],
      system_prompt: "Be brief.",
    });
    const work = (JSON.parse(response.text) as MessageRead).work_parameters!;
    expect(work.sampling_parameters).toEqual({ top_k: null, top_p: null, typical_p: null, temperature: null, repetition_penalty: null, max_new_tokens: 1024 });
    expect(work.plugins).toEqual([{ url: "https://plugin.example/ai-plugin.json", enabled: true, plugin_config: null, trusted: false }]);
    expect(work.system_prompt).toBe("Be brief.");
  });

  it("rejects unknown and disallowed models with 422 and the server's text", async () => {
    const open = await emulator();
    const started = await startReply(open, "Hi");
    const ask = (server: typeof open, parentId: string, model: string) =>
      postJson(server, "/api/chat/assistant_message", { chat_id: "x", parent_id: parentId, model_config_name: model });
    const unknown = await ask(open, started.prompterId, "gpt-4");
    expect([unknown.status, JSON.parse(unknown.text)]).toEqual([422, { message: "Model gpt-4 not found" }]);

    const restricted = await emulator({ models: [MODEL, "_lorem"] });
    const other = await startReply(restricted, "Hi");
    const disallowed = await ask(restricted, other.prompterId, "distilgpt2");
    expect([disallowed.status, JSON.parse(disallowed.text)]).toEqual([422, { message: `Model distilgpt2 not in allowed models: ${MODEL},_lorem` }]);
  });

  it("rejects max_new_tokens null and wrong types with a validation array", async () => {
    const server = await emulator();
    const { chatId, prompterId } = await startReply(server, "Hi");
    const response = await postJson(server, "/api/chat/assistant_message", {
      chat_id: chatId,
      parent_id: prompterId,
      model_config_name: MODEL,
      sampling_parameters: { max_new_tokens: null, temperature: "hot", top_k: 1.5 },
      plugins: [{ enabled: "maybe" }],
    });
    expect(response.status).toBe(422);
    expect(JSON.parse(response.text)).toEqual({
      message: [
        { loc: ["body", "sampling_parameters", "temperature"], msg: "value is not a valid float", type: "type_error.float" },
        { loc: ["body", "sampling_parameters", "max_new_tokens"], msg: "none is not an allowed value", type: "type_error.none.not_allowed" },
        { loc: ["body", "plugins", 0, "url"], msg: "field required", type: "value_error.missing" },
        { loc: ["body", "plugins", 0, "enabled"], msg: "value could not be parsed to a boolean", type: "type_error.bool" },
      ],
    });
    const missing = await postJson(server, "/api/chat/assistant_message", { chat_id: chatId });
    expect(JSON.parse(missing.text)).toEqual({
      message: [
        { loc: ["body", "parent_id"], msg: "field required", type: "value_error.missing" },
        { loc: ["body", "model_config_name"], msg: "field required", type: "value_error.missing" },
      ],
    });
  });

  it("requires the parent to be a prompter message (else 500 Something went wrong)", async () => {
    const server = await emulator();
    const { chatId, assistant } = await startReply(server, "Hi");
    for (const parentId of ["nope", assistant.id]) {
      const response = await postJson(server, "/api/chat/assistant_message", { chat_id: chatId, parent_id: parentId, model_config_name: MODEL });
      expect([response.status, JSON.parse(response.text)]).toEqual([500, { message: "Something went wrong" }]);
    }
  });
});

describe("other routes", () => {
  it("GET /api/chat/message reads a message; unknown → 500 text", async () => {
    const server = await emulator();
    const { chatId, assistant } = await startReply(server, "Hi");
    const response = await http(server, "GET", `/api/chat/message?chat_id=${chatId}&message_id=${assistant.id}`);
    // A free worker took the message as soon as it was queued.
    expect(JSON.parse(response.text)).toEqual({ ...assistant, state: "in_progress" });
    const missing = await http(server, "GET", `/api/chat/message?chat_id=${chatId}&message_id=nope`);
    expect([missing.status, missing.text]).toEqual([500, "Internal Server Error"]);
  });

  it("GET /api/chat/models lists the allowed models in dict order, each with the 8 presets", async () => {
    const all = JSON.parse((await http(await emulator(), "GET", "/api/chat/models")).text) as ModelConfigInfo[];
    expect(all.map((model) => model.name)).toEqual(MODEL_NAMES);
    expect(all[0]!.name).toBe("_lorem");
    for (const model of all) {
      expect(model.description).toBe("");
      expect(model.parameter_configs.map((preset) => preset.name)).toEqual([
        "k50",
        "k50-Creative",
        "k50-Precise",
        "k50-Original",
        "k50-Plugins",
        "nucleus9",
        "typical2",
        "typical3",
      ]);
    }
    expect(all[0]!.parameter_configs[4]).toEqual({
      name: "k50-Plugins",
      description: "Top-k sampling with k=50 and temperature=0.35",
      sampling_parameters: { top_k: 50, top_p: null, typical_p: null, temperature: 0.35, repetition_penalty: 1.1111111111111112, max_new_tokens: 1024 },
    });
    // The response keeps dict order, not the order of the allowed list.
    const some = JSON.parse((await http(await emulator({ models: [MODEL, "_lorem"] }), "GET", "/api/chat/models")).text) as ModelConfigInfo[];
    expect(some.map((model) => model.name)).toEqual(["_lorem", MODEL]);
  });

  it("POST /api/chat/vote sets the score; invalid scores are a plain 400", async () => {
    const server = await emulator();
    const { chatId, assistant } = await startReply(server, "Hi");
    const vote = await postJson(server, "/api/chat/vote", { chat_id: chatId, message_id: assistant.id, score: 1 });
    expect([vote.status, vote.text, vote.headers["content-type"]]).toEqual([200, '""', "application/json; charset=utf-8"]);
    const read = JSON.parse((await http(server, "GET", `/api/chat/message?chat_id=${chatId}&message_id=${assistant.id}`)).text) as MessageRead;
    expect(read.score).toBe(1);
    const invalid = await postJson(server, "/api/chat/vote", { chat_id: chatId, message_id: assistant.id, score: 2 });
    expect([invalid.status, invalid.text]).toEqual([400, "Invalid score"]);
  });
});

describe("Next.js body parser", () => {
  it("answers invalid JSON with 400 `Invalid JSON` as plain text", async () => {
    const server = await emulator();
    const response = await http(server, "POST", "/api/chat/prompter_message", { headers: { "content-type": "application/json" }, body: "{nope" });
    expect([response.status, response.statusMessage, response.text, response.headers["content-type"]]).toEqual([
      400,
      "Invalid JSON",
      "Invalid JSON",
      undefined,
    ]);
  });

  it("answers a body over 1 MB with 413 `Body exceeded 1mb limit`", async () => {
    const server = await emulator();
    const body = JSON.stringify({ content: "x".repeat(1024 * 1024) });
    const response = await http(server, "POST", "/api/chat/prompter_message", { headers: { "content-type": "application/json" }, body });
    expect([response.status, response.text]).toEqual([413, "Body exceeded 1mb limit"]);
  });

  it("parses before checking the session: invalid JSON is a 400 even without a cookie", async () => {
    const server = await emulator();
    const response = await http(server, "POST", "/api/chat", { cookie: false, headers: { "content-type": "application/json" }, body: "[" });
    expect(response.status).toBe(400);
  });

  it("leaves a non-JSON body as text: the handler sees no fields (422 from the server)", async () => {
    const server = await emulator();
    const response = await http(server, "POST", "/api/chat/prompter_message", { headers: { "content-type": "text/plain" }, body: "hello" });
    expect(response.status).toBe(422);
  });

  it("records every request: method, path, query, headers and body", async () => {
    const server = await emulator();
    await http(server, "POST", "/api/chat?x=1&x=2", { headers: { "content-type": "application/json", "x-test": "yes" }, body: '{"a":1}' });
    expect(server.requests).toEqual([
      {
        method: "POST",
        path: "/api/chat",
        query: { x: "1,2" },
        headers: expect.objectContaining({ "x-test": "yes", cookie: server.cookie, "content-type": "application/json" }),
        body: '{"a":1}',
      },
    ]);
  });
});
