/**
 * `upstream`: the emulator's worker streams replies from an OpenAI-compatible server. A stub
 * server here streams chat.completion.chunk events and records what it was asked.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { MessageRead } from "../../src/client/wire-types.js";
import type { UpstreamRequest } from "../../src/emulator/upstream.js";
import { closedPort } from "../helpers/closed-port.js";
import { listenLocal, type LocalServer } from "../helpers/local-server.js";
import { dataPayloads, emulator, http, MODEL, startReply } from "./helpers.js";

interface Recorded {
  path: string;
  headers: IncomingHttpHeaders;
  body: UpstreamRequest;
}

const SAMPLING = { top_k: 50, top_p: 0.9, typical_p: null, temperature: 0.35, repetition_penalty: 1.1, max_new_tokens: 64 };
const TOKENS = ["Hel", "lo", " wörld", ' "🙂"', "!"];

const stubs: LocalServer[] = [];
afterEach(async () => {
  await Promise.all(stubs.splice(0).map((stub) => stub.close()));
});

/** An OpenAI-compatible stub: streams `tokens` one chunk at a time, or answers `status` with an error. */
async function stubUpstream(options: { tokens?: string[]; status?: number } = {}): Promise<{ baseUrl: string; requests: Recorded[] }> {
  const requests: Recorded[] = [];
  const stub = createServer((incoming, outgoing) => {
    let body = "";
    incoming.on("data", (chunk: Buffer) => (body += chunk.toString()));
    incoming.on("end", () => {
      requests.push({ path: incoming.url ?? "", headers: incoming.headers, body: JSON.parse(body) as UpstreamRequest });
      if (options.status) {
        outgoing.writeHead(options.status, { "content-type": "application/json" }).end('{"error":{"message":"model exploded"}}');
        return;
      }
      outgoing.writeHead(200, { "content-type": "text/event-stream" });
      const chunk = (delta: object, finish: string | null) =>
        `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      const lines = [chunk({ role: "assistant", content: "" }, null), ...(options.tokens ?? TOKENS).map((text) => chunk({ content: text }, null))];
      lines.push(chunk({}, "stop"), "data: [DONE]\n\n");
      const next = () => {
        const line = lines.shift();
        if (line === undefined) return outgoing.end();
        outgoing.write(line);
        setTimeout(next, 2);
      };
      next();
    });
  });
  const listening = await listenLocal(stub);
  stubs.push(listening);
  return { baseUrl: `${listening.url}/v1/`, requests };
}

function parse<T>(text: string): T {
  return JSON.parse(text) as T;
}

describe("emulator upstream", () => {
  it("streams the upstream's tokens as token events in order, then the whole text", async () => {
    const upstream = await stubUpstream();
    const server = await emulator({ upstream: { baseUrl: upstream.baseUrl, apiKey: "sk-test" } });
    const reply = await startReply(server, "Hello", { samplingParameters: SAMPLING });
    const events = dataPayloads((await http(server, "GET", reply.eventsPath)).body).map((data) => parse<Record<string, unknown>>(data));
    const tokens = events.filter((event) => event.event_type === "token").map((event) => event.text);
    expect(tokens).toEqual(TOKENS);
    const final = events.at(-1) as { event_type: string; message: MessageRead };
    expect(final.event_type).toBe("message");
    expect(final.message).toMatchObject({ state: "complete", content: TOKENS.join("") });
    const read = parse<MessageRead>((await http(server, "GET", `/api/chat/message?chat_id=${reply.chatId}&message_id=${reply.assistant.id}`)).text);
    expect(read).toMatchObject({ state: "complete", content: TOKENS.join("") });
    expect(upstream.requests).toHaveLength(1);
    const [request] = upstream.requests;
    expect(request?.path).toBe("/v1/chat/completions");
    expect(request?.headers.authorization).toBe("Bearer sk-test");
    expect(request?.body).toEqual({
      model: MODEL,
      messages: [{ role: "user", content: "Hello" }],
      stream: true,
      max_tokens: 64,
      temperature: 0.35,
      top_p: 0.9,
    });
  });

  it("sends the thread (two turns) with the system prompt and the model override", async () => {
    const upstream = await stubUpstream({ tokens: ["Fine."] });
    const server = await emulator({ upstream: { baseUrl: upstream.baseUrl, model: "llama3.2" } });
    const first = await startReply(server, "Hi", { samplingParameters: SAMPLING });
    await http(server, "GET", first.eventsPath);
    const sampling = { ...SAMPLING, temperature: null, top_p: null, max_new_tokens: 16 };
    const second = await startReply(server, "How are you?", { chatId: first.chatId, parentId: first.assistant.id, samplingParameters: sampling });
    // The helper posts no system prompt; this turn's assistant message is posted again with one.
    const withSystem = await http(server, "POST", "/api/chat/assistant_message", {
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        chat_id: first.chatId,
        parent_id: second.prompterId,
        model_config_name: MODEL,
        sampling_parameters: sampling,
        system_prompt: "Be brief.",
        plugins: [],
      }),
    });
    const assistant = parse<MessageRead>(withSystem.text);
    const events = dataPayloads((await http(server, "GET", `/api/chat/events?chat_id=${first.chatId}&message_id=${assistant.id}`)).body);
    expect(parse<{ message: MessageRead }>(events.at(-1)!).message.content).toBe("Fine.");
    // The draft without a system prompt went upstream too, concurrently.
    expect(upstream.requests.find((recorded) => recorded.body.messages[0]?.role === "system")?.body).toEqual({
      model: "llama3.2",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Fine." },
        { role: "user", content: "How are you?" },
      ],
      stream: true,
      max_tokens: 16,
    });
  });

  it.each([
    ["an upstream 500", async () => (await stubUpstream({ status: 500 })).baseUrl],
    ["a refused connection", async () => `http://127.0.0.1:${await closedPort()}/v1`],
  ])("%s ends the reply with the worker's error event and aborted_by_worker", async (_name, baseUrl) => {
    const server = await emulator({ upstream: { baseUrl: await baseUrl() } });
    const reply = await startReply(server, "Hello", { samplingParameters: SAMPLING });
    const events = dataPayloads((await http(server, "GET", reply.eventsPath)).body).map((data) => parse<Record<string, unknown>>(data));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event_type: "error", error: "Aborted due to worker error.", message: { state: "aborted_by_worker" } });
    const read = parse<MessageRead>((await http(server, "GET", `/api/chat/message?chat_id=${reply.chatId}&message_id=${reply.assistant.id}`)).text);
    expect(read.state).toBe("aborted_by_worker");
  });

  it("a model server that goes silent fails the reply instead of holding its worker slot", async () => {
    const hanging = await listenLocal(createServer(() => {})); // takes the request, never answers
    try {
      const { streamCompletion } = await import("../../src/emulator/upstream.js");
      const baseUrl = `${hanging.url}/v1`;
      const request = { model: MODEL, messages: [{ role: "user", content: "Hi" }], stream: true } as UpstreamRequest;
      await expect(streamCompletion({ baseUrl }, request, new AbortController().signal, () => {}, 200)).rejects.toThrow(/sent nothing/);
    } finally {
      await hanging.close();
    }
  });

  it("rejects a base URL that is not http(s)", async () => {
    await expect(emulator({ upstream: { baseUrl: "ftp://example.com" } })).rejects.toThrow(/not an http\(s\) URL/);
  });
});

/** `npm test` builds first (pretest); locally, run `npm run build` before this part. */
const CLI = resolve(import.meta.dirname, "../../dist/cli/main.js");

function run(args: string[], env: NodeJS.ProcessEnv): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; stdout: string }> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: "pipe", env });
  let stdout = "";
  child.stdout?.on("data", (data: Buffer) => (stdout += data.toString()));
  const done = new Promise<{ code: number | null; stdout: string }>((settle) => child.on("close", (code) => settle({ code, stdout })));
  return { child, done };
}

describe.skipIf(!existsSync(CLI))("oasst emulate --upstream (the built CLI)", () => {
  it("serves `oasst chat` with the upstream's reply", async () => {
    const upstream = await stubUpstream();
    // A throwaway config dir: the CLI may save settings there.
    const home = mkdtempSync(join(tmpdir(), "oasst-upstream-"));
    const env = { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: home, NO_COLOR: "1" };
    const emulate = run(["emulate", "--quiet", "--upstream", upstream.baseUrl, "--upstream-model", "stub-model"], env);
    try {
      const settings = await new Promise<Record<string, string>>((settle, fail) => {
        let printed = "";
        emulate.child.stdout?.on("data", (data: Buffer) => {
          printed += data.toString();
          const baseUrl = /^export OASST_BASE_URL=(\S+)$/m.exec(printed)?.[1];
          const cookies = /^export OASST_COOKIES='([^']+)'$/m.exec(printed)?.[1];
          if (baseUrl && cookies) settle({ OASST_BASE_URL: baseUrl, OASST_COOKIES: cookies });
        });
        emulate.child.on("close", (code) => fail(new Error(`oasst emulate exited with ${code}`)));
      });
      const chat = await run(["chat", "Hello"], { ...env, ...settings }).done;
      expect(chat).toMatchObject({ code: 0, stdout: `${TOKENS.join("")}\n` });
      expect(upstream.requests[0]?.body).toMatchObject({ model: "stub-model", messages: [{ role: "user", content: "Hello" }] });
    } finally {
      emulate.child.kill("SIGINT");
      await emulate.done;
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("`npm run demo` with OASST_UPSTREAM streams the upstream's reply", async () => {
    const upstream = await stubUpstream();
    const demo = spawn(process.execPath, [resolve(import.meta.dirname, "../../dist/demo/demo.js")], {
      stdio: "pipe",
      env: { PATH: process.env.PATH, OASST_UPSTREAM: upstream.baseUrl, OASST_UPSTREAM_MODEL: "stub-model" },
    });
    let stdout = "";
    let stderr = "";
    demo.stdout.on("data", (data: Buffer) => (stdout += data.toString()));
    demo.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
    const code = await new Promise((settle) => demo.on("close", settle));
    expect({ code, stdout }).toEqual({ code: 0, stdout: `${TOKENS.join("")}\n` });
    expect(stderr).toContain(`Its replies come from the model server at ${upstream.baseUrl}`);
    expect(stderr).toContain("oasst emulate --upstream");
    expect(upstream.requests[0]?.body.model).toBe("stub-model");
  });
});
