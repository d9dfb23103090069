import type { Command } from "commander";
import type { ConnectionFlags } from "../config.js";
import { preferBaselineWasm } from "../baseline-wasm.js";
import type { CliContext } from "../cli-context.js";
import { addConnectionFlags } from "../connection-flags.js";

const EXAMPLES = `
Examples:
  $ oasst models
  $ oasst models --json | jq -r '.[].name'
  $ oasst models --base-url http://127.0.0.1:8080 --cookie 'next-auth.session-token=…'`;

/** `oasst models`: what `--model` accepts on this server. */
export function registerModelsCommand(program: Command, context: CliContext): void {
  const command = program
    .command("models")
    .description("list the server's models and their sampling presets")
    .option("--json", "print the server's answer as JSON");
  addConnectionFlags(command)
    .addHelpText("after", EXAMPLES)
    .action(async (flags: ConnectionFlags & { json?: boolean }) => {
      const { runModels } = await import("../run-models.js");
      preferBaselineWasm(context);
      await runModels(context, flags);
    });
}
