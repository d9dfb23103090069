/**
 * The built CLI as a child process, for the reliability tests: a clean environment
 * (temporary HOME, no proxies or OASST_* variables of the machine), every byte of
 * stdout and stderr, and a preload that reports whether the process ended because
 * nothing was left open (`beforeExit` fired) and which resources were active at exit.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInProcess, type InProcessResult } from "../../helpers/in-process-cli.js";
import { CLI } from "./child.js";

/**
 * Written to OASST_TEST_EXIT_REPORT at exit: did the event loop drain by itself, what
 * was still active, and which ref'd timers fired after the process's last output (a
 * timer nobody cleared holds the process up to its length, then fires: a leak that
 * "drained" alone would not show). The timers are those of `setTimeout` and `setInterval`
 * (global) and of `node:timers/promises`, wrapped before the program loads (an async
 * hook would see Node's internal timers too, at a third more CPU for each process).
 */
const EXIT_REPORT_PRELOAD = `
import { writeFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import timersPromises from "node:timers/promises";
import { promisify } from "node:util";
let drained = false;
let lastOutput = performance.now();
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  stream.write = (...args) => { lastOutput = performance.now(); return write(...args); };
}
const fired = [];
const length = (ms) => Math.max(1, Number(ms) || 1);
for (const name of ["setTimeout", "setInterval"]) {
  const original = globalThis[name];
  const wrapped = function (callback, ms, ...args) {
    if (typeof callback !== "function") return original(callback, ms, ...args);
    const timer = original(function (...callbackArgs) {
      if (timer.hasRef()) fired.push({ at: performance.now(), ms: length(ms) });
      return callback.apply(this, callbackArgs);
    }, ms, ...args);
    return timer;
  };
  if (original[promisify.custom]) wrapped[promisify.custom] = original[promisify.custom];
  globalThis[name] = wrapped;
}
const sleep = timersPromises.setTimeout;
timersPromises.setTimeout = (ms, value, options) =>
  sleep(ms, value, options).then((result) => {
    if (options?.ref !== false) fired.push({ at: performance.now(), ms: length(ms) });
    return result;
  });
syncBuiltinESMExports();
process.on("beforeExit", () => { drained = true; });
process.on("exit", (code) => {
  const path = process.env.OASST_TEST_EXIT_REPORT;
  const late = fired.filter((f) => f.at > lastOutput).map((f) => f.ms);
  if (path) writeFileSync(path, JSON.stringify({ drained, code, resources: process.getActiveResourcesInfo(), lateTimers: late, quietMs: performance.now() - lastOutput }));
});
`;

export interface ExitReport {
  /** The process ended because its event loop had nothing left: no socket, server or ref'd timer open. */
  drained: boolean;
  code: number;
  resources: string[];
  /** Lengths (ms) of ref'd timers that fired after the last output: each held the process open. */
  lateTimers: number[];
  /** Milliseconds from the last output to the exit. */
  quietMs: number;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from spawn to close. */
  ms: number;
  exit: ExitReport | undefined;
}

export interface CliRunOptions {
  env?: Record<string, string>;
  /** Called with the child once spawned (send signals, read stdout as it comes). */
  onSpawn?: (child: ChildProcessWithoutNullStreams) => void;
  timeoutMs?: number;
  /** Load the exit-report preload (`exit` in the result). Default true; false spares its async hook's cost where nobody reads the report. */
  exitReport?: boolean;
}

export function runCli(args: string[], options: CliRunOptions = {}): Promise<CliRun> {
  return runNode([CLI, ...args], options);
}

/** The CLI's environment in these tests: nothing of the machine's but PATH, a temporary home, no colours. */
function cliEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "", HOME: home, XDG_CONFIG_HOME: join(home, "config"), NO_COLOR: "1", LANG: "C.UTF-8", ...extra };
}

/** `oasst ARGS` in this process, with runCli's environment (a temporary home): its output and exit status, no exit report. */
export async function runCliInProcess(args: string[], options: { env?: Record<string, string> } = {}): Promise<InProcessResult> {
  const home = await mkdtemp(join(tmpdir(), "oasst-reliability-"));
  try {
    return await runInProcess(args, { env: cliEnv(home, options.env), homeDir: home });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** `node ARGS` (a script and its arguments) the way runCli runs the CLI: the same environment and exit report. */
export async function runNode(args: string[], options: CliRunOptions = {}): Promise<CliRun> {
  const home = await mkdtemp(join(tmpdir(), "oasst-reliability-"));
  const reportPath = join(home, "exit-report.json");
  const started = performance.now();
  const preload = options.exitReport === false ? [] : ["--import", `data:text/javascript,${encodeURIComponent(EXIT_REPORT_PRELOAD)}`];
  const child = spawn(process.execPath, [...preload, ...args], {
    env: cliEnv(home, { OASST_TEST_EXIT_REPORT: reportPath, ...options.env }),
    stdio: "pipe",
  });
  child.stdin.end();
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  // A reader that closed its end makes later writes fail: not an error of the test.
  child.stdout.on("error", () => {});
  options.onSpawn?.(child);
  try {
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 15_000);
      child.on("error", reject);
      child.on("close", (exitCode, exitSignal) => {
        clearTimeout(timer);
        resolve({ code: exitCode, signal: exitSignal });
      });
    });
    const exit = await readFile(reportPath, "utf8").then(
      (text) => JSON.parse(text) as ExitReport,
      () => undefined,
    );
    return { code, signal, stdout, stderr, ms: performance.now() - started, exit };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** Run `task` over `items`, at most `limit` at once, results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  });
  await Promise.all(workers);
  return results;
}
