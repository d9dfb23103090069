/**
 * `oasst` run inside the test's process (`runOasst` from src/cli/program.ts) with a context of
 * its own: the environment and home directory given, stdin from a string (not a TTY), stdout
 * and stderr collected. What a child process shows the same way (output, exit status) costs
 * no process start this way; signals, terminals and what is left open at exit still need a
 * child (cli-harness.ts `spawnCli`, reliability/helpers/run-cli.ts).
 */
import { EventEmitter } from "node:events";
import { Readable, Writable } from "node:stream";
import type { CliContext } from "../../src/cli/cli-context.js";
import { runOasst } from "../../src/cli/program.js";

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A stream that keeps what is written to it, as text. */
function collector(): { stream: Writable; text: () => string } {
  let text = "";
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      text += typeof chunk === "string" ? chunk : chunk.toString("utf8");
      done();
    },
  });
  return { stream, text: () => text };
}

/** A context like the process's, for a run inside the test: nothing of it is the test process's own. */
export function inProcessContext(options: { env: NodeJS.ProcessEnv; homeDir: string; input?: string }): {
  context: CliContext;
  stdout: () => string;
  stderr: () => string;
} {
  const stdout = collector();
  const stderr = collector();
  const context: CliContext = {
    env: options.env,
    homeDir: options.homeDir,
    platform: process.platform,
    stdin: Readable.from(options.input ? [options.input] : []),
    stdout: stdout.stream,
    stderr: stderr.stream,
    signals: new EventEmitter(),
    secrets: new Set(),
    hints: {},
    ownsProcess: false,
  };
  return { context, stdout: stdout.text, stderr: stderr.text };
}

/** Runs `oasst ARGS` in this process; resolves with its exit status and output. */
export async function runInProcess(args: readonly string[], options: { env: NodeJS.ProcessEnv; homeDir: string; input?: string }): Promise<InProcessResult> {
  const { context, stdout, stderr } = inProcessContext(options);
  const code = await runOasst(args, context);
  return { code, stdout: stdout(), stderr: stderr() };
}
