#!/usr/bin/env node
/**
 * A/B of two builds' CPU (the provider's, or the gateway's) under the same host load: both run at the same time,
 * each in a process of its own against one server, on separate halves of its accounts
 * (swapped every round). On a shared host whose load moves a single run by ±20%, this
 * tells a change of a few percent apart where runs one after another cannot.
 *
 *   node bench/ab.mjs A_DIST B_DIST [--scenario paced|serve|concurrency] [--rounds N]
 *
 * A_DIST, B_DIST: build directories (a copy of `dist/` made before a change, and `dist/`).
 * paced: 100 chats each at ~30 tokens/s, 450 tokens (bench/paced.mjs --provider);
 * serve: `oasst serve` with 100 accounts under 100 streamed completions at ~30 tokens/s (bench/paced.mjs --gateway),
 * the gateway process's CPU;
 * concurrency: 500 chats each of 1,024 tokens, 50 in flight (bench/concurrency.mjs --worker).
 * Prints each round's CPU (user + system) per build and B/A, then B/A over all rounds.
 */
import console from "node:console";
import { resolve } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL, URL } from "node:url";
import { runJsonChild } from "./measure.mjs";
import { TOKEN_DELAY_MS } from "./paced.mjs";
import { startBenchServer } from "./server-process.mjs";

const SCENARIOS = {
  paced: {
    script: "paced.mjs",
    mode: "--provider",
    server: { tokenDelayMs: TOKEN_DELAY_MS, accounts: 208 },
    config: (url, sessions) => ({ url, sessions, chats: 100, tokens: 450 }),
  },
  serve: {
    script: "paced.mjs",
    mode: "--gateway",
    server: { tokenDelayMs: TOKEN_DELAY_MS, accounts: 208 },
    config: (url, sessions) => ({ url, sessions: sessions.slice(0, 100), chats: 100, tokens: 450 }),
  },
  concurrency: {
    script: "concurrency.mjs",
    mode: "--worker",
    server: { accounts: 208 },
    config: (url, sessions) => ({ url, cookies: sessions[0], sessions, chats: 500, inflight: 50, tokens: 1024, warmUp: 0 }),
  },
};

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(name);
  return index === -1 ? fallback : args.splice(index, 2)[1];
};
const scenario = SCENARIOS[option("--scenario", "paced")];
const rounds = Number(option("--rounds", "4"));
if (!scenario || args.length !== 2 || !(rounds > 0)) {
  console.error("usage: node bench/ab.mjs A_DIST B_DIST [--scenario paced|serve|concurrency] [--rounds N]");
  process.exit(2);
}
// BENCH_DIST is read as a URL: a directory's needs its trailing slash.
const [distA, distB] = args.map((dir) => pathToFileURL(resolve(dir)).href.replace(/\/?$/, "/"));

/** One client process on `dist`; resolves with its result line. */
function client(dist, config) {
  const script = fileURLToPath(new URL(scenario.script, import.meta.url));
  return runJsonChild(`${scenario.script} ${scenario.mode}`, script, [scenario.mode, JSON.stringify(config)], {
    PATH: process.env.PATH ?? "",
    BENCH_DIST: dist,
  });
}

const server = await startBenchServer(scenario.server);
try {
  const half = Math.floor(server.sessions.length / 2);
  const sessions = [server.sessions.slice(1, half), server.sessions.slice(half)];
  let totalA = 0;
  let totalB = 0;
  for (let round = 0; round < rounds; round++) {
    const swap = round % 2;
    const [a, b] = await Promise.all([
      client(distA, scenario.config(server.url, sessions[swap])),
      client(distB, scenario.config(server.url, sessions[1 - swap])),
    ]);
    for (const [name, result] of [
      ["A", a],
      ["B", b],
    ]) {
      if (result.errors || result.mismatches)
        throw new Error(`${name}: ${result.errors} errors, ${result.mismatches} mismatches (${result.firstError ?? "wrong text"})`);
    }
    totalA += a.cpuMs;
    totalB += b.cpuMs;
    console.log(`round ${round + 1}: A ${a.cpuMs.toFixed(0)} ms CPU, B ${b.cpuMs.toFixed(0)} ms CPU, B/A ${(b.cpuMs / a.cpuMs).toFixed(3)}`);
  }
  console.log(`B/A over ${rounds} rounds: ${(totalB / totalA).toFixed(3)} (CPU, user + system)`);
} finally {
  await server.stop();
}
