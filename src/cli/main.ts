#!/usr/bin/env node
import { setFlagsFromString } from "node:v8";
import { createProgram } from "./program.js";

/** The commands that serve until stopped; every other one ends when its work is done. */
const SERVERS = new Set(["serve", "emulate"]);

const program = createProgram();
program.hook("preAction", (_program, command) => {
  // undici (the proxy paths) and sql.js (browser cookies) run WebAssembly, which V8 recompiles with its
  // optimizing tier in background threads once it ran a little; a process's exit waits for those threads
  // (over 100 ms after the last output). A command that ends after a few requests does well with the
  // baseline code; the servers keep the optimized code for their long lives.
  if (!SERVERS.has(command.name())) setFlagsFromString("--liftoff-only");
});
try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Every failure ends here: two lines on stderr (cause, fix) and an exit status per kind of error.
  const { reportFailure } = await import("./error-output.js");
  process.exitCode = reportFailure(error);
}
