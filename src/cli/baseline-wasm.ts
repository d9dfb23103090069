import { setFlagsFromString } from "node:v8";
import type { CliContext } from "./cli-context.js";

/**
 * For a command that ends after a few requests (chat, chats, models, cookies). undici (the proxy
 * paths) and sql.js (browser cookies) run WebAssembly, which V8 recompiles with its optimizing
 * tier in background threads once it ran a little; the process's exit waits for those threads
 * (over 100 ms after the last output). The baseline code is fast enough for one command's work.
 * Called once the command's modules are loaded: after a flag change, V8 no longer takes Node's
 * code cache for the built-in modules loaded later, which would cost more than it saves.
 * Not for `serve` and `emulate`, which keep the optimized code for their long lives, nor for a
 * run inside another program (its V8 is not the command's).
 */
export function preferBaselineWasm(context: CliContext): void {
  if (context.ownsProcess) setFlagsFromString("--liftoff-only");
}
