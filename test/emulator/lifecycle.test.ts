import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { startEmulator, type EmulatorOptions } from "../../src/emulator/emulator.js";
import { dataPayloads, emulator, http, rawExchange, startReply } from "./helpers.js";

describe("lifecycle", () => {
  it("serves on 127.0.0.1 and a free port by default", async () => {
    const server = await emulator();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new URL(server.url).port).not.toBe("0");
  });

  it.each<[string, Pick<EmulatorOptions, "faults">]>([
    ["hang", { faults: ["hang"] }],
    ["endless", { faults: ["endless"] }],
    ["slow-headers", { faults: ["slow-headers"] }],
  ])("stop() ends an open %s request at once", async (_name, options) => {
    const server = await startEmulator({ quiet: true, pingIntervalMs: 20, ...options });
    const { eventsPath } = options.faults?.includes("slow-headers") ? { eventsPath: "/api/chat/models" } : await startReply(server, "Hello");
    const pending = rawExchange(server, "GET", eventsPath, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await server.stop();
    expect(Date.now() - started).toBeLessThan(500);
    const exchange = await pending;
    expect(exchange.cut || exchange.head === "").toBe(true);
    await server.stop();
  });

  it("stop() closes idle keep-alive connections and refuses new ones", async () => {
    const server = await startEmulator({ quiet: true });
    const keepAlive = await fetch(`${server.url}/api/chat/models`, { headers: { cookie: server.cookie } });
    await keepAlive.text();
    const started = Date.now();
    await server.stop();
    expect(Date.now() - started).toBeLessThan(500);
    await expect(fetch(`${server.url}/api/chat/models`)).rejects.toThrow();
  });

  it("counts live chats: created minus successfully deleted", async () => {
    const server = await emulator();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((JSON.parse((await http(server, "POST", "/api/chat")).text) as { id: string }).id);
    await http(server, "DELETE", `/api/chat?chat_id=${ids[0]}`);
    await http(server, "DELETE", "/api/chat?chat_id=unknown");
    expect(server.liveChats()).toBe(2);
  });

  it("rejects invalid options with a ConfigError that says what to pass", async () => {
    for (const options of [
      { port: 70000 },
      { replyTokens: -1 },
      { pingIntervalMs: 0 },
      { tokenDelayMs: Number.NaN },
      { faults: ["nope"] },
      { models: ["gpt-4"] },
      { sessionToken: "a b" },
    ] as EmulatorOptions[]) {
      await expect(startEmulator(options)).rejects.toBeInstanceOf(ConfigError);
    }
  });

  it("rejects a port in use with the listen error", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as { port: number };
    await expect(startEmulator({ port })).rejects.toMatchObject({ code: "EADDRINUSE" });
    await new Promise((resolve) => blocker.close(resolve));
  });
});

describe("speed", () => {
  it("streams 200,000 tokens in well under a second, the same bytes each time", async () => {
    const server = await emulator({ replyTokens: 200_000 });
    const prompt = "<s>[INST]\nBenchmark\n[/INST]";
    const timings: number[] = [];
    let firstBody: Buffer | undefined;
    for (let round = 0; round < 3; round++) {
      // A reply is as long as the request's max_new_tokens allows (1024 by default).
      const { eventsPath } = await startReply(server, prompt, { samplingParameters: { max_new_tokens: 200_000 } });
      const started = performance.now();
      const exchange = await rawExchange(server, "GET", eventsPath);
      timings.push(performance.now() - started);
      const tokensPart = exchange.body.subarray(0, exchange.body.lastIndexOf("data: "));
      if (firstBody) expect(tokensPart.equals(firstBody)).toBe(true);
      firstBody = tokensPart;
    }
    const payloads = dataPayloads(firstBody!);
    expect(payloads).toHaveLength(200_000);
    console.log(`200,000 tokens (${(firstBody!.length / 1e6).toFixed(1)} MB): ${timings.map((ms) => `${ms.toFixed(0)} ms`).join(", ")}`);
    // The first round also encodes and caches the body; later rounds only write it.
    expect(Math.min(...timings.slice(1))).toBeLessThan(1000);
  });
});
