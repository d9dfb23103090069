/**
 * Paced chats: 200 chats at once, their tokens paced at ~30 a second (the server's
 * `tokenDelayMs` 33), as a model writes them; each chat on its own account. What a user
 * who runs many chats feels is the CPU and memory the client takes while it waits for
 * tokens, not its top speed. Two clients and two floors, each the only work of its process:
 *   - provider    OpenAssistant.createAsyncGenerator, 200 at once in one process (a child):
 *                 its CPU time (process.cpuUsage) ÷ wall time, and its peak RSS;
 *   - oasst serve the gateway (200 --session accounts, --max-concurrent 200; started by a child
 *                 that drives it) under 200 streamed /v1/chat/completions from a driver process (node:http):
 *                 the gateway's CPU time (/proc/PID/stat) ÷ wall time, its peak RSS
 *                 (/proc/PID/status VmHWM);
 *   - node:http floor  the same five requests per chat through node:http (a keep-alive
 *                 Agent), the event stream read and dropped: what Node's HTTP stack costs
 *                 for this traffic, under any client built on it;
 *   - socket floor the same on raw sockets (bench/raw-http.mjs, HTTP/1.1 by hand, one
 *                 connection per chat): what Node's event loop and the system calls cost.
 * Every chat's text is checked (the floor checks the event stream's length).
 *
 * The children: `node bench/paced.mjs --provider|--floor|--socket-floor|--gateway|--driver '<config JSON>'` print one
 * JSON line (--gateway starts `oasst serve` and a --driver child).
 */
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import { join } from "node:path";
import process from "node:process";
import { performance } from "node:perf_hooks";
import { fileURLToPath, URL } from "node:url";
import { expectedReply, MODEL, percentile, runJsonChild } from "./measure.mjs";
import { cookieHeader, floorChat } from "./node-http-floor.mjs";
import { RawConnections, rawChat } from "./raw-http.mjs";
import { startBenchServer } from "./server-process.mjs";

export const PACED_CHATS = 200;
export const TOKEN_DELAY_MS = 33;
const PROMPT = "Benchmark: paced";
const DIST = new URL(process.env.BENCH_DIST ?? "../dist/", import.meta.url);

/** The child's result line: CPU (user + system, and system alone), wall, RSS, errors, first-token latencies. */
function finish(started, cpuBefore, extra) {
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000, systemCpuMs: cpu.system / 1000, maxRssKb: process.resourceUsage().maxRSS, ...extra };
}

/** Runs `chat(index)` for every chat at once; counts errors, keeps the first. */
async function all(chats, chat) {
  let errors = 0;
  let firstError;
  await Promise.all(
    Array.from({ length: chats }, async (_, index) => {
      try {
        await chat(index);
      } catch (error) {
        errors++;
        firstError ??= String(error);
      }
    }),
  );
  return { errors, firstError };
}

/** In a child: 200 chats through the provider. */
async function providerChild(config) {
  const { OpenAssistant } = await import(new URL("index.js", DIST).href);
  const messages = [{ role: "user", content: PROMPT }];
  const expected = await expectedReply(DIST, PROMPT, config.tokens);
  const firstToken = [];
  let mismatches = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const outcome = await all(config.chats, async (index) => {
    const options = { baseUrl: config.url, cookies: config.sessions[index], max_new_tokens: config.tokens, env: {}, onWarning: () => {} };
    const chatStarted = performance.now();
    let text = "";
    for await (const piece of OpenAssistant.createAsyncGenerator(MODEL, messages, options)) {
      if (text === "") firstToken.push(performance.now() - chatStarted);
      text += piece;
    }
    if (text !== expected) mismatches++;
  });
  return finish(started, cpuBefore, { ...outcome, mismatches, firstTokenMs: { p50: percentile(firstToken, 50), p99: percentile(firstToken, 99) } });
}

/** In a child: the floor, 200 chats of five node:http requests, the events dropped. */
async function floorChild(config) {
  const agent = new http.Agent({ keepAlive: true });
  let mismatches = 0;
  let reads = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const outcome = await all(config.chats, async (index) => {
    const events = await floorChat(agent, config.url, cookieHeader(config.sessions[index]), PROMPT, config.tokens);
    // The stream must end with the final message event (its ids and times vary in length: no byte count to check).
    if (!events.ended) mismatches++;
    reads += events.reads;
  });
  agent.destroy();
  return finish(started, cpuBefore, { ...outcome, mismatches, readsPerToken: reads / (config.chats * config.tokens) });
}

/** In a child: the socket floor, 200 chats by hand on raw sockets, the events dropped. */
async function socketFloorChild(config) {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const outcome = await all(config.chats, async (index) => {
    const cookie = cookieHeader(config.sessions[index]);
    const connections = new RawConnections(config.url);
    try {
      await rawChat(connections, { url: config.url, cookie }, PROMPT, config.tokens);
    } finally {
      connections.close();
    }
  });
  return finish(started, cpuBefore, { ...outcome, mismatches: 0 });
}

/** In a child: 200 streamed chat completions through the gateway, each reply's text checked. */
async function driverChild(config) {
  const agent = new http.Agent({ keepAlive: true });
  let mismatches = 0;
  const firstToken = [];
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const body = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: PROMPT }], stream: true, max_tokens: config.tokens });
  const outcome = await all(config.chats, async () => {
    const chatStarted = performance.now();
    const text = await new Promise((resolve, reject) => {
      const req = http.request(new URL("/v1/chat/completions", config.gatewayUrl), {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      });
      req.on("response", (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`gateway answered ${res.statusCode}`));
          res.resume();
          return;
        }
        res.setEncoding("utf8");
        let buffer = "";
        let content = "";
        res.on("data", (chunk) => {
          buffer += chunk;
          let end;
          while ((end = buffer.indexOf("\n\n")) !== -1) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
            const piece = JSON.parse(event.slice(6)).choices?.[0]?.delta?.content;
            if (piece) {
              if (content === "") firstToken.push(performance.now() - chatStarted);
              content += piece;
            }
          }
        });
        res.on("end", () => resolve(content));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
    if (text !== config.expected) mismatches++;
  });
  agent.destroy();
  return finish(started, cpuBefore, { ...outcome, mismatches, firstTokenMs: { p50: percentile(firstToken, 50), p99: percentile(firstToken, 99) } });
}

/** Runs this file as a child in `mode`; resolves with its JSON line. */
function child(mode, config) {
  const env = { PATH: process.env.PATH ?? "", ...(process.env.BENCH_DIST ? { BENCH_DIST: process.env.BENCH_DIST } : {}) };
  return runJsonChild(`paced ${mode} child`, fileURLToPath(import.meta.url), [`--${mode}`, JSON.stringify(config)], env);
}

const CLOCK_TICKS = 100;
/** A process's CPU ms so far (user + system, from /proc/PID/stat; Linux). */
function procCpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}
/** A process's peak RSS in KiB (VmHWM). */
function procPeakRssKb(pid) {
  return Number(/VmHWM:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
}

/** `oasst serve` in front of the server, one --session per account; resolves once listening. */
async function startServe(url, sessions, configHome) {
  const cli = fileURLToPath(new URL("cli/main.js", DIST));
  const flags = sessions.flatMap((cookies) => ["--session", cookieHeader(cookies)]);
  const chats = String(sessions.length);
  const args = [cli, "serve", "--port", "0", "--base-url", url, "--max-concurrent", chats, "--max-queue", chats, ...flags];
  const proc = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "", HOME: configHome, XDG_CONFIG_HOME: configHome },
  });
  let output = "";
  const listening = await new Promise((resolve, reject) => {
    const look = (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/[^\s)]+)/.exec(output);
      if (match) resolve(match[1]);
    };
    proc.stdout.setEncoding("utf8").on("data", look);
    proc.stderr.setEncoding("utf8").on("data", look);
    proc.once("exit", (code) => reject(new Error(`oasst serve exited with ${code}: ${output.slice(-500)}`)));
  });
  return {
    url: listening,
    pid: proc.pid,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill("SIGTERM");
      await once(proc, "exit");
    },
  };
}

/**
 * In a child: `oasst serve` (one account per chat, its own config dir) and the driver's streamed completions
 * through it; the CPU and peak RSS are the gateway process's alone.
 */
async function gatewayChild(config) {
  const expected = await expectedReply(DIST, PROMPT, config.tokens);
  const configHome = mkdtempSync(join(os.tmpdir(), "oasst-bench-"));
  try {
    const serve = await startServe(config.url, config.sessions, configHome);
    try {
      const cpuBefore = procCpuMs(serve.pid);
      const started = performance.now();
      const driver = await child("driver", { gatewayUrl: serve.url, chats: config.chats, tokens: config.tokens, expected });
      return {
        wallMs: performance.now() - started,
        cpuMs: procCpuMs(serve.pid) - cpuBefore,
        maxRssKb: procPeakRssKb(serve.pid),
        errors: driver.errors,
        firstError: driver.firstError,
        mismatches: driver.mismatches,
        firstTokenMs: driver.firstTokenMs,
        driverCpuMs: driver.cpuMs,
      };
    } finally {
      await serve.stop();
    }
  } finally {
    rmSync(configHome, { recursive: true, force: true });
  }
}

/**
 * @param {import("./server-process.mjs").BenchServer} _server the suite's server (unpaced: not used)
 * @param {{ quick: boolean, log: (line: string) => void }} options
 */
export async function paced(_server, options) {
  const chats = PACED_CHATS;
  const tokens = options.quick ? 150 : 450;
  const server = await startBenchServer({ tokenDelayMs: TOKEN_DELAY_MS, accounts: chats + 8 });
  const config = { url: server.url, sessions: server.sessions.slice(1, chats + 1), chats, tokens };
  const rows = {};
  /** Runs one client, with the server's CPU around it. */
  const measure = async (name, run) => {
    const serverBefore = (await server.status()).cpuMs;
    const started = performance.now();
    const result = await run();
    const wallMs = performance.now() - started;
    const status = await server.status();
    const row = {
      ...result,
      cpuShare: result.cpuMs / result.wallMs,
      peakRssMb: result.maxRssKb / 1024,
      serverCpuShare: (status.cpuMs - serverBefore) / wallMs,
      liveChats: status.liveChats,
    };
    rows[name] = row;
    options.log(
      `  ${name}: ${(row.wallMs / 1000).toFixed(1)} s, CPU ${row.cpuMs.toFixed(0)} ms (${(row.cpuShare * 100).toFixed(1)}% of a core), peak RSS ${row.peakRssMb.toFixed(0)} MB, errors ${row.errors}, mismatches ${row.mismatches}, left ${row.liveChats}`,
    );
    if (row.firstError) options.log(`    first error: ${row.firstError}`);
  };
  try {
    await measure("provider", () => child("provider", config));
    await measure("node:http floor", () => child("floor", config));
    await measure("socket floor", () => child("socket-floor", config));
    // The gateway's accounts are the server's first `chats` ones; the provider's were 1..chats (any free account will do).
    await measure("oasst serve", () => child("gateway", { ...config, sessions: server.sessions.slice(0, chats) }));
  } finally {
    await server.stop();
  }
  return { chats, tokens, tokenDelayMs: TOKEN_DELAY_MS, rows };
}

const MODES = { "--provider": providerChild, "--floor": floorChild, "--socket-floor": socketFloorChild, "--driver": driverChild, "--gateway": gatewayChild };
if (process.argv[2] in MODES) {
  const result = await MODES[process.argv[2]](JSON.parse(process.argv[3] ?? "{}"));
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
