/**
 * Item 4, gateway overhead: a 1,024-token reply through `oasst serve` (a child process)
 * with the `openai` npm client, streamed and not, against the provider called directly
 * (`OpenAssistant.createAsync`) in this process. Interleaved runs; medians.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import process from "node:process";
import { performance } from "node:perf_hooks";
import { fileURLToPath, URL } from "node:url";
import { MODEL, interleaved, prompterContent, summary } from "./measure.mjs";

const DIST = new URL(process.env.BENCH_DIST ?? "../dist/", import.meta.url);
const { OpenAssistant } = await import(new URL("index.js", DIST).href);
const { replyTokens } = await import(new URL("emulator/reply-text.js", DIST).href);

export const GATEWAY_TOKENS = 1024;
const PROMPT = "Benchmark: gateway overhead";

/** `oasst serve --port 0` in front of the bench server; resolves with its base URL and a stop(). */
async function startGateway(server) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL("cli/main.js", DIST)), "serve", "--port", "0", "--base-url", server.url, "--cookie", server.cookie],
    { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" } },
  );
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const look = (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/[^\s)]+)/.exec(output);
      if (match) resolve(match[1]);
    };
    child.stdout.setEncoding("utf8").on("data", look);
    child.stderr.setEncoding("utf8").on("data", look);
    child.once("exit", (code) => reject(new Error(`oasst serve exited with ${code}: ${output}`)));
  });
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}

/**
 * @param {import("./server-process.mjs").BenchServer} server
 * @param {{ quick: boolean, runs?: number, log: (line: string) => void }} options
 */
export async function gatewayOverhead(server, options) {
  const runs = options.runs ?? (options.quick ? 10 : 30);
  const { default: OpenAI } = await import("openai");
  const gateway = await startGateway(server);
  try {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "bench", maxRetries: 0 });
    const messages = [{ role: "user", content: PROMPT }];
    const expected = replyTokens(prompterContent(PROMPT), GATEWAY_TOKENS).join("");
    const check = (name, text) => {
      if (text !== expected) throw new Error(`gateway-overhead: ${name} got ${text.length} chars, expected ${expected.length}`);
    };
    const samples = await interleaved(
      {
        provider: async () => {
          const started = performance.now();
          const text = await OpenAssistant.createAsync(MODEL, messages, {
            baseUrl: server.url,
            cookies: server.cookies,
            max_new_tokens: GATEWAY_TOKENS,
            env: {},
          });
          const seconds = (performance.now() - started) / 1000;
          check("provider", text);
          return seconds;
        },
        "gateway-stream": async () => {
          const started = performance.now();
          const stream = await openai.chat.completions.create({ model: MODEL, messages, stream: true, max_tokens: GATEWAY_TOKENS });
          let text = "";
          for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
          const seconds = (performance.now() - started) / 1000;
          check("gateway-stream", text);
          return seconds;
        },
        "gateway-json": async () => {
          const started = performance.now();
          const completion = await openai.chat.completions.create({ model: MODEL, messages, max_tokens: GATEWAY_TOKENS });
          const seconds = (performance.now() - started) / 1000;
          check("gateway-json", completion.choices[0]?.message?.content ?? "");
          return seconds;
        },
      },
      runs,
      options.verbose ? options.log : () => {},
    );
    const results = Object.fromEntries(Object.entries(samples).map(([name, seconds]) => [name, summary(seconds)]));
    const status = await server.status();
    return { tokens: GATEWAY_TOKENS, runs, variants: results, liveChats: status.liveChats };
  } finally {
    await gateway.stop();
  }
}
