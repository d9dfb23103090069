#!/usr/bin/env node
import { reportFailure } from "./error-output.js";
import { createProgram } from "./program.js";

const program = createProgram();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Every failure ends here: two lines on stderr (cause, fix) and an exit status per kind of error.
  process.exitCode = reportFailure(error);
}
