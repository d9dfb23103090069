/**
 * Cold start: `node dist/cli/main.js chat "hi" --base-url … --cookie …` from the
 * spawn to the first byte on its stdout (the first token), against `node -e 0` from the
 * spawn to its exit. Interleaved runs; medians.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { performance } from "node:perf_hooks";
import { fileURLToPath, URL } from "node:url";
import { interleaved, summary } from "./measure.mjs";

const DIST = new URL(process.env.BENCH_DIST ?? "../dist/", import.meta.url);
/** A config dir of its own: the CLI's rate-limit ledger and account locks go there, not to the user's. */
let ENV = { PATH: process.env.PATH ?? "" };

/** Seconds from spawn to the first stdout byte (`firstByte`) or to the exit. */
function time(args, until) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let seconds;
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: ENV });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (text) => {
      stderr += text;
    });
    child.stdout.once("data", () => {
      if (until === "firstByte") seconds ??= (performance.now() - started) / 1000;
    });
    child.stdout.resume();
    child.on("error", reject);
    child.on("exit", (code) => {
      if (until === "exit") seconds ??= (performance.now() - started) / 1000;
      if (code !== 0 || seconds === undefined) reject(new Error(`${args.join(" ")} exited with ${code} ${stderr.slice(-300)}`));
    });
    // Resolve after the exit, so runs never overlap.
    child.on("close", () => {
      if (seconds !== undefined) resolve(seconds);
    });
  });
}

/**
 * @param {import("./server-process.mjs").BenchServer} server
 * @param {{ quick: boolean, runs?: number, log: (line: string) => void }} options
 */
export async function coldStart(server, options) {
  const runs = options.runs ?? (options.quick ? 5 : 10);
  const cli = fileURLToPath(new URL("cli/main.js", DIST));
  const configHome = mkdtempSync(join(os.tmpdir(), "oasst-bench-"));
  ENV = { PATH: process.env.PATH ?? "", HOME: configHome, XDG_CONFIG_HOME: configHome };
  let samples;
  try {
    samples = await interleaved(
      {
        "oasst chat": () => time([cli, "chat", "hi", "--base-url", server.url, "--cookie", server.cookie, "--max-new-tokens", "1024"], "firstByte"),
        "node -e 0": () => time(["-e", "0"], "exit"),
      },
      runs,
      options.verbose ? options.log : () => {},
    );
  } finally {
    rmSync(configHome, { recursive: true, force: true });
  }
  const results = Object.fromEntries(Object.entries(samples).map(([name, seconds]) => [name, summary(seconds)]));
  const status = await server.status();
  return { runs, variants: results, liveChats: status.liveChats };
}
