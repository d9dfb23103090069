import { createInterface } from "node:readline";
import { AbortError } from "../errors.js";

/** Ask a yes/no question on the terminal (stderr); only "y" or "yes" is a yes. Ctrl-C rejects with an AbortError. */
export function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  return new Promise<boolean>((resolve, reject) => {
    rl.on("SIGINT", () => {
      rl.close();
      process.stderr.write("\n");
      reject(new AbortError("Interrupted: nothing was deleted"));
    });
    rl.question(question, (answer) => {
      rl.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
  });
}
