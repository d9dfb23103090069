/**
 * Concurrency: 1,000 chats of 1,024 tokens with 100 in flight, in one process (a child,
 * so that its peak RSS is the provider's alone), each lane on its own account (the
 * provider makes one account's replies take turns, as the real server keeps one queued
 * reply per user): total time, peak RSS, errors, and the chats the server still holds
 * afterwards; the seed's Python with the same settings beside it (its `--repeat 10
 * --concurrency 100`: 10 waves of 100 chats, all on one account, as the seed can only do),
 * and the node:http floor (the same chats' five requests through node:http, the events
 * read and dropped, in a child of its own): what Node's HTTP stack takes of oasst's time.
 *
 * The child: `node bench/concurrency.mjs --worker '{"client", "url", "cookies", "sessions", "chats", "inflight", "tokens", "warmUp"}'`
 * (`client`: "oasst", the default, or "floor")
 * prints one JSON line: { seconds, cpuMs, errors, firstError, mismatches, maxRssKb } (cpuMs: the chats' user + system CPU).
 */
import http from "node:http";
import process from "node:process";
import { performance } from "node:perf_hooks";
import { fileURLToPath, URL } from "node:url";
import { expectedReply, MODEL, median, runJsonChild } from "./measure.mjs";
import { cookieHeader, floorChat } from "./node-http-floor.mjs";
import { runSeed, seedUnavailable } from "./seed-process.mjs";

export const CONCURRENCY_TOKENS = 1024;
export const INFLIGHT = 100;
const PROMPT = "Benchmark: concurrency";
const DIST = new URL(process.env.BENCH_DIST ?? "../dist/", import.meta.url);

/** `(lane) => chat`: a chat through the provider on the lane's account; resolves true when its text is the expected one. */
async function providerChat(config, accounts) {
  const { OpenAssistant } = await import(new URL("index.js", DIST).href);
  const messages = [{ role: "user", content: PROMPT }];
  const expected = await expectedReply(DIST, PROMPT, config.tokens);
  return async (lane) => {
    const options = { baseUrl: config.url, cookies: accounts[lane], max_new_tokens: config.tokens, env: {}, onWarning: () => {} };
    return (await OpenAssistant.createAsync(MODEL, messages, options)) === expected;
  };
}

/** `(lane) => chat`: the same chat's five requests through node:http, the events dropped; resolves true when the stream ended whole. */
function floorChatOf(config, accounts) {
  const agent = new http.Agent({ keepAlive: true });
  const cookies = accounts.map(cookieHeader);
  return async (lane) => (await floorChat(agent, config.url, cookies[lane], PROMPT, config.tokens)).ended;
}

/** In the child: the chats, `inflight` at a time (a new chat starts as soon as one ends), by `config.client`. */
async function worker(config) {
  // Each lane its own account where the server has several (a client queues one account's replies).
  const sessions = config.sessions?.length ? config.sessions : [config.cookies];
  if (sessions.length < config.inflight) throw new Error(`concurrency: ${config.inflight} lanes need as many accounts, the server has ${sessions.length}`);
  const accounts = sessions.slice(0, config.inflight);
  const chatOnce = config.client === "floor" ? floorChatOf(config, accounts) : await providerChat(config, accounts);
  let errors = 0;
  let mismatches = 0;
  let firstError;
  const chat = async (lane = 0) => {
    try {
      if (!(await chatOnce(lane))) mismatches++;
    } catch (error) {
      errors++;
      firstError ??= String(error);
    }
  };
  for (let i = 0; i < config.warmUp; i++) await chat();
  errors = 0;
  mismatches = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  let next = 0;
  const lane = async (_, index) => {
    while (next < config.chats) {
      next++;
      await chat(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.inflight, config.chats) }, lane));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { seconds, cpuMs: (cpu.user + cpu.system) / 1000, errors, firstError, mismatches, maxRssKb: process.resourceUsage().maxRSS };
}

function runWorker(server, client, chats, inflight, tokens, warmUp) {
  const config = { client, url: server.url, cookies: server.cookies, sessions: server.sessions, chats, inflight, tokens, warmUp };
  return runJsonChild("concurrency worker", fileURLToPath(import.meta.url), ["--worker", JSON.stringify(config)]);
}

/**
 * @param {import("./server-process.mjs").BenchServer} server
 * @param {{ quick: boolean, runs?: number, log: (line: string) => void }} options
 */
export async function concurrency(server, options) {
  const chats = options.quick ? 300 : 1000;
  const runs = options.runs ?? (options.quick ? 1 : 3);
  const inflight = Math.min(INFLIGHT, chats);
  const seedMissing = seedUnavailable();
  if (seedMissing) options.log(`  seed skipped: ${seedMissing}`);
  const clients = ["oasst", "node:http floor", "seed"].filter((who) => who !== "seed" || !seedMissing);
  /** One run of a client, with the server's CPU and the chats it still holds after it. */
  const runOnce = async (who) => {
    const cpuBefore = (await server.status()).cpuMs;
    const started = performance.now();
    let result;
    if (who !== "seed") {
      result = await runWorker(server, who === "oasst" ? "oasst" : "floor", chats, inflight, CONCURRENCY_TOKENS, 10);
    } else {
      const seed = await runSeed(server, { prompt: PROMPT, repeat: Math.ceil(chats / inflight), concurrency: inflight });
      const ok = seed.code === 0 && seed.tokens === Math.ceil(chats / inflight) * inflight * CONCURRENCY_TOKENS;
      result = { seconds: seed.seconds, errors: ok ? 0 : 1, firstError: ok ? undefined : seed.stderr.slice(-300), mismatches: 0, maxRssKb: seed.maxRssKb };
    }
    const wallMs = performance.now() - started;
    const status = await server.status();
    options.log(
      `  ${who} ${chats} chats, ${inflight} in flight: ${result.seconds.toFixed(2)} s, RSS ${(result.maxRssKb / 1024).toFixed(0)} MB, errors ${result.errors}, left ${status.liveChats}`,
    );
    if (result.firstError) options.log(`    first error: ${result.firstError}`);
    return { ...result, liveChats: status.liveChats, serverCpuShare: (status.cpuMs - cpuBefore) / wallMs };
  };
  // Interleaved (each run of every client, then the next run): the host's load drifts over a scenario, and
  // the ratios compare runs made close together.
  const samples = new Map(clients.map((who) => [who, []]));
  for (let run = 0; run < runs; run++) for (const who of clients) samples.get(who).push(await runOnce(who));
  const scenarios = clients.map((who) => {
    const runsOf = samples.get(who);
    return {
      who,
      chats: who === "seed" ? Math.ceil(chats / inflight) * inflight : chats,
      inflight,
      seconds: median(runsOf.map((s) => s.seconds)),
      secondsMin: Math.min(...runsOf.map((s) => s.seconds)),
      secondsMax: Math.max(...runsOf.map((s) => s.seconds)),
      peakRssMb: Math.max(...runsOf.map((s) => (s.maxRssKb ?? NaN) / 1024)),
      errors: runsOf.reduce((sum, s) => sum + s.errors + s.mismatches, 0),
      liveChats: Math.max(...runsOf.map((s) => s.liveChats)),
      serverCpuShare: median(runsOf.map((s) => s.serverCpuShare)),
      runs,
    };
  });
  return { tokens: CONCURRENCY_TOKENS, seedSkipped: seedMissing, scenarios };
}

if (process.argv[2] === "--worker") {
  const result = await worker(JSON.parse(process.argv[3] ?? "{}"));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
