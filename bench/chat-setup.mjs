/**
 * Item 2, chat setup: sequential chats of 16 tokens through the provider
 * (`OpenAssistant.createAsyncGenerator`): time to first token and whole-chat time
 * (create, prompter message, assistant message, events, delete), p50 and p99, beside
 * the same five requests sent by hand on a raw socket kept alive across chats (as the
 * provider keeps its connection for the next chat): from the first request to the
 * delete's answer, i.e. the sum of the five round trips.
 * The provider and the raw chats alternate chat by chat, so noise on the machine hits
 * them alike. For scale, a second pass alternates undici's Client (the same five
 * requests) with raw chats of its own: with the three interleaved in one pass, undici's
 * work between two provider chats raised the provider's ratio by 0.02–0.04.
 */
import { performance } from "node:perf_hooks";
import { RawConnections, rawChat } from "./raw-http.mjs";
import { MODEL, percentile, startReply } from "./measure.mjs";
import { URL } from "node:url";
import process from "node:process";
import { Client } from "undici";

const DIST = new URL(process.env.BENCH_DIST ?? "../dist/", import.meta.url);
const { OpenAssistant } = await import(new URL("index.js", DIST).href);

export const SETUP_TOKENS = 16;
const PROMPT = "Benchmark: chat setup";

/**
 * The same five requests through undici's Client (one kept-alive connection, its
 * lowest-level API, the event stream read and dropped): what the fastest general
 * HTTP client of Node costs beside the raw socket, for scale.
 */
async function undiciChat(client, server, prompt, maxNewTokens) {
  const headers = { cookie: server.cookie, "content-type": "application/json" };
  const post = async (path, body) => {
    const answer = await client.request({ method: "POST", path, headers, body: JSON.stringify(body) });
    if (answer.statusCode !== 200) throw new Error(`undici chat: POST ${path} answered ${answer.statusCode}`);
    return answer.body.json();
  };
  const started = performance.now();
  const { chat, assistant } = await startReply(post, prompt, maxNewTokens);
  const events = await client.request({ method: "POST", path: `/api/chat/events?chat_id=${chat.id}&message_id=${assistant.id}`, headers: { cookie: server.cookie } });
  for await (const bytes of events.body) void bytes;
  const removed = await client.request({ method: "DELETE", path: `/api/chat?chat_id=${chat.id}`, headers: { cookie: server.cookie } });
  await removed.body.dump();
  if (events.statusCode !== 200 || removed.statusCode !== 200) throw new Error(`undici chat: events ${events.statusCode}, delete ${removed.statusCode}`);
  return performance.now() - started;
}

/** One provider chat: ms to the first token and to the end. */
async function providerChat(server, prompt, maxNewTokens) {
  const started = performance.now();
  let first;
  let text = "";
  const options = { baseUrl: server.url, cookies: server.cookies, max_new_tokens: maxNewTokens, env: {} };
  for await (const piece of OpenAssistant.createAsyncGenerator(MODEL, [{ role: "user", content: prompt }], options)) {
    first ??= performance.now() - started;
    text += piece;
  }
  return { first: first ?? NaN, total: performance.now() - started, text };
}

/**
 * @param {import("./server-process.mjs").BenchServer} server
 * @param {{ quick: boolean, log: (line: string) => void }} options
 */
export async function chatSetup(server, options) {
  const chats = options.quick ? 200 : 1000;
  const warmUp = options.quick ? 20 : 50;
  const first = [];
  const total = [];
  const raw = [];
  const undici = [];
  const undiciRaw = [];
  let errors = 0;
  const undiciClient = new Client(server.url, { pipelining: 1 });
  const rawConnections = new RawConnections(server.url);
  /** `warmUp + chats` rounds of `round`, which records its samples when told to. */
  const alternate = async (pass, round) => {
    for (let i = 0; i < warmUp + chats; i++) {
      try {
        await round(i >= warmUp);
      } catch (error) {
        errors++;
        if (errors === 1) options.log(`  chat-setup error: ${String(error)}`);
      }
      if ((i + 1) % 250 === 0) options.log(`  chat-setup, ${pass}: ${i + 1}/${warmUp + chats} chats`);
    }
  };
  const cpuBefore = (await server.status()).cpuMs;
  const started = performance.now();
  try {
    await alternate("provider and raw", async (record) => {
      const chat = await providerChat(server, PROMPT, SETUP_TOKENS);
      const { ms: rawMs } = await rawChat(rawConnections, server, PROMPT, SETUP_TOKENS);
      if (!record) return;
      first.push(chat.first);
      total.push(chat.total);
      raw.push(rawMs);
    });
    await alternate("undici and raw", async (record) => {
      const undiciMs = await undiciChat(undiciClient, server, PROMPT, SETUP_TOKENS);
      const { ms: rawMs } = await rawChat(rawConnections, server, PROMPT, SETUP_TOKENS);
      if (!record) return;
      undici.push(undiciMs);
      undiciRaw.push(rawMs);
    });
  } finally {
    rawConnections.close();
    await undiciClient.close();
  }
  const wallMs = performance.now() - started;
  const status = await server.status();
  const p = (values) => ({ p50: percentile(values, 50), p99: percentile(values, 99) });
  return {
    chats,
    tokens: SETUP_TOKENS,
    errors,
    firstTokenMs: p(first),
    wholeChatMs: p(total),
    rawRoundTripsMs: p(raw),
    undiciMs: p(undici),
    undiciRawMs: p(undiciRaw),
    serverCpuShare: (status.cpuMs - cpuBefore) / wallMs,
    liveChats: status.liveChats,
  };
}
