/**
 * `oasst serve` in front of `oasst emulate`, both the built binary, called with
 * `curl -N` and the openai client, as a user would.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { replyTokens } from "../../src/emulator/emulator.js";
import { prompterContent } from "../../src/provider/format-prompt.js";
import { assertBuilt, collect, makeTempHome, spawnCli, type TempHome } from "../cli/cli-harness.js";
import { MODEL, eventually } from "./gateway-harness.js";

const HELLO = [{ role: "user" as const, content: "Hello" }];
const TOKEN_DELAY_MS = 20;

let home: TempHome;
let emulate: ChildProcessWithoutNullStreams;
/** OASST_BASE_URL and OASST_COOKIES, as `oasst emulate` prints them. */
let upstream: { OASST_BASE_URL: string; OASST_COOKIES: string };
const children: ChildProcessWithoutNullStreams[] = [];

/** Resolves with the first match of `pattern` in the child's stdout. */
function stdoutMatch(child: ChildProcessWithoutNullStreams, pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
  let seen = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} on stdout within ${timeoutMs} ms; got ${JSON.stringify(seen)}`)), timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      const match = pattern.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
  });
}

/** `oasst serve` with the emulator's variables; resolves once it printed its URL. */
async function serve(args: string[] = [], env: Record<string, string | undefined> = {}): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  const child = spawnCli(["serve", "--port", "0", ...args], home, { env: { ...upstream, ...env } });
  children.push(child);
  const [, url] = await stdoutMatch(child, /listening on (http:\/\/\S+) /);
  return { child, url: url ?? "" };
}

/** What the child writes to stderr, read as it arrives (a stream holds its output until read). */
function stderrOf(child: ChildProcessWithoutNullStreams): () => string {
  let text = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
  return () => text;
}

/** The emulator's chats that still exist. */
async function liveChats(): Promise<number> {
  const response = await fetch(`${upstream.OASST_BASE_URL}/api/chat`, { headers: { cookie: upstream.OASST_COOKIES } });
  return ((await response.json()) as { chats: unknown[] }).chats.length;
}

/** Resolves once every chat is deleted (the gateway deletes a chat after its answer); fails after 5 s. */
async function noChatsLeft(): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await liveChats()) !== 0) {
    if (Date.now() > deadline) throw new Error("the chat was not deleted");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** curl's stdout, each read with the time it arrived. */
function curl(args: string[]): { child: ReturnType<typeof spawn>; reads: Array<{ at: number; text: string }>; done: Promise<number | null> } {
  const child = spawn("curl", ["-sS", "-N", ...args]);
  const reads: Array<{ at: number; text: string }> = [];
  child.stdout.on("data", (chunk: Buffer) => reads.push({ at: performance.now(), text: chunk.toString() }));
  const done = new Promise<number | null>((resolve) => child.on("close", resolve));
  return { child, reads, done };
}

beforeAll(async () => {
  assertBuilt();
  home = await makeTempHome();
  emulate = spawnCli(["emulate", "--port", "0", "--quiet", "--token-delay", String(TOKEN_DELAY_MS)], home);
  const [, baseUrl, cookies] = await stdoutMatch(emulate, /OASST_BASE_URL=(\S+)\nexport OASST_COOKIES='([^']+)'/);
  upstream = { OASST_BASE_URL: baseUrl ?? "", OASST_COOKIES: cookies ?? "" };
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null) {
      const closed = collect(child);
      child.kill("SIGINT");
      await closed;
    }
  }
});

afterAll(async () => {
  const closed = collect(emulate);
  emulate.kill("SIGINT");
  await closed;
  await home.remove();
});

describe("oasst serve", () => {
  test("curl -N receives the chunks as the tokens arrive, then [DONE]", async () => {
    const { url } = await serve();
    const body = JSON.stringify({ model: MODEL, stream: true, messages: HELLO });
    const { reads, done } = curl([`${url}/v1/chat/completions`, "-H", "content-type: application/json", "-d", body]);
    expect(await done).toBe(0);
    const output = reads.map((read) => read.text).join("");
    const data = output
      .split("\n\n")
      .filter((block) => block.startsWith("data: "))
      .map((block) => block.slice(6));
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((line) => JSON.parse(line) as { choices: Array<{ delta: { content?: string }; finish_reason: string | null }> });
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe(replyTokens(prompterContent(HELLO), 24).join(""));
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
    // Streamed, not buffered: the reads are spread over the reply's ~24 × 20 ms.
    expect(reads.length).toBeGreaterThan(10);
    expect((reads.at(-1)?.at ?? 0) - (reads[0]?.at ?? 0)).toBeGreaterThan(10 * TOKEN_DELAY_MS);
    await noChatsLeft();
  });

  test("curl without streaming, and the openai client streaming, against the same gateway", async () => {
    const { url } = await serve();
    const { reads, done } = curl([
      `${url}/v1/chat/completions`,
      "-H",
      "content-type: application/json",
      "-d",
      JSON.stringify({ model: MODEL, messages: HELLO }),
    ]);
    expect(await done).toBe(0);
    const completion = JSON.parse(reads.map((read) => read.text).join("")) as { choices: Array<{ message: { content: string } }> };
    expect(completion.choices[0]?.message.content).toBe(replyTokens(prompterContent(HELLO), 24).join(""));
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
    let text = "";
    for await (const chunk of await client.chat.completions.create({ model: MODEL, messages: HELLO, stream: true }))
      text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe(completion.choices[0]?.message.content);
  });

  test("curl hanging up mid-stream: the chat is deleted", async () => {
    const { url } = await serve();
    const body = JSON.stringify({ model: MODEL, stream: true, max_tokens: 1000, messages: [{ role: "user", content: "long" }] });
    const { child, reads, done } = curl([`${url}/v1/chat/completions`, "-H", "content-type: application/json", "-d", body]);
    await eventually(() => reads.length >= 3, "curl got the first chunks");
    expect(await liveChats()).toBe(1);
    child.kill("SIGKILL");
    await done;
    await noChatsLeft();
  });

  test("--api-key: curl needs the bearer key", async () => {
    const { url } = await serve(["--api-key", "sk-local-1234"]);
    const without = curl(["-o", "/dev/null", "-w", "%{http_code}", `${url}/v1/models`]);
    await without.done;
    expect(without.reads.map((read) => read.text).join("")).toBe("401");
    const withKey = curl(["-o", "/dev/null", "-w", "%{http_code}", "-H", "authorization: Bearer sk-local-1234", `${url}/v1/models`]);
    await withKey.done;
    expect(withKey.reads.map((read) => read.text).join("")).toBe("200");
  });

  test("Ctrl-C stops it cleanly: exit status 0, the stream in flight ended, its chat deleted", async () => {
    const { child, url } = await serve();
    const body = JSON.stringify({ model: MODEL, stream: true, max_tokens: 1000, messages: [{ role: "user", content: "interrupted" }] });
    const { reads, done } = curl([`${url}/v1/chat/completions`, "-H", "content-type: application/json", "-d", body]);
    await eventually(() => reads.length >= 3, "curl got the first chunks");
    const result = collect(child);
    child.kill("SIGINT");
    const { code, stderr } = await result;
    expect(code).toBe(0);
    expect(stderr).toMatch(/stopping/);
    await done;
    expect(reads.map((read) => read.text).join("")).toMatch(/"code":"gateway_shutting_down"/);
    expect(await liveChats()).toBe(0);
  });

  test("binding a non-loopback address without a key prints a warning; with one it does not", async () => {
    const open = await serve(["--host", "0.0.0.0"]);
    const openResult = collect(open.child);
    open.child.kill("SIGINT");
    expect((await openResult).stderr).toMatch(/warning: binding 0\.0\.0\.0 without an API key/);
    const keyed = await serve(["--host", "0.0.0.0"], { OASST_API_KEY: "sk-local-1234" });
    const keyedResult = collect(keyed.child);
    keyed.child.kill("SIGINT");
    expect((await keyedResult).stderr).not.toMatch(/warning/);
  });

  test("without session cookies it does not start, and says how to give them", async () => {
    const child = spawnCli(["serve", "--port", "0"], home, { env: { OASST_BASE_URL: upstream.OASST_BASE_URL } });
    const { code, stdout, stderr } = await collect(child);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/hint:/);
  });

  test("a good session: a ready note, then a line per request with method, path, status, ms and chat id, never the query string", async () => {
    const { child, url } = await serve();
    const stderr = stderrOf(child);
    await eventually(() => /ready: Open-Assistant at \S+ lists \d+ models to its account\n/.test(stderr()), "the ready note");
    const health = curl(["-o", "/dev/null", `${url}/health?key=sk-secret-query`]);
    await health.done;
    const body = JSON.stringify({ model: MODEL, messages: HELLO });
    const completion = curl(["-o", "/dev/null", `${url}/v1/chat/completions`, "-H", "content-type: application/json", "-d", body]);
    await completion.done;
    await eventually(() => /POST \/v1\/chat\/completions/.test(stderr()), "the completion's log line");
    expect(stderr()).toMatch(/^oasst serve: GET \/health 200 \d+ ms$/m);
    expect(stderr()).toMatch(/^oasst serve: POST \/v1\/chat\/completions 200 \d+ ms chat [\w-]+$/m);
    expect(stderr()).not.toMatch(/sk-secret-query|Hello|warning/);
  });

  test("--quiet: no ready note and no request log", async () => {
    // --verbose shows the check's upstream request: once it is answered, a ready note would have been written.
    const { child, url } = await serve(["--quiet", "--verbose"]);
    const stderr = stderrOf(child);
    await eventually(() => /GET \S+\/api\/chat\/models → 200/.test(stderr()), "the check's answer");
    const health = curl(["-o", "/dev/null", `${url}/health`]);
    await health.done;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stderr()).not.toMatch(/ready|GET \/health|warning/);
  });

  test("a refused session cookie: a warning at start that names the fix, and the gateway still answers /health", async () => {
    const { child, url } = await serve(["--quiet"], { OASST_COOKIES: "next-auth.session-token=not-a-session" });
    const stderr = stderrOf(child);
    await eventually(() => /warning:/.test(stderr()), "the warning");
    expect(stderr()).toMatch(/refused the session cookies: .*HTTP 403.*--cookie/);
    expect(stderr()).not.toMatch(/ready/);
    const health = curl(["-w", "%{http_code}", `${url}/health`]);
    expect(await health.done).toBe(0);
    expect(health.reads.map((read) => read.text).join("")).toMatch(/"status":"ok".*200$/);
  });

  test("a dead base URL: a warning at start that names --base-url", async () => {
    const { child } = await serve([], { OASST_BASE_URL: "http://127.0.0.1:9" });
    const stderr = stderrOf(child);
    await eventually(() => /warning:/.test(stderr()), "the warning");
    expect(stderr()).toMatch(/could not reach Open-Assistant at http:\/\/127\.0\.0\.1:9\/?: .*ECONNREFUSED.*--base-url/);
  });

  test("a port in use is a usage error with a fix", async () => {
    const { url } = await serve();
    const port = new URL(url).port;
    const child = spawnCli(["serve", "--port", port], home, { env: upstream });
    const { code, stderr } = await collect(child);
    expect(code).toBe(1);
    expect(stderr).toMatch(/already in use/);
    expect(stderr).toMatch(/--port/);
  });
});
