import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConversationStore } from "../../src/gateway/conversation-store.js";
import type { Messages } from "../../src/provider/provider-types.js";

const user = (content: string) => ({ role: "user", content });
const assistant = (content: string) => ({ role: "assistant", content });
const handle = (n: number) => ({ chatId: "chat-1", messageId: `assistant-${n}`, parentId: `prompter-${n}` });

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A store that has answered `u1` with `a1` in chat-1 for account A. */
function storeWithOneTurn(options: ConstructorParameters<typeof ConversationStore>[0] = {}) {
  const store = new ConversationStore(options);
  const first = store.plan([user("u1")]);
  store.remember(first, handle(1), "a1", "A");
  return store;
}

describe("the conversation store", () => {
  it("a history never seen is a new chat, with every message", () => {
    const store = new ConversationStore();
    const messages: Messages = [{ role: "system", content: "Be brief." }, user("u1"), assistant("from elsewhere"), user("u2")];
    expect(store.plan(messages)).toMatchObject({ conversation: "new", regenerate: false, messages, account: undefined });
  });

  it("a history that extends a known reply continues its chat with the new user turn alone, on the chat's account", () => {
    const store = storeWithOneTurn();
    const plan = store.plan([{ role: "system", content: "Be brief." }, user("u1"), assistant("a1"), user("u2")]);
    expect(plan).toMatchObject({ conversation: handle(1), regenerate: false, account: "A" });
    expect(plan.messages).toEqual([{ role: "system", content: "Be brief." }, user("u2")]);
  });

  it("matches texts whatever their surrounding whitespace, as clients trim differently", () => {
    const store = storeWithOneTurn();
    expect(store.plan([user(" u1\n"), assistant("a1\n\n"), user("u2")]).conversation).toEqual(handle(1));
  });

  it("the same history again regenerates the reply to its last user message", () => {
    const store = storeWithOneTurn();
    expect(store.plan([user("u1")])).toMatchObject({ conversation: handle(1), regenerate: true, messages: [] });
  });

  it("an edited earlier turn branches under the last reply both histories share", () => {
    const store = storeWithOneTurn();
    const second = store.plan([user("u1"), assistant("a1"), user("u2")]);
    store.remember(second, handle(2), "a2", "A");
    const edited = store.plan([user("u1"), assistant("a1"), user("u2, edited")]);
    expect(edited).toMatchObject({ conversation: handle(1), regenerate: false, messages: [user("u2, edited")] });
    const further = store.plan([user("u1"), assistant("a1"), user("u2"), assistant("a2"), user("u3")]);
    expect(further).toMatchObject({ conversation: handle(2), messages: [user("u3")] });
  });

  it("turns after the known reply that it never gave are flattened into one message", () => {
    const store = storeWithOneTurn();
    const plan = store.plan([user("u1"), assistant("a1"), user("u2"), assistant("written by the caller"), user("u3")]);
    expect(plan.conversation).toEqual(handle(1));
    expect(plan.messages).toEqual([user("User: u2\nAssistant: written by the caller\nUser: u3\nAssistant:")]);
  });

  it("a chat unused for the TTL is not continued, and is handed out once for deletion", () => {
    let now = 1_000_000;
    const store = storeWithOneTurn({ ttlMs: 60_000, now: () => now });
    now += 59_000;
    expect(store.takeExpired()).toEqual([]);
    now += 2_000;
    expect(store.plan([user("u1"), assistant("a1"), user("u2")]).conversation).toBe("new");
    expect(store.takeExpired()).toEqual([{ chatId: "chat-1", account: "A" }]);
    expect(store.takeExpired()).toEqual([]);
    expect(store.size).toBe(0);
  });

  it("survives a restart through its file, which holds ids and fingerprints, never the text", () => {
    const dir = mkdtempSync(join(tmpdir(), "oasst-conversations-"));
    dirs.push(dir);
    const file = join(dir, "conversations.json");
    const store = storeWithOneTurn({ file });
    store.flush();
    const text = readFileSync(file, "utf8");
    expect(text).toContain("chat-1");
    expect(text).not.toMatch(/u1|"a1"/);
    const restarted = new ConversationStore({ file });
    expect(restarted.plan([user("u1"), assistant("a1"), user("u2")]).conversation).toEqual(handle(1));
    writeFileSync(file, "{ not json");
    expect(new ConversationStore({ file }).size).toBe(0);
  });

  it("forgets chats deleted elsewhere", () => {
    const store = storeWithOneTurn();
    store.forget(["chat-1"]);
    expect(store.plan([user("u1"), assistant("a1"), user("u2")]).conversation).toBe("new");
  });
});
