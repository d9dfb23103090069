/**
 * The gateway against callers that mean harm (issue 17): web pages of other sites, DNS
 * rebinding, upstream errors that quote the cookie, idle and slow connections, requests
 * that would hold a slot or fan out upstream.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test, vi } from "vitest";
import { startEmulator } from "../../src/emulator/emulator.js";
import { createGateway, LOOPBACK_HOSTS, serveGateway } from "../../src/gateway/index.js";
import type { OpenAssistantWarning } from "../../src/provider/options.js";
import { assertBuilt, collect, makeTempHome, spawnCli } from "../cli/cli-harness.js";
import { MODEL, eventually, post, setup } from "./gateway-harness.js";

const BODY = { model: MODEL, messages: [{ role: "user" as const, content: "Hello" }] };
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A request with the headers a plain `fetch` would not let us set (Host). */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: options.method ?? "GET", headers: options.headers }, (incoming: IncomingMessage) => {
      let body = "";
      incoming.setEncoding("utf8");
      incoming.on("data", (chunk: string) => (body += chunk));
      incoming.on("end", () => resolve({ status: incoming.statusCode ?? 0, body }));
    });
    outgoing.on("error", reject);
    outgoing.end(options.body);
  });
}

/** A socket that reads (a paused one never sees the server close it); resolves with what it got once closed. */
function openSocket(port: number): { socket: Socket; closed: Promise<{ data: string; afterMs: number }> } {
  const started = Date.now();
  const socket = connect(port, "127.0.0.1");
  let data = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => (data += chunk));
  socket.on("error", () => {});
  cleanups.push(() => socket.destroy());
  return { socket, closed: new Promise((resolve) => socket.on("close", () => resolve({ data, afterMs: Date.now() - started }))) };
}

function chatPosts(requests: ReadonlyArray<{ method: string; path: string }>): number {
  return requests.filter((upstream) => upstream.method === "POST").length;
}

describe("web pages of other sites (no API key)", () => {
  test("a cross-site text/plain POST is refused with 415 and never reaches Open-Assistant", async () => {
    const { gateway, emulator } = await setup();
    const types: Array<Record<string, string>> = [{ "content-type": "text/plain" }, { "content-type": "application/x-www-form-urlencoded" }, {}];
    for (const headers of types) {
      const response = await raw(`${gateway.url}/v1/chat/completions`, { method: "POST", headers, body: JSON.stringify(BODY) });
      expect(response.status).toBe(415);
      expect(JSON.parse(response.body)).toMatchObject({ error: { type: "invalid_request_error", code: "unsupported_media_type" } });
      expect(JSON.parse(response.body).error.message).toMatch(/Content-Type: application\/json/);
    }
    expect(emulator.requests).toEqual([]);
    const json = await raw(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify(BODY),
    });
    expect(json.status).toBe(200);
  });

  test("a request with an Origin the cors option does not allow is a 403 naming the origin and --cors", async () => {
    const { gateway, emulator } = await setup();
    const response = await post(gateway, "/v1/chat/completions", BODY, { origin: "https://evil.example", "content-type": "text/plain" });
    expect(response.status).toBe(403);
    const { error } = (await response.json()) as { error: { message: string; code: string } };
    expect(error.code).toBe("origin_not_allowed");
    expect(error.message).toContain("https://evil.example");
    expect(error.message).toContain("--cors https://evil.example");
    expect((await fetch(`${gateway.url}/v1/models`, { headers: { origin: "https://evil.example" } })).status).toBe(403);
    expect(emulator.requests).toEqual([]);
  });

  test("--cors lets its origin in and no other; * lets any in", async () => {
    const { gateway } = await setup({}, { cors: ["http://app.example"] });
    expect((await post(gateway, "/v1/chat/completions", BODY, { origin: "http://app.example" })).status).toBe(200);
    expect((await post(gateway, "/v1/chat/completions", BODY, { origin: "http://evil.example" })).status).toBe(403);
    const any = createGateway({ cors: "*", cookies: "a=bcde" });
    expect((await any.request("/health", { headers: { origin: "http://whoever.example" } })).status).toBe(200);
  });
});

describe("DNS rebinding: the Host header", () => {
  test("bound to loopback, only this machine's names are answered; others get a 403 naming --allowed-host", async () => {
    const { gateway } = await setup();
    const health = `http://127.0.0.1:${gateway.port}/health`;
    for (const host of [`localhost:${gateway.port}`, `127.0.0.1:${gateway.port}`, `[::1]:${gateway.port}`, "app.localhost", "LOCALHOST."]) {
      expect((await raw(health, { headers: { host } })).status, host).toBe(200);
    }
    const refused = await raw(health, { headers: { host: `rebind.evil.example:${gateway.port}` } });
    expect(refused.status).toBe(403);
    const { error } = JSON.parse(refused.body) as { error: { message: string; code: string } };
    expect(error.code).toBe("host_not_allowed");
    expect(error.message).toContain("--allowed-host rebind.evil.example");
    const chat = await raw(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { host: "rebind.evil.example", "content-type": "application/json" },
      body: JSON.stringify(BODY),
    });
    expect(chat.status).toBe(403);
  });

  test("allowedHosts adds names (exact, *.domain); bound elsewhere, any name unless allowedHosts is given", async () => {
    const { gateway } = await setup({}, { allowedHosts: ["gateway.lan", "*.corp.example"] });
    for (const host of ["gateway.lan", "a.corp.example", "localhost"])
      expect((await raw(`${gateway.url}/health`, { headers: { host } })).status, host).toBe(200);
    for (const host of ["evil.example", "corp.example.evil"]) expect((await raw(`${gateway.url}/health`, { headers: { host } })).status, host).toBe(403);
    const open = await setup({}, { host: "0.0.0.0" });
    expect((await raw(`http://127.0.0.1:${open.gateway.port}/health`, { headers: { host: "anything.example" } })).status).toBe(200);
  });

  test("createGateway checks Host only when told which names: it does not know where it is served", async () => {
    const anyHost = createGateway({ cookies: "a=bcde" });
    expect((await anyHost.request("http://any.example/health")).status).toBe(200);
    const loopback = createGateway({ cookies: "a=bcde", allowedHosts: LOOPBACK_HOSTS });
    expect((await loopback.request("http://any.example/health")).status).toBe(403);
    expect((await loopback.request("http://localhost:8080/health")).status).toBe(200);
  });
});

describe("the Open-Assistant cookies, found in a cookie file", () => {
  /** A session token as long as a real one (a JWE of some 300 characters): a plain-text quote of it gets cut. */
  const TOKEN = randomBytes(240).toString("base64url");
  /** Any 12 characters of the token: a quote cut short leaks a part of it. */
  const leaks = (text: string) => Array.from({ length: TOKEN.length - 11 }, (_, at) => TOKEN.slice(at, at + 12)).some((part) => text.includes(part));

  /** The emulator behind a server that forwards everything but answers `fault` with the request's Cookie header quoted. */
  async function quotingUpstream(fault: { route: "create" | "delete" }): Promise<string> {
    const emulator = await startEmulator({ quiet: true, sessionToken: TOKEN });
    cleanups.push(() => emulator.stop());
    const target = new URL(emulator.url);
    const server: Server = createServer((incoming, answer) => {
      const quote = `Cookie: ${incoming.headers.cookie}`;
      if (fault.route === "create" && incoming.method === "POST" && incoming.url === "/api/chat") {
        answer.writeHead(400, { "content-type": "text/plain" }).end(`Bad request: the session is not valid. ${quote}`);
        return;
      }
      if (fault.route === "delete" && incoming.method === "DELETE") {
        answer.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ message: `could not delete for ${quote}` }));
        return;
      }
      const forward = request({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (reply) => {
        answer.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(answer);
      });
      incoming.pipe(forward);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  function cookieFile(): string {
    const dir = mkdtempSync(join(tmpdir(), "oasst-gateway-cookie-file-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "cookies.txt");
    writeFileSync(file, `# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tnext-auth.session-token\t${TOKEN}\n`);
    return file;
  }

  test("an upstream error quoting the Cookie header reaches the caller masked, even cut short", async () => {
    const baseUrl = await quotingUpstream({ route: "create" });
    const app = createGateway({ baseUrl, cookiesFile: cookieFile(), env: {}, maxRetries: 0 });
    const answers = [
      await app.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(BODY) }),
      await app.request("/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...BODY, stream: true }),
      }),
    ];
    for (const answer of answers) {
      const text = await answer.text();
      expect(answer.status).toBe(502);
      expect(text).toContain("next-auth.session-token=***");
      expect(leaks(text)).toBe(false);
    }
  });

  test("a warning that quotes it (the chat's delete failed) is masked, given to onWarning or printed as a process warning", async () => {
    const baseUrl = await quotingUpstream({ route: "delete" });
    const chat = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(BODY) };
    const warnings: OpenAssistantWarning[] = [];
    const withHandler = createGateway({ baseUrl, cookiesFile: cookieFile(), env: {}, maxRetries: 0, onWarning: (warning) => warnings.push(warning) });
    expect((await withHandler.request("/v1/chat/completions", chat)).status).toBe(200);
    const printed = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    cleanups.push(() => printed.mockRestore());
    const withoutHandler = createGateway({ baseUrl, cookiesFile: cookieFile(), env: {}, maxRetries: 0 });
    expect((await withoutHandler.request("/v1/chat/completions", chat)).status).toBe(200);
    const messages = [...warnings.map((warning) => warning.message), ...printed.mock.calls.map(([message]) => String(message))];
    expect(messages.filter((message) => message.includes("could not be deleted"))).toHaveLength(2);
    for (const message of messages) expect(leaks(message), message).toBe(false);
    expect(warnings.every((warning) => warning.cause === undefined)).toBe(true);
  });
});

describe("connections", () => {
  test("a connection that sends nothing, or its headers too slowly, is closed after headersTimeout", async () => {
    const { gateway } = await setup({}, { headersTimeout: 300 });
    const idle = openSocket(gateway.port);
    const slow = openSocket(gateway.port);
    slow.socket.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    const drip = setInterval(() => slow.socket.write("x-drip: 1\r\n"), 50);
    cleanups.push(() => clearInterval(drip));
    for (const { closed } of [idle, slow]) {
      const { data, afterMs } = await closed;
      expect(data).toMatch(/^HTTP\/1\.1 408/);
      expect(afterMs).toBeLessThan(3_000);
    }
  });

  test("an idle keep-alive connection is closed after keepAliveTimeout; a slow body after requestTimeout", async () => {
    const { gateway } = await setup({}, { keepAliveTimeout: 200, requestTimeout: 400, headersTimeout: 400 });
    const kept = openSocket(gateway.port);
    kept.socket.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    const { data, afterMs } = await kept.closed;
    expect(data).toMatch(/^HTTP\/1\.1 200/);
    expect(afterMs).toBeLessThan(3_000);
    const slow = openSocket(gateway.port);
    slow.socket.write("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{");
    const drip = setInterval(() => slow.socket.write(" "), 50);
    cleanups.push(() => clearInterval(drip));
    const cut = await slow.closed;
    expect(cut.data).toMatch(/^HTTP\/1\.1 408/);
    expect(cut.afterMs).toBeLessThan(3_000);
  });

  test("a reply that lasts longer than requestTimeout is not cut: the timeout is for receiving the request", async () => {
    const { gateway } = await setup({ tokenDelayMs: 50 }, { requestTimeout: 300, headersTimeout: 300, keepAliveTimeout: 200 });
    const started = Date.now();
    const [plain, streamed] = await Promise.all([
      post(gateway, "/v1/chat/completions", BODY),
      post(gateway, "/v1/chat/completions", { ...BODY, stream: true }).then(async (response) => ({ status: response.status, text: await response.text() })),
    ]);
    expect(Date.now() - started).toBeGreaterThan(1_000);
    expect(plain.status).toBe(200);
    expect(streamed.text).toMatch(/data: \[DONE\]\n\n$/);
  });

  test("connections beyond maxConnections are closed at once; a freed place serves again", async () => {
    const { gateway } = await setup({}, { maxConnections: 2 });
    const held = [openSocket(gateway.port), openSocket(gateway.port)];
    await Promise.all(held.map(({ socket }) => new Promise((resolve) => socket.once("connect", resolve))));
    const third = openSocket(gateway.port);
    third.socket.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    expect((await third.closed).data).toBe("");
    held[0]?.socket.destroy();
    await expect.poll(async () => (await fetch(`${gateway.url}/health`).catch(() => undefined))?.status).toBe(200);
  });

  test("a headersTimeout longer than the requestTimeout is refused at start-up", async () => {
    await expect(serveGateway({ port: 0, cookies: "a=bcde", headersTimeout: 2_000, requestTimeout: 1_000 })).rejects.toThrow(/headersTimeout/);
  });

  test("a mistyped option is refused at start-up, naming it and the options there are", async () => {
    const mistyped = { cookies: "a=bcde", maxConcurent: 4 } as Parameters<typeof createGateway>[0];
    expect(() => createGateway(mistyped)).toThrow(expect.objectContaining({ name: "ConfigError", message: expect.stringContaining('"maxConcurent"') }));
    expect(() => createGateway(mistyped)).toThrow(expect.objectContaining({ hint: expect.stringMatching(/maxConcurrent.*baseUrl/) }));
    await expect(serveGateway({ ...mistyped, port: 0 })).rejects.toThrow(
      expect.objectContaining({ hint: expect.stringMatching(/port.*maxConcurrent.*baseUrl/) }),
    );
  });
});

describe("slots and upstream calls", () => {
  test("a reply that only ever waits in Open-Assistant's queue ends after queueTimeout and frees its slot", async () => {
    const { gateway } = await setup({ pendingEvents: 100_000, pendingIntervalMs: 20 }, { queueTimeout: 300, timeout: 1_000, maxConcurrent: 1, maxQueue: 0 });
    const streamed = await post(gateway, "/v1/chat/completions", { ...BODY, stream: true });
    expect(streamed.status).toBe(200);
    const text = await streamed.text();
    expect(text).toContain(": queue position");
    expect(text).toContain('"code":"upstream_timeout"');
    expect(text).not.toContain("[DONE]");
    // The slot comes back once the chat's end is settled: the next request reaches Open-Assistant again.
    await expect.poll(async () => (await post(gateway, "/v1/chat/completions", BODY)).status, { timeout: 10_000 }).toBe(504);
  });

  test("more than 4 stop strings, or a stop string over 1,000 characters, is a 400 on `stop`", async () => {
    const { gateway, emulator } = await setup();
    for (const stop of [
      Array.from({ length: 5 }, (_, i) => `s${i}`),
      Array.from({ length: 90_000 }, (_, i) => `s${i}`),
      ["x".repeat(1_001)],
      "y".repeat(1_001),
    ]) {
      const response = await post(gateway, "/v1/chat/completions", { ...BODY, stop });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { type: "invalid_request_error", param: "stop" } });
    }
    expect(chatPosts(emulator.requests)).toBe(0);
    expect((await post(gateway, "/v1/chat/completions", { ...BODY, stop: ["a", "b", "c", "x".repeat(1_000)] })).status).toBe(200);
  });

  test("50 concurrent GET /v1/models make one upstream call, and the list is reused for the next calls", async () => {
    const { gateway, emulator } = await setup();
    const modelCalls = () => emulator.requests.filter((upstream) => upstream.path === "/api/chat/models").length;
    const answers = await Promise.all(Array.from({ length: 50 }, () => fetch(`${gateway.url}/v1/models`)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(200));
    expect(modelCalls()).toBe(1);
    expect((await fetch(`${gateway.url}/v1/models/${MODEL}`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/v1/models`)).status).toBe(200);
    expect(modelCalls()).toBe(1);
    // The list belongs to its gateway: another one asks for its own.
    const other = await serveGateway({ port: 0, baseUrl: emulator.url, cookies: emulator.cookie, env: {} });
    cleanups.push(() => other.close());
    expect((await fetch(`${other.url}/v1/models`)).status).toBe(200);
    expect(modelCalls()).toBe(2);
  });
});

describe("oasst serve", () => {
  test("--max-connections, --headers-timeout, --allowed-host and --queue-timeout reach the server", async () => {
    assertBuilt();
    const home = await makeTempHome();
    cleanups.push(() => home.remove());
    const emulator = await startEmulator({ quiet: true, pendingEvents: 100_000, pendingIntervalMs: 20 });
    cleanups.push(() => emulator.stop());
    const args = ["serve", "--port", "0", "--max-connections", "2", "--headers-timeout", "1s", "--allowed-host", "gateway.lan", "--queue-timeout", "300ms"];
    const child = spawnCli([...args, "--timeout", "1s"], home, { env: { OASST_BASE_URL: emulator.url, OASST_COOKIES: emulator.cookie } });
    const done = collect(child);
    cleanups.push(async () => {
      child.kill("SIGTERM");
      await done;
    });
    let stdout = "";
    child.stdout.on("data", (chunk: string) => (stdout += chunk));
    await eventually(() => /listening on http:\/\/\S+ /.test(stdout), "oasst serve is listening", 10_000);
    const url = /listening on (http:\/\/\S+) /.exec(stdout)?.[1] ?? "";
    const port = Number(new URL(url).port);
    const held = [openSocket(port), openSocket(port)];
    await Promise.all(held.map(({ socket }) => new Promise((resolve) => socket.once("connect", resolve))));
    expect((await openSocket(port).closed).data).toBe("");
    for (const { closed } of held) {
      const { data, afterMs } = await closed;
      expect(data).toMatch(/^HTTP\/1\.1 408/);
      expect(afterMs).toBeLessThan(4_000);
    }
    expect((await raw(`${url}/health`, { headers: { host: "gateway.lan", connection: "close" } })).status).toBe(200);
    expect((await raw(`${url}/health`, { headers: { host: "evil.example", connection: "close" } })).status).toBe(403);
    const chat = await raw(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", connection: "close" },
      body: JSON.stringify(BODY),
    });
    expect(chat.status).toBe(504);
  });
});
