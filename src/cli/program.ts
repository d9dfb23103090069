import { Command, CommanderError } from "commander";
import packageJson from "../../package.json" with { type: "json" };
import type { CliContext, CliOutput } from "./cli-context.js";
import { registerChatCommand } from "./commands/chat.js";
import { registerChatsCommand } from "./commands/chats.js";
import { registerCookiesCommand } from "./commands/cookies.js";
import { registerEmulateCommand } from "./commands/emulate.js";
import { registerModelsCommand } from "./commands/models.js";
import { registerServeCommand } from "./commands/serve.js";
import { reportFailure } from "./error-output.js";
import { ReportedFailure } from "./exit-codes.js";
import { colorsEnabled } from "./terminal.js";

/**
 * Runs `oasst` with these arguments (those after the command's name) and returns its exit
 * status. Every failure ends here: two lines on stderr (cause, fix) and a status per kind
 * of error; commander's own (a usage error, --help, --version) keep commander's status.
 */
export async function runOasst(args: readonly string[], context: CliContext): Promise<number> {
  try {
    await createProgram(context).parseAsync([...args], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof ReportedFailure) return error.exitCode;
    return reportFailure(context, error);
  }
}

/** The `oasst` program with every command, writing to `context`'s streams; it throws where commander would exit. */
export function createProgram(context: CliContext): Command {
  const program = new Command("oasst")
    .description("Open-Assistant chat from the command line")
    .version(packageJson.version)
    // Before the commands are added: each command takes these settings over from the program.
    .configureOutput({
      writeOut: (text) => context.stdout.write(text),
      writeErr: (text) => context.stderr.write(text),
      // Commander's defaults read the process's streams and environment.
      getOutHelpWidth: () => helpWidth(context.stdout),
      getErrHelpWidth: () => helpWidth(context.stderr),
      getOutHasColors: () => colorsEnabled(context.stdout, context.env),
      getErrHasColors: () => colorsEnabled(context.stderr, context.env),
    })
    .exitOverride();
  registerChatCommand(program, context);
  registerModelsCommand(program, context);
  registerChatsCommand(program, context);
  registerCookiesCommand(program, context);
  registerEmulateCommand(program, context);
  registerServeCommand(program, context);
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

/** The terminal's width for the help text; 80 columns when not a terminal, as commander. */
function helpWidth(stream: CliOutput): number {
  return stream.isTTY && stream.columns ? stream.columns : 80;
}
