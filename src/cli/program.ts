import { Command } from "commander";
import packageJson from "../../package.json" with { type: "json" };
import { registerChatCommand } from "./commands/chat.js";
import { registerChatsCommand } from "./commands/chats.js";
import { registerCookiesCommand } from "./commands/cookies.js";
import { registerEmulateCommand } from "./commands/emulate.js";
import { registerModelsCommand } from "./commands/models.js";
import { registerServeCommand } from "./commands/serve.js";

/** The `oasst` program with every command; apart from main.ts so that tests can parse command lines without running them. */
export function createProgram(): Command {
  const program = new Command("oasst").description("Open-Assistant chat from the command line").version(packageJson.version);
  registerChatCommand(program);
  registerModelsCommand(program);
  registerChatsCommand(program);
  registerCookiesCommand(program);
  registerEmulateCommand(program);
  registerServeCommand(program);
  program.addHelpText(
    "after",
    `
Examples:
  $ oasst chat "Hello"
  $ oasst chat --continue "And then?"
  $ oasst models
  $ oasst chats --delete-all
Run \`oasst <command> --help\` for a command's flags and examples; docs/cli.md has them all.`,
  );
  return program;
}
