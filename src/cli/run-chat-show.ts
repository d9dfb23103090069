import type { ChatRead, MessageRead } from "../client/wire-types.js";
import { ConfigError } from "../errors.js";
import { readChat, replyToContinue } from "./chat-thread.js";
import type { CliContext } from "./cli-context.js";
import type { ConnectionFlags } from "./config.js";
import { openClient } from "./connection.js";
import { stderrWarner } from "./error-output.js";
import { ignoreClosedPipe, stdoutPalette, type Palette } from "./terminal.js";
import { stripTerminalEscapes } from "./terminal-escapes.js";
import { VerboseLog } from "./verbose-log.js";

export interface ChatShowFlags extends ConnectionFlags {
  json?: boolean;
  /** `oasst chats`'s own flags, which commander also reads after `show`: refused there. */
  delete?: string[];
  deleteAll?: boolean;
}

/** `oasst chats show [id]`: a chat's messages as a tree, or the chat as JSON. Without an id, the most recent chat. */
export async function runChatShow(context: CliContext, chatId: string | undefined, flags: ChatShowFlags): Promise<void> {
  if (flags.delete?.length || flags.deleteAll) {
    throw new ConfigError("oasst chats show does not delete", "Run the delete on its own: oasst chats --delete ID.");
  }
  const { stdout } = context;
  stdout.on("error", ignoreClosedPipe);
  const client = await openClient(context, flags, new VerboseLog(context, flags.verbose === true), stderrWarner(context));
  try {
    const chat = await readChat(client, chatId, "oasst chats show");
    if (flags.json) stdout.write(`${JSON.stringify(chat, null, 2)}\n`);
    else stdout.write(formatThread(chat, { width: outputWidth(context), colors: stdoutPalette(context) }));
  } finally {
    await client.close();
  }
}

/** The terminal's width; piped, $COLUMNS when set, else no limit. */
function outputWidth({ stdout, env }: CliContext): number | undefined {
  if (stdout.isTTY) return stdout.columns;
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : undefined;
}

export interface ThreadView {
  /** Lines are cut to this many characters (undefined: not cut). */
  width: number | undefined;
  colors: Palette;
}

/**
 * The chat's messages as a tree: each message under the one it answers (`parent_id`), a
 * thread going straight down while it has no branches; siblings (regenerated replies,
 * edited messages) drawn as branches, oldest first. Each line: the role, the state when
 * it is not the usual one, the first line of the content; the active thread tail and the
 * reply `oasst chat --continue` goes on from are marked. Server text loses its control
 * sequences (this view is for people; --json has it as sent).
 */
export function formatThread(chat: ChatRead, view: ThreadView): string {
  const { colors } = view;
  const ids = new Set(chat.messages.map((message) => message.id));
  const children = new Map<string | null, MessageRead[]>();
  for (const message of chat.messages) {
    // A parent the chat does not hold makes a root, so that every message is shown.
    const parent = message.parent_id !== null && ids.has(message.parent_id) ? message.parent_id : null;
    const siblings = children.get(parent) ?? [];
    siblings.push(message);
    children.set(parent, siblings);
  }
  for (const siblings of children.values()) siblings.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
  let continued: string | undefined;
  try {
    continued = replyToContinue(chat).id;
  } catch {
    continued = undefined;
  }

  const lines: string[] = [];
  const created = stripTerminalEscapes(chat.created_at.slice(0, 16).replace("T", " "));
  const count = chat.messages.length;
  lines.push(colors.bold(`Chat ${stripTerminalEscapes(chat.id)}, created ${created} UTC, ${count} message${count === 1 ? "" : "s"}`));
  const shown = new Set<string>();
  const line = (prefix: string, message: MessageRead) => {
    shown.add(message.id);
    lines.push(messageLine(prefix, message, { active: message.id === chat.active_thread_tail_message_id, continued: message.id === continued }, view));
  };
  /** A thread goes straight down while each message has one answer; where it has several, each is a branch. */
  const draw = (first: MessageRead[], prefix: string) => {
    let level = first.filter((message) => !shown.has(message.id));
    while (level.length === 1) {
      const [only] = level as [MessageRead];
      line(prefix, only);
      level = (children.get(only.id) ?? []).filter((message) => !shown.has(message.id));
    }
    level.forEach((message, index) => {
      const last = index === level.length - 1;
      if (shown.has(message.id)) return;
      line(`${prefix}${last ? "└─ " : "├─ "}`, message);
      draw(children.get(message.id) ?? [], `${prefix}${last ? "   " : "│  "}`);
    });
  };
  draw(children.get(null) ?? [], "");
  // Messages in a parent cycle have no root: shown after the rest rather than lost.
  draw(
    chat.messages.filter((message) => !shown.has(message.id)),
    "",
  );
  return `${lines.join("\n")}\n`;
}

const ROLE_NAMES: Record<string, string> = { prompter: "user", assistant: "assistant" };

/** The usual state of each role: others are shown. */
const USUAL_STATE: Record<string, string> = { prompter: "manual", assistant: "complete" };

function messageLine(prefix: string, message: MessageRead, marks: { active: boolean; continued: boolean }, view: ThreadView): string {
  const { colors, width } = view;
  const role = ROLE_NAMES[message.role] ?? stripTerminalEscapes(String(message.role));
  const state = message.state === USUAL_STATE[message.role] ? "" : ` [${stripTerminalEscapes(String(message.state))}]`;
  const markNames = [...(marks.active ? ["active"] : []), ...(marks.continued ? ["--continue"] : [])];
  const suffix = markNames.length ? `  ← ${markNames.join(", ")}` : "";
  let text = firstLine(message.content ?? "");
  const head = `${prefix}${role}${state}${text ? ": " : ""}`;
  if (width !== undefined) {
    const room = width - length(head) - length(suffix);
    if (length(text) > room) text = room > 1 ? `${[...text].slice(0, room - 1).join("")}…` : "";
  }
  const roleColour = message.role === "assistant" ? colors.green : colors.cyan;
  return `${prefix}${roleColour(role)}${colors.yellow(state)}${text ? ": " : ""}${text}${colors.dim(suffix)}`;
}

/** The first line with text, without control sequences; ` …` when more follows. */
function firstLine(content: string): string {
  const lines = stripTerminalEscapes(content)
    .replace(/\t/g, " ")
    .split("\n")
    .map((line) => line.trim());
  const index = lines.findIndex((line) => line !== "");
  if (index === -1) return "";
  const more = lines.slice(index + 1).some((line) => line !== "");
  return more ? `${lines[index]} …` : (lines[index] ?? "");
}

/** Characters as a terminal counts them, roughly: code points. */
function length(text: string): number {
  return [...text].length;
}
