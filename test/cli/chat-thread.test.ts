/** Which reply `--continue` goes on from, how `--continue [id]` splits from the prompt, and the tree of `oasst chats show`: pure functions. */
import { describe, expect, it } from "vitest";
import type { ChatRead, MessageRead } from "../../src/client/wire-types.js";
import { ConfigError } from "../../src/errors.js";
import { looksLikeChatId, replyToContinue } from "../../src/cli/chat-thread.js";
import { formatThread } from "../../src/cli/run-chat-show.js";
import { chatTarget, type ChatCommandFlags } from "../../src/cli/run-chat.js";
import { palette } from "../../src/cli/terminal.js";

const CHAT = "01a23f26-a8d8-7000-9846-14c114108e83";
const OTHER = "01a23f26-a8d8-7000-9846-000000000000";

function message(id: string, parent: string | null, role: MessageRead["role"], fields: Partial<MessageRead> = {}): MessageRead {
  return {
    id,
    parent_id: parent,
    content: `text of ${id}`,
    chat_id: CHAT,
    created_at: "2024-01-01T00:00:00.000000",
    role,
    state: role === "assistant" ? "complete" : "manual",
    score: 0,
    reports: [],
    work_parameters: null,
    safe_content: null,
    safety_level: null,
    safety_label: null,
    safety_rots: null,
    used_plugin: null,
    ...fields,
  };
}

function chat(messages: MessageRead[], tail: string | null = null): ChatRead {
  return {
    id: CHAT,
    created_at: "2024-01-01T00:00:00.000000",
    modified_at: "2024-01-01T00:00:00.000000",
    title: null,
    hidden: false,
    allow_data_use: true,
    active_thread_tail_message_id: tail,
    messages,
  };
}

describe("replyToContinue", () => {
  const p1 = message("p1", null, "prompter");
  const a1 = message("a1", "p1", "assistant", { created_at: "2024-01-01T00:00:01.000000" });
  const a2 = message("a2", "p1", "assistant", { created_at: "2024-01-01T00:00:02.000000" });

  it("takes the active thread tail when it is a complete assistant message", () => {
    expect(replyToContinue(chat([p1, a1, a2], "a1")).id).toBe("a1");
  });

  it("else the newest complete assistant message; of equal times, the later in the server's order", () => {
    expect(replyToContinue(chat([p1, a2, a1])).id).toBe("a2");
    expect(replyToContinue(chat([p1, a1, a2], "p1")).id).toBe("a2");
    const cancelled = message("a3", "p1", "assistant", { created_at: "2024-01-01T00:00:03.000000", state: "cancelled" });
    expect(replyToContinue(chat([p1, a1, a2, cancelled], "a3")).id).toBe("a2");
    const twin = message("a2b", "p1", "assistant", { created_at: a2.created_at });
    expect(replyToContinue(chat([p1, a1, a2, twin])).id).toBe("a2b");
    expect(replyToContinue(chat([p1, twin, a2, a1])).id).toBe("a2");
  });

  it("refuses a chat without a complete reply, with a hint that names the chat", () => {
    const pending = message("a1", "p1", "assistant", { state: "pending", content: null });
    for (const messages of [[], [p1], [p1, pending]]) {
      const error = (() => {
        try {
          replyToContinue(chat(messages));
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).hint).toContain(`oasst chats show ${CHAT}`);
    }
  });
});

describe("chatTarget: --continue [id] and the prompt", () => {
  it.each<[string[], ChatCommandFlags, string | undefined, unknown]>([
    [[], {}, undefined, { kind: "once" }],
    [["Hi"], { keep: true }, "Hi", { kind: "keep" }],
    [[], { continue: true }, undefined, { kind: "continue", chatId: undefined }],
    [["there"], { continue: "Hello" }, "Hello there", { kind: "continue", chatId: undefined }],
    [["Hi"], { continue: CHAT }, "Hi", { kind: "continue", chatId: CHAT }],
    [[CHAT, "Hi"], { continue: true }, "Hi", { kind: "continue", chatId: CHAT }],
    [[OTHER, "Hi"], { continue: CHAT }, `${OTHER} Hi`, { kind: "continue", chatId: CHAT }],
    [[CHAT.toUpperCase()], { continue: true }, undefined, { kind: "continue", chatId: CHAT.toUpperCase() }],
  ])("%j with %j", (words, flags, prompt, target) => {
    expect(chatTarget(words, flags)).toEqual({ prompt, target });
  });

  it("knows a chat id when it sees one", () => {
    expect(looksLikeChatId(CHAT)).toBe(true);
    expect(looksLikeChatId(`${CHAT} `)).toBe(false);
    expect(looksLikeChatId("018a3c5e7f6b7c2d9e1f0a1b2c3d4e5f")).toBe(false);
    expect(looksLikeChatId("Hello")).toBe(false);
  });
});

describe("formatThread", () => {
  const plain = { width: undefined, colors: palette(false) };

  it("draws branches only where a message has several answers, and shows unusual states", () => {
    const messages = [
      message("p1", null, "prompter", { content: "Question" }),
      message("a1", "p1", "assistant", { content: "First", created_at: "2024-01-01T00:00:01.000000" }),
      message("a2", "p1", "assistant", { content: null, state: "aborted_by_worker", created_at: "2024-01-01T00:00:02.000000" }),
      message("p2", "a1", "prompter", { content: "Edited", created_at: "2024-01-01T00:00:04.000000" }),
      message("p3", "a1", "prompter", { content: "Follow-up", created_at: "2024-01-01T00:00:03.000000" }),
      message("a3", "p3", "assistant", { content: "Answer", created_at: "2024-01-01T00:00:05.000000" }),
    ];
    expect(formatThread(chat(messages, "a3"), plain).split("\n").slice(1)).toEqual([
      "user: Question",
      "├─ assistant: First",
      "│  ├─ user: Follow-up",
      "│  │  assistant: Answer  ← active, --continue",
      "│  └─ user: Edited",
      "└─ assistant [aborted_by_worker]",
      "",
    ]);
  });

  it("strips control sequences from server text, keeps the first line with text, and cuts lines to the width", () => {
    const messages = [
      message("p1", null, "prompter", { content: "\n  \x1b]0;pwned\x07Hello\x1b[31m red\x1b[0m\r\nsecond line" }),
      message("a1", "p1", "assistant", { content: "a\tb" }),
    ];
    const lines = formatThread(chat(messages), plain).split("\n");
    expect(lines[1]).toBe("user: Hello red …");
    expect(lines[2]).toBe("assistant: a b  ← --continue");
    const narrow = formatThread(chat(messages), { ...plain, width: 14 }).split("\n");
    expect(narrow[1]).toBe("user: Hello r…");
    expect(narrow.join("\n")).not.toContain("\x1b");
  });

  it("shows every message, even with a parent missing or a parent cycle", () => {
    const messages = [message("x", "y", "assistant"), message("y", "x", "prompter"), message("z", "gone", "assistant")];
    const lines = formatThread(chat(messages), plain).split("\n");
    expect(lines.filter((line) => line.includes("text of"))).toHaveLength(3);
  });
});
