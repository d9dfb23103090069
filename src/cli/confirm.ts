import { createInterface } from "node:readline";
import { AbortError } from "../errors.js";
import type { CliContext } from "./cli-context.js";

/** Ask a yes/no question on the terminal (stderr); only "y" or "yes" is a yes. Ctrl-C rejects with an AbortError. */
export function confirm(context: CliContext, question: string): Promise<boolean> {
  const rl = createInterface({ input: context.stdin, output: context.stderr });
  return new Promise<boolean>((resolve, reject) => {
    rl.on("SIGINT", () => {
      rl.close();
      context.stderr.write("\n");
      reject(new AbortError("Interrupted: nothing was deleted"));
    });
    rl.question(question, (answer) => {
      rl.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
  });
}
