import { request } from "node:http";
import { describe, expect, test } from "vitest";
import { createGateway } from "../../src/gateway/index.js";
import { toGatewayError } from "../../src/gateway/openai-errors.js";
import { ServerError } from "../../src/errors.js";
import { MODEL, post, setup } from "./gateway-harness.js";

const HELLO = [{ role: "user" as const, content: "Hello" }];
const BODY = { model: MODEL, messages: HELLO };
const KEY = "sk-test-0123456789abcdef";

describe("--api-key", () => {
  test("without the key: 401, and the key is never echoed", async () => {
    const { gateway, emulator } = await setup({}, { apiKey: KEY });
    for (const authorization of [undefined, "Bearer sk-test-0123456789abcdeX", `Basic ${KEY}`, "Bearer", `Bearer ${KEY.slice(0, -1)}`]) {
      const response = await post(gateway, "/v1/chat/completions", BODY, authorization ? { authorization } : {});
      const text = await response.text();
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe("Bearer");
      expect(JSON.parse(text)).toMatchObject({ error: { type: "invalid_request_error", code: "invalid_api_key" } });
      expect(text).not.toContain(KEY.slice(8));
    }
    expect((await fetch(`${gateway.url}/v1/models`)).status).toBe(401);
    expect(emulator.requests).toEqual([]);
  });

  test("with the key: served; /health needs none", async () => {
    const { openai, gateway } = await setup({}, { apiKey: KEY });
    await expect(openai({ apiKey: KEY }).chat.completions.create(BODY)).resolves.toMatchObject({ object: "chat.completion" });
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
  });

  test("OASST_API_KEY sets it too", async () => {
    const app = createGateway({ env: { OASST_API_KEY: KEY }, cookies: "a=b" });
    expect((await app.request("/v1/models")).status).toBe(401);
  });
});

describe("CORS", () => {
  test("off by default: no CORS headers, no preflight", async () => {
    const { gateway } = await setup();
    const response = await fetch(`${gateway.url}/health`, { headers: { origin: "http://evil.example" } });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: { origin: "http://evil.example", "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("--cors ORIGIN: that origin may call, preflight included, with the API key still required", async () => {
    const { gateway } = await setup({}, { cors: ["http://app.example"], apiKey: KEY });
    const preflight = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "OPTIONS",
      headers: { origin: "http://app.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://app.example");
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/authorization/);
    const call = await post(gateway, "/v1/chat/completions", BODY, { origin: "http://app.example", authorization: `Bearer ${KEY}` });
    expect(call.status).toBe(200);
    expect(call.headers.get("access-control-allow-origin")).toBe("http://app.example");
    const other = await fetch(`${gateway.url}/health`, { headers: { origin: "http://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).not.toBe("http://evil.example");
  });
});

describe("request body cap", () => {
  test("a body over 1 MiB (the default) is a 413 in OpenAI's shape", async () => {
    const { gateway, emulator } = await setup();
    const big = { model: MODEL, messages: [{ role: "user", content: "x".repeat(1024 * 1024) }] };
    const response = await post(gateway, "/v1/chat/completions", big);
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { type: "invalid_request_error", code: "request_too_large" } });
    expect(emulator.requests).toEqual([]);
  });

  test("--max-body-bytes, also for a chunked body without Content-Length", async () => {
    const { gateway } = await setup({}, { maxBodyBytes: 200 });
    const body = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "y".repeat(300) }] });
    const status = await new Promise<number>((resolve, reject) => {
      const outgoing = request(`${gateway.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" } }, (incoming) => {
        incoming.resume();
        resolve(incoming.statusCode ?? 0);
      });
      outgoing.on("error", reject);
      // Two writes without Content-Length: Node sends Transfer-Encoding: chunked.
      outgoing.write(body.slice(0, 100));
      outgoing.end(body.slice(100));
    });
    expect(status).toBe(413);
    expect((await post(gateway, "/v1/chat/completions", BODY)).status).toBe(200);
  });
});

describe("the gateway's Open-Assistant cookies", () => {
  test("are sent upstream instead of anything the caller sends, and never appear in an answer", async () => {
    const { gateway, emulator } = await setup({ faults: [] }, {});
    const replies = [
      await post(gateway, "/v1/chat/completions", BODY, { cookie: "next-auth.session-token=caller", authorization: "Bearer caller-key" }),
      await post(gateway, "/v1/chat/completions", { ...BODY, stream: true }),
      await post(gateway, "/v1/chat/completions", { ...BODY, model: "no-such-model" }),
      await fetch(`${gateway.url}/v1/models`),
    ];
    for (const reply of replies) {
      const text = await reply.text();
      expect(text).not.toContain(emulator.sessionToken);
      expect([...reply.headers.values()].join("\n")).not.toContain(emulator.sessionToken);
    }
    for (const upstream of emulator.requests) {
      expect(upstream.headers.cookie).toBe(emulator.cookie);
      expect(upstream.headers.authorization).toBeUndefined();
    }
  });

  test("are masked even when an upstream server quotes them in an error", () => {
    const secret = "s3cr3t-session-value";
    const error = new ServerError(`POST /api/chat failed (HTTP 400: bad cookie ${secret})`, { status: 400, serverMessage: `bad cookie ${secret}` });
    const answer = toGatewayError(error, [secret]);
    expect(answer.status).toBe(502);
    expect(JSON.stringify(answer.toBody())).not.toContain(secret);
  });
});
