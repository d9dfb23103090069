import type { Command } from "commander";
import { preferBaselineWasm } from "../baseline-wasm.js";
import type { CliContext } from "../cli-context.js";
import { addConnectionFlags } from "../connection-flags.js";
import type { ChatShowFlags } from "../run-chat-show.js";
import type { ChatsFlags } from "../run-chats.js";

const EXAMPLES = `
Examples:
  $ oasst chats
  $ oasst chats --json
  $ oasst chats --delete 018a3c5e-7f6b-7c2d-9e1f-0a1b2c3d4e5f
  $ oasst chats --delete-all          # asks first
  $ oasst chats --delete-all --yes    # for scripts
  $ oasst chats show 018a3c5e-7f6b-7c2d-9e1f-0a1b2c3d4e5f   # a chat's messages as a tree`;

const SHOW_EXAMPLES = `
Examples:
  $ oasst chats show                  # your most recent chat
  $ oasst chats show 018a3c5e-7f6b-7c2d-9e1f-0a1b2c3d4e5f
  $ oasst chats show 018a3c5e-7f6b-7c2d-9e1f-0a1b2c3d4e5f --json | jq -r '.messages[].content'

Each message is a line: its role, its state unless complete, and the first line of its
text, cut to the terminal's width. A message's answers are under it; several answers to
one message (regenerated replies, edited messages) are branches. "active" marks the
chat's active thread tail, "--continue" the reply oasst chat --continue goes on from.`;

/** `oasst chats`: the account's chats; oasst deletes its own, this cleans up the rest. */
export function registerChatsCommand(program: Command, context: CliContext): void {
  const command = program
    .command("chats")
    .description("list your chats on the server, or delete them")
    .option("--delete <id...>", "delete these chats")
    .option("--delete-all", "delete every chat (asks first)")
    .option("--yes", "do not ask before --delete-all")
    .option("--json", "print the list (or what was deleted) as JSON");
  addConnectionFlags(command)
    .addHelpText("after", EXAMPLES)
    .action(async (flags: ChatsFlags) => {
      const { runChats } = await import("../run-chats.js");
      preferBaselineWasm(context);
      await runChats(context, flags);
    });
  const show = command
    .command("show")
    .description("print a chat's messages as a tree (default: your most recent chat)")
    .argument("[chat-id]", "the chat (`oasst chats` lists them)")
    .option("--json", "print the chat with all its messages as JSON");
  addConnectionFlags(show)
    .addHelpText("after", SHOW_EXAMPLES)
    .action(async (chatId: string | undefined, _flags: ChatShowFlags, self: Command) => {
      const { runChatShow } = await import("../run-chat-show.js");
      preferBaselineWasm(context);
      // `oasst chats` reads the flags it shares with `show` wherever they are: both count.
      await runChatShow(context, chatId, self.optsWithGlobals<ChatShowFlags>());
    });
}
