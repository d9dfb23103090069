/**
 * The event decoder's CPU per token on the stream a model really writes: one token
 * event per network read, 20–50 reads a second (`paced`); and for scale the bulk case of
 * the stream-throughput item (`bulk`: 200,000 events in 64 KiB reads, back to back).
 *
 *   node bench/decode-paced.mjs [name=path/to/chat-events.js ...] [--tokens N] [--rate R]
 *
 * With no decoder named, the build's own (dist/client/chat-events.js) is measured. Each
 * named module must export `ChatEventDecoder`. Paced: each variant runs in a process of
 * its own (all at once, mostly asleep), reads a fresh Buffer per token, and reports the
 * process's CPU time (user + system) over the run; a process that does the same without
 * decoding is the baseline subtracted. Timing single `push()` calls instead would
 * measure the timer and the wake-up after each pause more than the decoder.
 */
import { Buffer } from "node:buffer";
import console from "node:console";
import process from "node:process";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath, pathToFileURL, URL } from "node:url";
import { runJsonChild } from "./measure.mjs";

const WORDS = [
  " The",
  " answer",
  " is",
  " that",
  " it",
  " depends",
  ",",
  " and",
  " caf\\u00e9",
  " \\ud83d\\ude42",
  ' \\"quoted\\"',
  "\\n",
  " on",
  " the",
  " model",
  ".",
];
const eventBytes = (i) => Buffer.from(`data: {"event_type": "token", "text": "${WORDS[i % WORDS.length]}"}\r\n\r\n`, "latin1");

if (process.argv[2] === "--child") {
  // One paced run: node decode-paced.mjs --child <module or "none"> <tokens> <rate>
  const [, , , path, tokens, rate] = process.argv;
  const decoder = path === "none" ? undefined : new (await import(pathToFileURL(path).href)).ChatEventDecoder();
  let events = 0;
  const before = process.cpuUsage();
  for (let i = 0; i < Number(tokens); i++) {
    const read = eventBytes(i);
    if (decoder) events += decoder.push(read).length;
    await sleep(1000 / Number(rate));
  }
  const used = process.cpuUsage(before);
  if (decoder && events !== Number(tokens)) throw new Error(`expected ${tokens} events, got ${events}`);
  process.stdout.write(JSON.stringify({ cpuMs: (used.user + used.system) / 1000 }));
  process.exit(0);
}

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  if (at === -1) return fallback;
  const [, value] = args.splice(at, 2);
  return Number(value);
};
const tokens = option("--tokens", 1000);
const rate = option("--rate", 50);
const named = (args.length ? args : [`oasst=${fileURLToPath(new URL("../dist/client/chat-events.js", import.meta.url))}`]).map((entry) =>
  entry.includes("=") ? entry.split("=") : [entry, entry],
);

async function child(path) {
  return (await runJsonChild(path, fileURLToPath(import.meta.url), ["--child", path, String(tokens), String(rate)])).cpuMs;
}

// Paced, three rounds; each variant's best round (least disturbed by other load on the machine).
const rounds = [];
for (let round = 0; round < 3; round++) rounds.push(await Promise.all([child("none"), ...named.map(([, path]) => child(path))]));
const best = (index) => Math.min(...rounds.map((round) => round[index]));

// Bulk, in this process.
const BULK = 200_000;
const whole = Buffer.concat(Array.from({ length: BULK }, (_, i) => eventBytes(i)));
const reads = [];
for (let at = 0; at < whole.length; at += 65_536) reads.push(whole.subarray(at, at + 65_536));
const bulk = [];
for (const [, path] of named) {
  const { ChatEventDecoder } = await import(pathToFileURL(path).href);
  let fastest = Infinity;
  for (let run = 0; run < 5; run++) {
    const decoder = new ChatEventDecoder();
    const start = performance.now();
    for (const read of reads) decoder.push(read);
    decoder.end();
    fastest = Math.min(fastest, performance.now() - start);
  }
  bulk.push(fastest);
}

console.log(`paced: ${tokens} tokens at ${rate}/s, one event per read, process CPU minus a process that does not decode (${best(0).toFixed(0)} ms), best of 3`);
console.log(`bulk: ${BULK.toLocaleString("en")} tokens in ${reads.length} reads of 64 KiB, best of 5`);
named.forEach(([name], v) => {
  const paced = ((best(v + 1) - best(0)) / tokens) * 1000;
  console.log(
    `${name.padEnd(14)} paced ${paced.toFixed(1)} µs/token   bulk ${((bulk[v] / BULK) * 1000).toFixed(3)} µs/token (${Math.round(BULK / (bulk[v] / 1000)).toLocaleString("en")} tokens/s)`,
  );
});
await sleep(0);
