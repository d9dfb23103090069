#!/usr/bin/env node
/**
 * The benchmark server, in a process of its own: the emulator with replies of up to
 * 200,000 tokens (a request's `max_new_tokens` picks the length: 16, 1,024 or 200,000),
 * pre-encoded (it caches the encoded token events per prompt and length), CRLF framing,
 * pydantic-style JSON with ASCII escapes, and a short final `message` event.
 *
 *   node bench/bench-server.mjs
 *
 * Prints one JSON line on stdout: `{ "url", "cookie", "cookies", "pid" }`, then answers
 * commands on stdin, one a line, each with one JSON line on stdout:
 *   status  → { liveChats, requests, rss, cpuMs }   (and forgets the recorded requests)
 *   stop    → stops the server and exits
 * It also stops when stdin closes (its parent went away).
 */
import { createInterface } from "node:readline";
import process from "node:process";
import { URL } from "node:url";

const { startEmulator } = await import(new URL("../dist/emulator/emulator.js", import.meta.url).href);

export const BENCH_REPLY_TOKENS = 200_000;

const server = await startEmulator({
  replyTokens: BENCH_REPLY_TOKENS,
  shortFinalMessage: true,
  quiet: true,
  // No pings inside the measurements: a stream here lasts far less than a minute.
  pingIntervalMs: 60_000,
});
process.stdout.write(`${JSON.stringify({ url: server.url, cookie: server.cookie, cookies: server.cookies, pid: process.pid })}\n`);

async function stop() {
  await server.stop();
  process.exit(0);
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line === "status") {
    const recorded = server.requests.length;
    // The emulator records every request: drop them, so its memory stays that of a server.
    server.requests.length = 0;
    const cpu = process.cpuUsage();
    process.stdout.write(
      `${JSON.stringify({ liveChats: server.liveChats(), requests: recorded, rss: process.memoryUsage().rss, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`,
    );
  } else if (line === "stop") {
    void stop();
  }
});
lines.on("close", () => void stop());
