/**
 * Stream throughput: one reply of 200,000 tokens, the whole chat (create,
 * prompter message, assistant message, events, delete) timed for
 *   - oasst         the provider, `OpenAssistant.createAsyncGenerator`;
 *   - oasst-events  the provider's `OpenAssistant.streamEvents` (one event per token);
 *   - quick-port    global fetch + TextDecoder + split("\n") + JSON.parse per data line;
 *   - seed          the seed's Python (aiohttp; its own timer, as it prints it);
 *   - floor         the same five requests on a raw socket (kept alive across chats,
 *                   as the provider's is), the event stream's bytes read and dropped:
 *                   what the server and the loopback allow.
 * Each consumer does what the seed does with a token: counts it and its characters.
 * The warm-up run of each client checks the whole text; the timed runs check the counts.
 * Tokens per second = 200,000 / seconds, median of the runs.
 *
 * The Node clients run in a child process that does nothing else, as a user's would: the
 * process that spawns the seed's Python for each of its runs is not one of them (after a
 * fork, the forking process's next writes to its heap fault page by page, which slows the
 * next timed run of a client in that process).
 *
 * The child: `node bench/stream-throughput.mjs --client '{"url", "cookie", "cookies"}'` reads
 * a variant's name a line on stdin and answers each with one JSON line: { seconds, eventBytes }.
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { RawConnections, rawChat } from "./raw-http.mjs";
import { MODEL, USER_AGENT, interleaved, prompterContent, startReply, summary } from "./measure.mjs";
import { runSeed, seedUnavailable } from "./seed-process.mjs";
import { fileURLToPath, URL } from "node:url";
import { TextDecoder } from "node:util";

const DIST = new URL(process.env.BENCH_DIST ?? "../dist/", import.meta.url);
const { fetch } = globalThis;

export const STREAM_TOKENS = 200_000;
const PROMPT = "Benchmark: stream 200,000 tokens";

/**
 * The quick port's chat: what a first TypeScript port of the seed would write.
 * Counts tokens and characters; keeps the text only when asked (the check run).
 */
async function quickPortChat(base, cookie, prompt, maxNewTokens, keep) {
  const headers = { cookie, "user-agent": USER_AGENT, "content-type": "application/json" };
  const post = async (path, body) => (await fetch(`${base}${path}`, { method: "POST", headers, body: JSON.stringify(body) })).json();
  const { chat, assistant } = await startReply(post, prompt, maxNewTokens);
  const response = await fetch(`${base}/api/chat/events?chat_id=${chat.id}&message_id=${assistant.id}`, { method: "POST", headers });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let text = "";
  let tokens = 0;
  let chars = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.startsWith("data: ")) continue;
      const event = JSON.parse(line.slice(6));
      if (event.event_type === "token") {
        tokens++;
        chars += event.text.length;
        if (keep) text += event.text;
      }
    }
  }
  await (await fetch(`${base}/api/chat?chat_id=${chat.id}`, { method: "DELETE", headers })).arrayBuffer();
  return { text, tokens, chars };
}

/**
 * In the client process: the Node clients by name, each a function that runs one chat and
 * returns its seconds. The first run of each (the warm-up) keeps and checks the whole text.
 * @param {{ url: string, cookie: string, cookies: Record<string, string> }} server
 */
async function nodeClients(server) {
  const { OpenAssistant } = await import(new URL("index.js", DIST).href);
  const { replyTokens } = await import(new URL("emulator/reply-text.js", DIST).href);
  // The reply depends on the prompter message: the provider sends the prompt as written
  // (promptFormat "plain"), the quick port wraps it in the seed's <s>[INST] tags.
  const expectedOf = { plain: replyTokens(PROMPT, STREAM_TOKENS).join(""), seed: replyTokens(prompterContent(PROMPT), STREAM_TOKENS).join("") };
  const providerOptions = { baseUrl: server.url, cookies: server.cookies, max_new_tokens: STREAM_TOKENS, env: {} };
  const messages = [{ role: "user", content: PROMPT }];
  const mismatch = (name, detail) => new Error(`stream-throughput: ${name} got a wrong reply (${detail})`);
  const checked = new Set();
  const keep = (name) => {
    if (checked.has(name)) return false;
    checked.add(name);
    return true;
  };
  const verify = (name, { text, tokens, chars }, kept) => {
    const want = name.startsWith("oasst") ? expectedOf.plain : expectedOf.seed;
    if (tokens !== STREAM_TOKENS || chars !== want.length) throw mismatch(name, `${tokens} tokens, ${chars} chars`);
    if (kept && text !== want) throw mismatch(name, "the text differs");
  };
  const rawConnections = new RawConnections(server.url);
  let eventBytes = 0;
  /** @type {Record<string, () => Promise<number>>} */
  const clients = {
    oasst: async () => {
      const kept = keep("oasst");
      const started = performance.now();
      let text = "";
      let pieces = 0;
      let chars = 0;
      for await (const piece of OpenAssistant.createAsyncGenerator(MODEL, messages, providerOptions)) {
        pieces++;
        chars += piece.length;
        if (kept) text += piece;
      }
      const seconds = (performance.now() - started) / 1000;
      // Tokens that arrive in one read come joined: the count is checked on streamEvents.
      verify("oasst", { text, tokens: pieces > 0 ? STREAM_TOKENS : 0, chars }, kept);
      return seconds;
    },
    "oasst-events": async () => {
      const kept = keep("oasst-events");
      const started = performance.now();
      let text = "";
      let tokens = 0;
      let chars = 0;
      for await (const event of OpenAssistant.streamEvents(MODEL, messages, providerOptions)) {
        if (event.event_type !== "token") continue;
        tokens++;
        chars += event.text.length;
        if (kept) text += event.text;
      }
      const seconds = (performance.now() - started) / 1000;
      verify("oasst-events", { text, tokens, chars }, kept);
      return seconds;
    },
    "quick-port": async () => {
      const kept = keep("quick-port");
      const started = performance.now();
      const counts = await quickPortChat(server.url, server.cookie, PROMPT, STREAM_TOKENS, kept);
      const seconds = (performance.now() - started) / 1000;
      verify("quick-port", counts, kept);
      return seconds;
    },
    floor: async () => {
      const chat = await rawChat(rawConnections, server, PROMPT, STREAM_TOKENS);
      eventBytes = chat.eventBytes;
      return chat.ms / 1000;
    },
  };
  return { clients, eventBytes: () => eventBytes, close: () => rawConnections.close() };
}

/**
 * The client process, from the parent's side: `run(name)` runs one chat of that client
 * there and resolves with its seconds and the event stream's bytes.
 * @param {import("./server-process.mjs").BenchServer} server
 */
function startClientProcess(server) {
  const config = { url: server.url, cookie: server.cookie, cookies: server.cookies };
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--client", JSON.stringify(config)], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env },
  });
  /** @type {Array<{ resolve: (answer: { seconds: number, eventBytes: number }) => void, reject: (error: Error) => void }>} */
  const waiting = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    const answer = JSON.parse(line);
    const next = waiting.shift();
    if (answer.error) next?.reject(new Error(answer.error));
    else next?.resolve(answer);
  });
  child.on("exit", (code) => {
    for (const next of waiting.splice(0)) next.reject(new Error(`stream-throughput: the client process exited with ${code}`));
  });
  return {
    run: (name) =>
      new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(`${name}\n`);
      }),
    stop: () => {
      const exited = new Promise((resolve) => child.once("close", resolve));
      child.stdin.end();
      return exited;
    },
  };
}

/**
 * @param {import("./server-process.mjs").BenchServer} server
 * @param {{ quick: boolean, runs?: number, log: (line: string) => void }} options
 */
export async function streamThroughput(server, options) {
  const runs = options.runs ?? (options.quick ? 3 : 11);
  const expected = (await import(new URL("emulator/reply-text.js", DIST).href)).replyTokens(prompterContent(PROMPT), STREAM_TOKENS).join("");
  /** Server CPU ms and wall ms per variant, measured around each timed run. */
  const serverLoad = {};
  let floorBytes = 0;
  const clientProcess = startClientProcess(server);
  /** @type {Record<string, () => Promise<number>>} */
  const variants = {};
  for (const name of ["oasst", "oasst-events", "quick-port", "floor"]) {
    variants[name] = async () => {
      const { seconds, eventBytes } = await clientProcess.run(name);
      if (name === "floor") floorBytes = eventBytes;
      return seconds;
    };
  }
  // Python counts code points, JavaScript UTF-16 units.
  const expectedCodePoints = [...expected].length;
  const seedMissing = seedUnavailable();
  if (seedMissing) {
    options.log(`  seed skipped: ${seedMissing}`);
  } else {
    variants.seed = async () => {
      const result = await runSeed(server, { prompt: PROMPT, maxNewTokens: STREAM_TOKENS });
      if (result.code !== 0 || result.tokens !== STREAM_TOKENS || result.chars !== expectedCodePoints) {
        throw new Error(`stream-throughput: the seed failed (exit ${result.code}, ${result.tokens} tokens): ${result.stderr.slice(-500)}`);
      }
      return result.seconds;
    };
  }
  // Server CPU around each run (outside the timed part): shows whether the server kept up.
  /** @type {Record<string, () => Promise<number>>} */
  const watched = {};
  for (const [name, run] of Object.entries(variants)) {
    serverLoad[name] = { cpuMs: 0, wallMs: 0 };
    watched[name] = async () => {
      const before = (await server.status()).cpuMs;
      const seconds = await run();
      const after = (await server.status()).cpuMs;
      serverLoad[name].cpuMs += after - before;
      serverLoad[name].wallMs += seconds * 1000;
      return seconds;
    };
  }
  let samples;
  try {
    samples = await interleaved(watched, runs, options.log);
  } finally {
    await clientProcess.stop();
  }
  const results = {};
  for (const [name, seconds] of Object.entries(samples)) {
    const stats = summary(seconds);
    results[name] = {
      seconds: stats,
      tokensPerSecond: STREAM_TOKENS / stats.median,
      // Includes the warm-up run's server time over the warm-up's wall time too: an upper bound.
      serverCpuShare: serverLoad[name].wallMs > 0 ? serverLoad[name].cpuMs / serverLoad[name].wallMs : NaN,
    };
  }
  const status = await server.status();
  return { tokens: STREAM_TOKENS, streamBytes: floorBytes, runs, seedSkipped: seedMissing, variants: results, liveChats: status.liveChats };
}

if (process.argv[2] === "--client") {
  const { clients, eventBytes, close } = await nodeClients(JSON.parse(process.argv[3] ?? "{}"));
  // One chat at a time: the next name is read once the previous chat has answered.
  for await (const name of createInterface({ input: process.stdin })) {
    try {
      const run = clients[name];
      if (!run) throw new Error(`stream-throughput: no client named ${name}`);
      const seconds = await run();
      process.stdout.write(`${JSON.stringify({ seconds, eventBytes: eventBytes() })}\n`);
    } catch (error) {
      process.stdout.write(`${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
    }
  }
  close();
}
