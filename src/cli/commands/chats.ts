import type { Command } from "commander";
import { addConnectionFlags } from "../connection-flags.js";
import type { ChatsFlags } from "../run-chats.js";

const EXAMPLES = `
Examples:
  $ oasst chats
  $ oasst chats --json
  $ oasst chats --delete 018a3c5e-7f6b-7c2d-9e1f-0a1b2c3d4e5f
  $ oasst chats --delete-all          # asks first
  $ oasst chats --delete-all --yes    # for scripts`;

/** `oasst chats`: the account's chats; oasst deletes its own, this cleans up the rest. */
export function registerChatsCommand(program: Command): void {
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
      await runChats(flags);
    });
}
