#!/usr/bin/env node
/**
 * Soak test (`npm run soak`; minutes, not part of `npm test`): 20,000 sequential chats
 * through the provider (or, with --via gateway, through the OpenAI-compatible gateway),
 * against the local Open-Assistant-compatible server in a child process. Every 1,000
 * chats it prints RSS, heap, external memory, this process's active handles and the sockets open at the
 * server; at the end the least-squares slopes (per 1,000 chats, after a warm-up) and a
 * verdict. It stops by itself: at the last chat, or at --max-minutes.
 *
 *   node --expose-gc scripts/soak.mjs [--chats 20000] [--every 1000] [--via provider|gateway] [--max-minutes 15]
 *
 * Exit status: 0 when the verdict is "flat", 1 otherwise.
 */
import { spawn } from "node:child_process";
import console from "node:console";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import process from "node:process";
import { createInterface } from "node:readline";
import { URL } from "node:url";
import { parseArgs } from "node:util";

const DIST = new URL("../dist/", import.meta.url);
const { OpenAssistant } = await import(new URL("index.js", DIST).href);
const { replyTokens } = await import(new URL("emulator/reply-text.js", DIST).href);
const { prompterContent } = await import(new URL("provider/format-prompt.js", DIST).href);

const { values: flags } = parseArgs({
  options: {
    chats: { type: "string", default: "20000" },
    every: { type: "string", default: "1000" },
    via: { type: "string", default: "provider" },
    "max-minutes": { type: "string", default: "15" },
    "warm-up": { type: "string", default: "2000" },
  },
});
const CHATS = Number(flags.chats);
const EVERY = Number(flags.every);
const WARM_UP = Number(flags["warm-up"]);
const MAX_MS = Number(flags["max-minutes"]) * 60_000;
const VIA = flags.via;
if (!["provider", "gateway"].includes(VIA) || !(CHATS > 0) || !(EVERY > 0)) {
  console.error("usage: node --expose-gc scripts/soak.mjs [--chats N] [--every N] [--via provider|gateway] [--max-minutes M] [--warm-up N]");
  process.exit(2);
}
const MODEL = "OA_SFT_Llama_30B_6";
const TOKENS = 24;

/** Flat means: below these slopes per 1,000 chats, measured after the warm-up. */
const LIMITS = { heapBytes: 64 * 1024, rssBytes: 1024 * 1024, handles: 0.05, serverSockets: 0.05 };

// ---- The server, in a child process -------------------------------------------------

const EMULATOR_SCRIPT = `
import { createInterface } from "node:readline";
const { startEmulator } = await import(process.env.OASST_SOAK_EMULATOR);
const server = await startEmulator({ quiet: true, replyTokens: ${TOKENS}, pingIntervalMs: 60000, rateLimit: false, recordRequests: 0 });
process.stdout.write(JSON.stringify({ url: server.url, cookie: server.cookie, cookies: server.cookies }) + "\\n");
for await (const line of createInterface({ input: process.stdin })) {
  if (line === "chats") {
    process.stdout.write(JSON.stringify({ chats: server.liveChats(), rss: process.memoryUsage().rss }) + "\\n");
  }
  if (line === "stop") { await server.stop(); process.exit(0); }
}
`;

function startServer() {
  const child = spawn(process.execPath, ["--input-type=module", "-e", EMULATOR_SCRIPT], {
    env: { PATH: process.env.PATH ?? "", OASST_SOAK_EMULATOR: new URL("emulator/emulator.js", DIST).href },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const waiting = [];
  createInterface({ input: child.stdout }).on("line", (line) => waiting.shift()?.(JSON.parse(line)));
  const next = () => new Promise((resolve) => waiting.push(resolve));
  return next().then((info) => ({
    ...info,
    port: Number(new URL(info.url).port),
    async status() {
      const answer = next();
      child.stdin.write("chats\n");
      return answer;
    },
    stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.stdin.write("stop\n");
      return exited;
    },
  }));
}

/** TCP connections in state ESTABLISHED whose local port is `port` (the server's end), from /proc/net/tcp{,6}; undefined off Linux. */
function socketsAt(port) {
  let count = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let table;
    try {
      table = readFileSync(file, "utf8");
    } catch {
      if (file.endsWith("6")) continue;
      return undefined;
    }
    for (const line of table.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 3 && cols[3] === "01" && Number.parseInt(cols[1].split(":")[1], 16) === port) count++;
    }
  }
  return count;
}

// ---- One chat ---------------------------------------------------------------------------

const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const messagesFor = (i) => [{ role: "user", content: `Soak chat ${i % 100}: keep going.` }];
const expected = Array.from({ length: 100 }, (_, i) => sha256(replyTokens(prompterContent(messagesFor(i)), TOKENS).join("")));

async function chatViaProvider(server, i) {
  return OpenAssistant.createAsync(MODEL, messagesFor(i), { baseUrl: server.url, cookies: server.cookies, env: {} });
}

let gateway;
async function chatViaGateway(server, i) {
  if (!gateway) {
    const { createGateway } = await import(new URL("gateway/index.js", DIST).href);
    gateway = createGateway({ baseUrl: server.url, cookies: server.cookie, env: {} });
  }
  const response = await gateway.request("/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, messages: messagesFor(i) }),
  });
  const body = await response.json();
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${JSON.stringify(body).slice(0, 200)}`);
  return body.choices[0].message.content;
}

// ---- Measurements -----------------------------------------------------------------------

function sample(done, server, serverStatus) {
  globalThis.gc?.();
  const memory = process.memoryUsage();
  const resources = process.getActiveResourcesInfo();
  return {
    chats: done,
    rss: memory.rss,
    heap: memory.heapUsed,
    /** Buffers and other memory outside the JS heap that JS objects hold (after the GC too). */
    external: memory.external,
    handles: resources.length,
    sockets: resources.filter((kind) => kind === "TCPSocketWrap" || kind === "TLSWrap").length,
    serverSockets: socketsAt(server.port),
    serverRss: serverStatus.rss,
    liveChats: serverStatus.chats,
  };
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;

// ---- Run --------------------------------------------------------------------------------

const server = await startServer();
const chat = VIA === "gateway" ? chatViaGateway : chatViaProvider;
const started = performance.now();
let errors = 0;
let mismatches = 0;
let firstError;
const samples = [sample(0, server, await server.status())];
console.log(
  `soak: ${CHATS} sequential chats via the ${VIA}, the server in a child process at ${server.url}; gc ${globalThis.gc ? "forced before each sample" : "not exposed (run with --expose-gc)"}`,
);
console.log("   chats   elapsed        rss   heap(gc)   external  handles  sockets  server-sockets  live-chats  errors");
let done = 0;
let stoppedEarly = false;
for (let i = 0; i < CHATS; i++) {
  try {
    const text = await chat(server, i);
    if (sha256(text) !== expected[i % 100]) mismatches++;
  } catch (error) {
    errors++;
    firstError ??= String(error);
  }
  done = i + 1;
  if (done % EVERY === 0 || done === CHATS) {
    const point = sample(done, server, await server.status());
    samples.push(point);
    const elapsed = ((performance.now() - started) / 1000).toFixed(0);
    console.log(
      `${String(done).padStart(8)} ${String(elapsed).padStart(8)} s ${mib(point.rss).padStart(10)} ${mib(point.heap).padStart(10)} ${mib(point.external).padStart(10)} ${String(point.handles).padStart(8)} ${String(point.sockets).padStart(8)} ${String(point.serverSockets ?? "n/a").padStart(15)} ${String(point.liveChats).padStart(11)} ${String(errors).padStart(7)}`,
    );
  }
  if (performance.now() - started > MAX_MS) {
    stoppedEarly = true;
    console.log(`soak: stopped after ${done} chats at --max-minutes ${flags["max-minutes"]}`);
    break;
  }
}
const seconds = (performance.now() - started) / 1000;
const final = await server.status();
await server.stop();

const steady = samples.filter((s) => s.chats >= WARM_UP);
const per1000 = (key) => slope(steady.map((s) => [s.chats / 1000, s[key]]));
const slopes = {
  rss: per1000("rss"),
  heap: per1000("heap"),
  external: per1000("external"),
  handles: per1000("handles"),
  serverSockets: per1000("serverSockets"),
  serverRss: per1000("serverRss"),
};
const handleRange = [Math.min(...steady.map((s) => s.handles)), Math.max(...steady.map((s) => s.handles))];
const maxServerSockets = Math.max(...samples.map((s) => s.serverSockets ?? 0));
const problems = [];
if (errors) problems.push(`${errors} errors (first: ${firstError})`);
if (mismatches) problems.push(`${mismatches} replies differ from the server's text`);
if (final.chats !== 0) problems.push(`${final.chats} chats left on the server`);
if (slopes.heap > LIMITS.heapBytes) problems.push(`heap grows ${kib(slopes.heap)} per 1,000 chats`);
if (slopes.external > LIMITS.heapBytes) problems.push(`external memory grows ${kib(slopes.external)} per 1,000 chats`);
if (slopes.rss > LIMITS.rssBytes) problems.push(`RSS grows ${kib(slopes.rss)} per 1,000 chats`);
if (Math.abs(slopes.handles) > LIMITS.handles) problems.push(`active handles drift ${slopes.handles.toFixed(3)} per 1,000 chats`);
if (maxServerSockets > 1) problems.push(`up to ${maxServerSockets} sockets open at the server between chats: the pool grows`);
if (stoppedEarly) problems.push(`stopped early at ${done} chats`);

console.log("");
console.log(
  `soak: ${done} chats in ${seconds.toFixed(1)} s (${(done / seconds).toFixed(0)}/s), ${errors} errors, ${mismatches} checksum mismatches, ${final.chats} chats left`,
);
console.log(`slopes per 1,000 chats, least squares over ${steady.length} samples from chat ${WARM_UP} on:`);
console.log(
  `  RSS             ${kib(slopes.rss).padStart(12)}   (limit ${kib(LIMITS.rssBytes)}; from ${mib(steady[0]?.rss ?? 0)} to ${mib(steady.at(-1)?.rss ?? 0)})`,
);
const secondHalf = samples.filter((s) => s.chats >= done / 2);
console.log(
  `  RSS, 2nd half   ${kib(slope(secondHalf.map((s) => [s.chats / 1000, s.rss]))).padStart(12)}   (from chat ${secondHalf[0]?.chats ?? 0} on: the allocator settled)`,
);
console.log(
  `  heap after gc   ${kib(slopes.heap).padStart(12)}   (limit ${kib(LIMITS.heapBytes)}; from ${mib(steady[0]?.heap ?? 0)} to ${mib(steady.at(-1)?.heap ?? 0)})`,
);
console.log(`  external        ${kib(slopes.external).padStart(12)}   (limit ${kib(LIMITS.heapBytes)}; buffers held by JS objects, after gc)`);
console.log(`  active handles  ${slopes.handles.toFixed(3).padStart(12)}   (range ${handleRange[0]}–${handleRange[1]})`);
console.log(
  `  server sockets  ${Number.isNaN(slopes.serverSockets) ? "n/a" : slopes.serverSockets.toFixed(3).padStart(12)}   (at most ${maxServerSockets} open at a sample; the provider keeps one connection alive between chats)`,
);
console.log(`  server RSS      ${kib(slopes.serverRss).padStart(12)}   (the server process, for comparison; its request log is emptied at each sample)`);
console.log(
  `verdict: ${problems.length ? `NOT FLAT: ${problems.join("; ")}` : "flat: no growth in memory, handles or sockets; every reply exact; no chat left"}`,
);
process.exitCode = problems.length ? 1 : 0;
