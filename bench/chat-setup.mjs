/**
 * Item 2, chat setup: sequential chats of 16 tokens through the provider
 * (`OpenAssistant.createAsyncGenerator`): time to first token and whole-chat time
 * (create, prompter message, assistant message, events, delete), p50 and p99, beside
 * the same five requests sent by hand on a raw socket kept alive across chats (as the
 * provider keeps its connection for the next chat): from the first request to the
 * delete's answer, i.e. the sum of the five round trips.
 * Provider and raw chats alternate, so noise on the machine hits both alike.
 */
import { performance } from "node:perf_hooks";
import { RawConnections, rawChat } from "./raw-http.mjs";
import { MODEL, percentile, prompterContent, samplingParameters } from "./measure.mjs";
import { URL } from "node:url";
import process from "node:process";

const DIST = new URL(process.env.BENCH_DIST ?? "../dist/", import.meta.url);
const { OpenAssistant } = await import(new URL("index.js", DIST).href);

export const SETUP_TOKENS = 16;
const PROMPT = "Benchmark: chat setup";

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
  let errors = 0;
  const cpuBefore = (await server.status()).cpuMs;
  const started = performance.now();
  const rawConnections = new RawConnections(server.url);
  const rawFields = { model_config_name: MODEL, sampling_parameters: samplingParameters(SETUP_TOKENS), plugins: [] };
  for (let i = 0; i < warmUp + chats; i++) {
    try {
      const chat = await providerChat(server, PROMPT, SETUP_TOKENS);
      const { ms: rawMs } = await rawChat(rawConnections, server, prompterContent(PROMPT), rawFields);
      if (i >= warmUp) {
        first.push(chat.first);
        total.push(chat.total);
        raw.push(rawMs);
      }
    } catch (error) {
      errors++;
      if (errors === 1) options.log(`  chat-setup error: ${String(error)}`);
    }
    if ((i + 1) % 250 === 0) options.log(`  chat-setup: ${i + 1}/${warmUp + chats} chats`);
  }
  rawConnections.close();
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
    serverCpuShare: (status.cpuMs - cpuBefore) / wallMs,
    liveChats: status.liveChats,
  };
}
