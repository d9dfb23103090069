#!/usr/bin/env node
/**
 * `npm run bench`: every benchmark of the suite against one benchmark server (its own
 * process; `paced` starts a paced one of its own), then the table with the targets and
 * bench/results.json. Exit status 1 when an item failed (not when a target is missed).
 *
 *   node bench/run-all.mjs [--quick] [--only NAME[,NAME]] [--runs N] [--verbose]
 *
 * NAME: stream-throughput, concurrency, paced, cold-start.
 * BENCH_DIST=/path/to/dist/ measures another build (for before/after comparisons).
 */
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import process from "node:process";
import { flags } from "./measure.mjs";
import { reportTable } from "./report-table.mjs";
import { startBenchServer } from "./server-process.mjs";
import { URL } from "node:url";
import console from "node:console";

const ITEMS = {
  "stream-throughput": async (server, options) => (await import("./stream-throughput.mjs")).streamThroughput(server, options),
  concurrency: async (server, options) => (await import("./concurrency.mjs")).concurrency(server, options),
  paced: async (server, options) => (await import("./paced.mjs")).paced(server, options),
  "cold-start": async (server, options) => (await import("./cold-start.mjs")).coldStart(server, options),
};

function machine() {
  let cpuModel = os.cpus()[0]?.model ?? "unknown CPU";
  try {
    cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpuModel;
  } catch {
    // Not Linux: os.cpus() says it.
  }
  return {
    cpuModel,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    loadAverage: os.loadavg(),
  };
}

const options = flags();
const unknown = options.only.filter((name) => !(name in ITEMS));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(", ")}; use ${Object.keys(ITEMS).join(", ")}`);
  process.exit(2);
}
const selected = options.only.length ? Object.keys(ITEMS).filter((name) => options.only.includes(name)) : Object.keys(ITEMS);
const log = (line) => console.error(line);
const started = Date.now();
const server = await startBenchServer();
const results = { date: new Date().toISOString().slice(0, 10), quick: options.quick, machine: machine(), items: {} };
let failed = false;
try {
  for (const name of selected) {
    log(`bench: ${name}…`);
    const itemStarted = Date.now();
    try {
      results.items[name] = await ITEMS[name](server, { ...options, log });
    } catch (error) {
      failed = true;
      results.items[name] = { error: error instanceof Error ? error.message : String(error) };
      log(`bench: ${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    log(`bench: ${name} took ${((Date.now() - itemStarted) / 1000).toFixed(1)} s`);
  }
  results.server = await server.status();
} finally {
  await server.stop();
}
results.seconds = (Date.now() - started) / 1000;
results.machine.loadAverageAfter = os.loadavg();
const lines = reportTable(results);
console.log(lines.join("\n"));
console.log(`\n(${results.seconds.toFixed(0)} s in all; results in bench/results.json)`);
writeFileSync(new URL("results.json", import.meta.url), `${JSON.stringify({ ...results, table: lines }, null, 2)}\n`);
process.exitCode = failed ? 1 : 0;
