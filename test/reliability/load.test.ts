/**
 * Load: 1,000 concurrent chats through one provider process, and 1,000 concurrent chat
 * completions through the gateway (`oasst serve` in its own process; half streamed,
 * half not). The local server runs in a child process. Every reply is compared with
 * the server's deterministic text by SHA-256; errors must be 0 and chats left 0.
 */
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenAssistant, type Messages } from "../../src/index.js";
import { replyTokens } from "../../src/emulator/reply-text.js";
import { prompterContent } from "../../src/provider/format-prompt.js";
import { assertBuilt } from "./helpers/child.js";
import { startEmulatorProcess, type EmulatorProcess } from "./helpers/emulator-process.js";
import { collectUnhandled, flushUnhandled, handleCounts, settleHandles } from "./helpers/leak-check.js";
import { runCli, type CliRun } from "./helpers/run-cli.js";

const MODEL = "OA_SFT_Llama_30B_6";
const CHATS = 1_000;
const TOKENS = 24;
/**
 * Accounts the chats are spread over, as a real deployment would need: the server allows
 * 20 replies per account per window, and a provider queues one account's replies.
 */
const ACCOUNTS = 100;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const messagesFor = (i: number): Messages => [{ role: "user", content: `Load test chat #${i}: what do you say?` }];
/** The checksum of the text the server streams for chat i. */
const expectedSum = (i: number) => sha256(replyTokens(prompterContent(messagesFor(i)), TOKENS).join(""));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface LoadReport {
  chats: number;
  matched: number;
  mismatched: number;
  errors: string[];
  seconds: number;
  p50: number;
  p99: number;
}

function summary(name: string, report: LoadReport, chatsLeft: number): string {
  return (
    `${name}: ${report.chats} concurrent chats in ${report.seconds.toFixed(2)} s (${Math.round(report.chats / report.seconds)}/s), ` +
    `checksums ${report.matched} equal / ${report.mismatched} different, errors ${report.errors.length}, chats left ${chatsLeft}, ` +
    `latency p50 ${Math.round(report.p50)} ms, p99 ${Math.round(report.p99)} ms`
  );
}

const unhandled = collectUnhandled();
const reports: string[] = [];
let server: EmulatorProcess;

beforeAll(async () => {
  assertBuilt();
  const sessionTokens = Array.from({ length: ACCOUNTS - 1 }, (_, i) => `load-account-${i + 2}`);
  // Not about the rate limit (a gateway may spread replies unevenly over its accounts).
  server = await startEmulatorProcess({ replyTokens: TOKENS, pendingEvents: 1, sessionTokens, rateLimit: false });
});
afterAll(async () => {
  await server.stop();
  unhandled.dispose();
  for (const line of reports) console.log(line);
});

async function measure(run: (i: number) => Promise<string>): Promise<LoadReport> {
  const started = performance.now();
  const latencies: number[] = [];
  const errors: string[] = [];
  let matched = 0;
  let mismatched = 0;
  await Promise.all(
    Array.from({ length: CHATS }, async (_, i) => {
      const begun = performance.now();
      try {
        const text = await run(i);
        if (sha256(text) === expectedSum(i)) matched++;
        else mismatched++;
      } catch (error) {
        errors.push(String(error).split("\n")[0]!);
      } finally {
        latencies.push(performance.now() - begun);
      }
    }),
  );
  return {
    chats: CHATS,
    matched,
    mismatched,
    errors,
    seconds: (performance.now() - started) / 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

describe("load", () => {
  it("1,000 concurrent chats through one provider process: every checksum equal, no error, no chat left", async () => {
    const baseline = handleCounts();
    const report = await measure((i) =>
      OpenAssistant.createAsync(MODEL, messagesFor(i), { baseUrl: server.url, cookies: server.sessions[i % ACCOUNTS]!.cookies, env: {} }),
    );
    // The server lives in another process: every socket here was a client's, and all must be closed.
    expect(await settleHandles(baseline)).toEqual({});
    const left = await server.liveChats();
    reports.push(summary("provider", report, left));
    expect(report.errors.slice(0, 5)).toEqual([]);
    expect(report.matched).toBe(CHATS);
    expect(left).toBe(0);
    await flushUnhandled();
    expect(unhandled.rejections).toEqual([]);
  }, 120_000);

  it("1,000 concurrent completions through the gateway (oasst serve), half streamed: every checksum equal, no error, no chat left", async () => {
    let gatewayRun: Promise<CliRun> | undefined;
    let serveProcess: ChildProcess | undefined;
    const url = await new Promise<string>((resolve, reject) => {
      gatewayRun = runCli(
        [
          "serve",
          "--port",
          "0",
          "--base-url",
          server.url,
          ...server.sessions.flatMap((session) => ["--session", session.cookie]),
          "--max-concurrent",
          String(CHATS),
          "--max-queue",
          String(CHATS),
        ],
        {
          timeoutMs: 120_000,
          onSpawn: (child) => {
            serveProcess = child;
            let out = "";
            child.stdout.on("data", (chunk: Buffer | string) => {
              out += chunk.toString();
              const found = /listening on (http:\/\/[\d.:]+)/.exec(out)?.[1];
              if (found) resolve(found);
            });
            child.on("exit", () => reject(new Error("oasst serve exited before listening")));
          },
        },
      );
    });
    const agent = new Agent({ connections: CHATS, headersTimeout: 60_000, bodyTimeout: 60_000 });
    let gatewayProcess: CliRun;
    try {
      const report = await measure(async (i) => {
        const stream = i % 2 === 1;
        const response = await request(`${url}/v1/chat/completions`, {
          method: "POST",
          dispatcher: agent,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: MODEL, messages: messagesFor(i), stream }),
        });
        const body = await response.body.text();
        if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}: ${body.slice(0, 200)}`);
        if (!stream) return (JSON.parse(body) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;
        let text = "";
        for (const frame of body.split("\n\n")) {
          if (!frame.startsWith("data: ") || frame === "data: [DONE]") continue;
          const data = JSON.parse(frame.slice(6)) as { error?: unknown; choices: Array<{ delta: { content?: string } }> };
          if (data.error) throw new Error(`error chunk: ${JSON.stringify(data.error)}`);
          text += data.choices[0]?.delta.content ?? "";
        }
        if (!body.endsWith("data: [DONE]\n\n")) throw new Error("the stream did not end with [DONE]");
        return text;
      });
      // The gateway answers before it deletes the chat: the last deletes may still be on their way.
      let left = await server.liveChats();
      for (const deadline = Date.now() + 5_000; left > 0 && Date.now() < deadline; left = await server.liveChats()) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      reports.push(summary("gateway", report, left));
      expect(report.errors.slice(0, 5)).toEqual([]);
      expect(report.matched).toBe(CHATS);
      expect(left).toBe(0);
    } finally {
      await agent.close();
      // Ctrl-C: the gateway drains and exits 0 with nothing left open.
      serveProcess?.kill("SIGINT");
      gatewayProcess = await gatewayRun!;
    }
    expect(gatewayProcess.code).toBe(0);
    expect(gatewayProcess.exit?.drained).toBe(true);
  }, 120_000);
});
