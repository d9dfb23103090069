/**
 * Small helpers shared by the benchmark items: statistics, timing, command-line flags,
 * the chat requests the raw (non-oasst) clients send, and the child processes that run them.
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { performance } from "node:perf_hooks";
import { setTimeout } from "node:timers";
import { URL } from "node:url";

export const MODEL = "OA_SFT_Llama_30B_6";
/** The seed's sampling parameters, with the reply length the benchmark asks for. */
export function samplingParameters(maxNewTokens) {
  return { top_k: 50, top_p: null, typical_p: null, temperature: 0.35, repetition_penalty: 1.1111111111111112, max_new_tokens: maxNewTokens };
}
/** The prompter message's content for a user prompt, as the seed and the provider write it. */
export const prompterContent = (prompt) => `<s>[INST]\n${prompt}\n[/INST]`;

/**
 * The first three requests of a chat (create, prompter message, assistant message)
 * through any client's `post(path, body)` → parsed JSON; resolves with the chat and
 * the assistant message, whose events come next.
 */
export async function startReply(post, prompt, maxNewTokens) {
  const chat = await post("/api/chat", {});
  const prompter = await post("/api/chat/prompter_message", { chat_id: chat.id, content: prompterContent(prompt), parent_id: null });
  const assistant = await post("/api/chat/assistant_message", {
    chat_id: chat.id,
    parent_id: prompter.id,
    model_config_name: MODEL,
    sampling_parameters: samplingParameters(maxNewTokens),
    plugins: [],
  });
  return { chat, assistant };
}
export const USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/110.0.0.0 Safari/537.36";

/** @param {number[]} values @param {number} p 0..100 (nearest rank) */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** @param {number[]} values */
export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median, min and max of a list of samples. */
export function summary(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
}

export const now = () => performance.now();

/**
 * One warm-up run, then `runs` timed runs, each variant in turn (interleaved, so drift on
 * a noisy machine hits every variant alike). Each variant returns its own seconds.
 * @param {Record<string, () => Promise<number>>} variants
 * @param {number} runs
 * @returns {Promise<Record<string, number[]>>} seconds per variant
 */
export async function interleaved(variants, runs, log = () => {}) {
  /** @type {Record<string, number[]>} */
  const samples = {};
  for (const [name, run] of Object.entries(variants)) {
    await run(); // warm-up
    samples[name] = [];
  }
  for (let i = 0; i < runs; i++) {
    for (const [name, run] of Object.entries(variants)) {
      const seconds = await run();
      samples[name].push(seconds);
      log(`  ${name} run ${i + 1}/${runs}: ${(seconds * 1000).toFixed(1)} ms`);
    }
  }
  return samples;
}

/** `--quick`, `--only NAME[,NAME]`, `--runs N` and `--verbose` from argv. */
export function flags(argv = process.argv.slice(2)) {
  const only = [];
  let quick = false;
  let verbose = false;
  let runs;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quick") quick = true;
    else if (arg === "--verbose") verbose = true;
    else if (arg === "--only") only.push(...String(argv[++i] ?? "").split(","));
    else if (arg.startsWith("--only=")) only.push(...arg.slice(7).split(","));
    else if (arg === "--runs") runs = Number(argv[++i]);
    else throw new Error(`unknown flag ${arg}; use --quick, --only NAME, --runs N, --verbose`);
  }
  return { quick, verbose, only: only.filter(Boolean), runs };
}

/**
 * Runs `node script ...args` (its stderr goes to ours) and resolves with the JSON it printed on
 * stdout once it exits with 0; rejects naming `name` and the exit code otherwise.
 */
export function runJsonChild(name, script, args, env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "inherit"], env });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (text) => {
      out += text;
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${name} exited with ${code}`))));
  });
}

/**
 * The reply text the benchmark server streams for a chat of one user message, `prompt`, `tokens`
 * long: the emulator's text for the prompter message that the build in `dist` posts.
 */
export async function expectedReply(dist, prompt, tokens) {
  const { replyTokens } = await import(new URL("emulator/reply-text.js", dist).href);
  const { prompterContent: formatted } = await import(new URL("provider/format-prompt.js", dist).href);
  return replyTokens(formatted([{ role: "user", content: prompt }]), tokens).join("");
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
