/**
 * Item 4, gateway overhead: a 1,024-token reply through `oasst serve` (a child process)
 * with the `openai` npm client, streamed and not, against the provider called directly
 * (`OpenAssistant.createAsync`) in this process, and the openai client against a stub
 * that answers at once (its own cost). Interleaved runs; medians.
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

/**
 * A server in a child process: resolves, once it printed "listening on URL" (on stdout
 * or stderr), with that URL and a stop().
 */
async function childServer(name, args, env) {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env });
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const look = (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/[^\s)]+)/.exec(output);
      if (match) resolve(match[1]);
    };
    child.stdout.setEncoding("utf8").on("data", look);
    child.stderr.setEncoding("utf8").on("data", look);
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}: ${output}`)));
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

/** `oasst serve --port 0` in front of the bench server. */
function startGateway(server) {
  const cli = fileURLToPath(new URL("cli/main.js", DIST));
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };
  return childServer("oasst serve", [cli, "serve", "--port", "0", "--base-url", server.url, "--cookie", server.cookie], env);
}

/**
 * A server that answers every chat completion at once with a canned 1,024-token reply
 * (JSON, or one SSE chunk and `[DONE]`): what the openai client costs by itself, a
 * floor under the gateway rows that no gateway can remove.
 */
function startStub(text) {
  const completion = JSON.stringify({
    id: "chatcmpl-stub", object: "chat.completion", created: 0, model: MODEL,
    choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, logprobs: null, finish_reason: "length" }],
    usage: { prompt_tokens: 7, completion_tokens: GATEWAY_TOKENS, total_tokens: GATEWAY_TOKENS + 7 },
  });
  const chunk = JSON.stringify({
    id: "chatcmpl-stub", object: "chat.completion.chunk", created: 0, model: MODEL,
    choices: [{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }],
  });
  const stream = `data: ${chunk}\n\ndata: [DONE]\n\n`;
  const source = `
    const stream = ${JSON.stringify(stream)}, completion = ${JSON.stringify(completion)};
    const server = require("node:http").createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8").on("data", (c) => (body += c)).on("end", () => {
        const streamed = JSON.parse(body).stream === true;
        res.writeHead(200, { "content-type": streamed ? "text/event-stream" : "application/json" });
        res.end(streamed ? stream : completion);
      });
    }).listen(0, "127.0.0.1", () => console.log("listening on http://127.0.0.1:" + server.address().port));`;
  return childServer("the stub server", ["-e", source], process.env);
}

/**
 * @param {import("./server-process.mjs").BenchServer} server
 * @param {{ quick: boolean, runs?: number, log: (line: string) => void }} options
 */
export async function gatewayOverhead(server, options) {
  const runs = options.runs ?? (options.quick ? 10 : 30);
  const { default: OpenAI } = await import("openai");
  const expected = replyTokens(prompterContent(PROMPT), GATEWAY_TOKENS).join("");
  const gateway = await startGateway(server);
  const stub = await startStub(expected);
  try {
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "bench", maxRetries: 0 });
    const openaiStub = new OpenAI({ baseURL: `${stub.url}/v1`, apiKey: "bench", maxRetries: 0 });
    const messages = [{ role: "user", content: PROMPT }];
    const check = (name, text) => {
      if (text !== expected) throw new Error(`gateway-overhead: ${name} got ${text.length} chars, expected ${expected.length}`);
    };
    // One run through the openai client, streamed or not; seconds to the whole reply.
    const streamed = (client, name) => async () => {
      const started = performance.now();
      const stream = await client.chat.completions.create({ model: MODEL, messages, stream: true, max_tokens: GATEWAY_TOKENS });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
      const seconds = (performance.now() - started) / 1000;
      check(name, text);
      return seconds;
    };
    const json = (client, name) => async () => {
      const started = performance.now();
      const completion = await client.chat.completions.create({ model: MODEL, messages, max_tokens: GATEWAY_TOKENS });
      const seconds = (performance.now() - started) / 1000;
      check(name, completion.choices[0]?.message?.content ?? "");
      return seconds;
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
        "gateway-stream": streamed(openai, "gateway-stream"),
        "gateway-json": json(openai, "gateway-json"),
        "openai-stub-stream": streamed(openaiStub, "openai-stub-stream"),
        "openai-stub-json": json(openaiStub, "openai-stub-json"),
      },
      runs,
      options.verbose ? options.log : () => {},
    );
    const results = Object.fromEntries(Object.entries(samples).map(([name, seconds]) => [name, summary(seconds)]));
    const status = await server.status();
    return { tokens: GATEWAY_TOKENS, runs, variants: results, liveChats: status.liveChats };
  } finally {
    await gateway.stop();
    await stub.stop();
  }
}
