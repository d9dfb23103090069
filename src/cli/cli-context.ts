import { homedir } from "node:os";
import process from "node:process";
import type { Readable, Writable } from "node:stream";
import type { HintContext } from "./cli-hints.js";
import type { SignalSource } from "./stop-signals.js";

/** A stream the CLI writes to: the process's stdout or stderr, or a test's. */
export type CliOutput = Writable & { readonly isTTY?: boolean; readonly columns?: number };

/** What the CLI reads a prompt or an answer from: the process's stdin, or a test's. */
export type CliInput = Readable & { readonly isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };

/**
 * What one run of `oasst` reads and writes, apart from the network and its own files: the
 * environment, the home directory, the standard streams, and the values it must never print.
 * main.ts makes it from the process; tests run commands in-process with their own.
 */
export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly homeDir: string;
  readonly platform: NodeJS.Platform;
  readonly stdin: CliInput;
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** Ctrl-C, SIGTERM and SIGHUP: they stop a reply, or `serve` and `emulate`. */
  readonly signals: SignalSource;
  /** Values that must never be printed (cookie values, proxy passwords, the API key); see error-output.ts. */
  readonly secrets: Set<string>;
  /** The site and proxy in use, once the settings are resolved: the error hints name them. */
  readonly hints: HintContext;
  /**
   * The run is the whole process: it may end it (a second Ctrl-C) and change process-wide
   * settings (V8's WebAssembly tier, see baseline-wasm.ts). False for runs inside another program (tests).
   */
  readonly ownsProcess: boolean;
}

/** The context of the `oasst` process itself. */
export function processContext(): CliContext {
  return {
    env: process.env,
    homeDir: homedir(),
    platform: process.platform,
    // Getters: Node creates each standard stream on first use, and most commands never read stdin.
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    signals: process,
    secrets: new Set(),
    hints: {},
    ownsProcess: true,
  };
}
