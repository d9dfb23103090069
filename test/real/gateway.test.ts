/**
 * The OpenAI-compatible gateway against the real stack: `serveGateway` / `createGateway` in
 * process, and the built `oasst serve`, called with the official `openai` client.
 * Each test's gateway logs in as a user of its own. One request at a time per gateway (its one
 * account): concurrent chats of one account are not covered here.
 */
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { createGateway, serveGateway, type ServedGateway } from "../../src/gateway/index.js";
import type { OpenAssistantWarning } from "../../src/index.js";
import { assertBuilt, collect, makeTempHome, spawnCli, type TempHome } from "../cli/cli-harness.js";
import { MODEL, chatIds, realStack, userCookie, waitForNoChats } from "./stack.js";

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function gateway(): Promise<{ served: ServedGateway; cookie: string; openai: OpenAI; warnings: OpenAssistantWarning[] }> {
  const cookie = await userCookie("gw");
  const warnings: OpenAssistantWarning[] = [];
  const served = await serveGateway({
    port: 0,
    baseUrl: realStack().website,
    cookies: cookie,
    maxRetries: 0,
    env: {},
    onWarning: (warning) => warnings.push(warning),
  });
  stops.push(() => served.close());
  return { served, cookie, warnings, openai: new OpenAI({ baseURL: `${served.url}/v1`, apiKey: "unused", maxRetries: 0 }) };
}

describe("serveGateway with the openai client", () => {
  it("a chat completion, not streamed; the chat is deleted", async () => {
    const { openai, cookie, warnings } = await gateway();
    const completion = await openai.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hello gateway [[fake:tokens=5]]" }] });
    expect(completion.object).toBe("chat.completion");
    expect(completion.model).toBe(MODEL);
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]?.message.role).toBe("assistant");
    expect(completion.choices[0]?.message.content).toMatch(/^You said: .*hello gateway/s);
    expect(completion.choices[0]?.message.content?.endsWith("lorem ipsum dolor sit amet")).toBe(true);
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    await waitForNoChats(cookie);
    expect(warnings).toEqual([]);
  });

  it("a system message and a conversation reach the model as one prompt", async () => {
    const { openai, cookie } = await gateway();
    const completion = await openai.chat.completions.create({
      model: MODEL,
      messages: [
        { role: "system", content: "Answer briefly. [[fake:tokens=1]]" },
        { role: "user", content: "Name a planet." },
        { role: "assistant", content: "Mars." },
        { role: "user", content: "Another one?" },
      ],
    });
    const text = completion.choices[0]?.message.content ?? "";
    expect(text).toContain("Answer briefly.");
    expect(text).toContain("User: Name a planet.");
    expect(text).toContain("Assistant: Mars.");
    expect(text).toContain("User: Another one?");
    await waitForNoChats(cookie);
  });

  it("a streamed chat completion: role first, the text in deltas, finish_reason stop, usage", async () => {
    const { openai, cookie } = await gateway();
    const stream = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "stream me [[fake:tokens=8]]" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    const finish: Array<string | null | undefined> = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunks = 0;
    let role: string | undefined;
    for await (const chunk of stream) {
      chunks += 1;
      expect(chunk.object).toBe("chat.completion.chunk");
      role ??= chunk.choices[0]?.delta.role;
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.choices[0]?.finish_reason) finish.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(role).toBe("assistant");
    expect(chunks).toBeGreaterThan(3);
    expect(text).toMatch(/^You said: .*stream me/s);
    expect(text.endsWith("lorem ipsum dolor sit amet consectetur adipiscing elit")).toBe(true);
    expect(finish).toEqual(["stop"]);
    expect(usage?.completion_tokens).toBeGreaterThan(8);
    await waitForNoChats(cookie);
  });

  it("max_tokens: the worker stops at that length, finish_reason length", async () => {
    const { openai, cookie } = await gateway();
    const completion = await openai.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "short" }], max_tokens: 3 });
    expect(completion.choices[0]?.finish_reason).toBe("length");
    expect(completion.choices[0]?.message.content).toBe("You said: short");
    await waitForNoChats(cookie);
  });

  it("a client that stops reading a stream: the chat is deleted", async () => {
    const { openai, cookie } = await gateway();
    const stream = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "long [[fake:tokens=40]] [[fake:delay=50]]" }],
      stream: true,
    });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) {
        expect(await chatIds(cookie)).toHaveLength(1);
        break;
      }
    }
    // Deleted once the server has finished the reply.
    await waitForNoChats(cookie, 15_000);
  });

  it("/v1/models lists the site's models; /v1/models/{id} gives one", async () => {
    const { openai } = await gateway();
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toContain(MODEL);
    const one = await openai.models.retrieve(MODEL);
    expect(one).toMatchObject({ id: MODEL, object: "model" });
  });

  it("an unknown model: 404 model_not_found listing the site's models; the chat is deleted", async () => {
    const { openai, cookie } = await gateway();
    const error = await openai.chat.completions
      .create({ model: "NoSuchModel", messages: [{ role: "user", content: "hi" }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).code).toBe("model_not_found");
    expect((error as Error).message).toContain(MODEL);
    await waitForNoChats(cookie);
  });

  it("an error event: 502 upstream_stream (not streamed), the chat deleted", async () => {
    const { openai, cookie } = await gateway();
    const error = await openai.chat.completions
      .create({ model: MODEL, messages: [{ role: "user", content: "boom [[fake:error]]" }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe("upstream_stream");
    expect((error as Error).message).toContain("fake worker error");
    await waitForNoChats(cookie);
  });

  it("an error event mid-stream: the text so far, then the stream fails; the chat deleted", async () => {
    const { openai, cookie } = await gateway();
    const stream = await openai.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "cut [[fake:disconnect]]" }], stream: true });
    let text = "";
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })().then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(text).toMatch(/^You said:/);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain("Aborted due to worker error.");
    await waitForNoChats(cookie);
  });
});

describe("createGateway (the hono app, no server)", () => {
  it("answers a chat completion through app.request", async () => {
    const cookie = await userCookie("gw");
    const app = createGateway({ baseUrl: realStack().website, cookies: cookie, maxRetries: 0, env: {} });
    const response = await app.request("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "app request [[fake:tokens=2]]" }] }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
    expect(body.choices[0]?.message.content).toMatch(/^You said: .*app request/s);
    await waitForNoChats(cookie);
  });
});

describe("oasst serve", () => {
  let home: TempHome | undefined;
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const done = collect(child, 15_000).catch(() => undefined);
      child.kill("SIGTERM");
      await done;
    }
    child = undefined;
    await home?.remove();
    home = undefined;
  });

  it("serves the openai client (streamed and not) with its own session cookie, and stops on SIGTERM", async () => {
    assertBuilt();
    home = await makeTempHome();
    const cookie = await userCookie("serve");
    child = spawnCli(["serve", "--port", "0", "--base-url", realStack().website], home, { env: { OASST_COOKIES: cookie } });
    const running = child;
    let out = "";
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`oasst serve printed no URL within 15 s: ${out}`)), 15_000);
      running.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        out += chunk;
        const match = /listening on (http:\/\/\S+) /.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
    });
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
    const completion = await openai.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "served [[fake:tokens=2]]" }] });
    expect(completion.choices[0]?.message.content).toMatch(/^You said: .*served/s);
    const stream = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "served stream [[fake:tokens=2]]" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toMatch(/^You said: .*served stream/s);
    const models: string[] = [];
    for await (const model of openai.models.list()) models.push(model.id);
    expect(models).toContain(MODEL);
    await waitForNoChats(cookie);

    const done = collect(running, 15_000);
    running.kill("SIGTERM");
    const result = await done;
    expect(result.code === 0 || result.signal === "SIGTERM").toBe(true);
    expect(result.stdout + result.stderr).not.toContain(cookie.slice(cookie.indexOf("=") + 1));
  });
});
