#!/usr/bin/env node
/**
 * The benchmark server, in a process of its own: the emulator with replies of up to
 * 200,000 tokens (a request's `max_new_tokens` picks the length), pre-encoded (it caches
 * the encoded token events per prompt and length), CRLF framing, pydantic-style JSON with
 * ASCII escapes.
 *
 *   node bench/bench-server.mjs [--token-delay-ms MS] [--accounts N]
 *
 * `--token-delay-ms` (default 0: each reply's events in one write) paces the tokens as a
 * model writes them; `--accounts` (default 256) is the number of users.
 *
 * It measures clients, not the emulator's queue: no rate limit, a worker with as many
 * slots as anyone asks for (every reply starts at once), and a user's new reply does not
 * cancel its queued ones (the seed sends all its chats on one account).
 *
 * Prints one JSON line on stdout: `{ "url", "cookie", "cookies", "sessions", "pid" }` (`sessions`:
 * every account's cookies, the first one's first), then answers
 * commands on stdin, one a line, each with one JSON line on stdout:
 *   status  → { liveChats, rss, cpuMs }
 *   stop    → stops the server and exits
 * It also stops when stdin closes (its parent went away).
 */
import { createInterface } from "node:readline";
import process from "node:process";
import { URL } from "node:url";
import { parseArgs } from "node:util";

const { startEmulator } = await import(new URL("../dist/emulator/emulator.js", import.meta.url).href);

export const BENCH_REPLY_TOKENS = 200_000;

const { values } = parseArgs({ options: { "token-delay-ms": { type: "string", default: "0" }, accounts: { type: "string", default: "256" } } });
const accounts = Number(values.accounts);

const server = await startEmulator({
  replyTokens: BENCH_REPLY_TOKENS,
  tokenDelayMs: Number(values["token-delay-ms"]),
  quiet: true,
  // No pings inside the measurements: a stream here lasts far less than a minute.
  pingIntervalMs: 60_000,
  // No request log: its memory stays that of a server.
  recordRequests: 0,
  // Benchmarks run thousands of chats: far over the real 20 replies per account per window.
  rateLimit: false,
  // Every reply starts at once: the benchmarks measure the clients, not a queue.
  workerSlots: 100_000,
  cancelPending: false,
  // Accounts for concurrent chats (the provider makes one account's replies take turns): `sessions` in the first line.
  sessionTokens: Array.from({ length: accounts - 1 }, (_, i) => `bench-account-${i + 2}`),
});
process.stdout.write(
  `${JSON.stringify({ url: server.url, cookie: server.cookie, cookies: server.cookies, sessions: server.sessions().map((session) => session.cookies), pid: process.pid })}\n`,
);

async function stop() {
  await server.stop();
  process.exit(0);
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line === "status") {
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ liveChats: server.liveChats(), rss: process.memoryUsage().rss, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
  } else if (line === "stop") {
    void stop();
  }
});
lines.on("close", () => void stop());
