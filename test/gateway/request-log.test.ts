import { describe, expect, test } from "vitest";
import { requestLogLine, serveGateway, type GatewayRequestLog } from "../../src/gateway/index.js";
import { MODEL, setup } from "./gateway-harness.js";

const KEY = "sk-test-0123456789abcdef";
const HELLO = { model: MODEL, messages: [{ role: "user" as const, content: "Hello" }] };

describe("onRequestLog", () => {
  test("one entry per request, refused ones too: method, path without its query, status, ms, chat id", async () => {
    const entries: GatewayRequestLog[] = [];
    const { gateway, openai } = await setup({}, { apiKey: KEY, onRequestLog: (entry) => entries.push(entry) });
    await openai({ apiKey: KEY }).chat.completions.create(HELLO);
    await fetch(`${gateway.url}/v1/models?api_key=${KEY}`);
    await fetch(`${gateway.url}/nowhere`);
    expect(entries.map(({ ms: _ms, chatId: _chatId, ...rest }) => rest)).toEqual([
      { method: "POST", path: "/v1/chat/completions", status: 200 },
      { method: "GET", path: "/v1/models", status: 401 },
      { method: "GET", path: "/nowhere", status: 404 },
    ]);
    expect(entries[0]?.chatId).toMatch(/^[\w-]+$/);
    expect(entries[1]?.chatId).toBeUndefined();
    expect(entries.every((entry) => Number.isInteger(entry.ms) && entry.ms >= 0)).toBe(true);
    expect(JSON.stringify(entries)).not.toContain(KEY);
    expect(requestLogLine({ method: "POST", path: "/v1/chat/completions", status: 200, ms: 12, chatId: "c1" })).toBe(
      "POST /v1/chat/completions 200 12 ms chat c1",
    );
  });

  test("a path with terminal controls is logged escaped; a log that throws does not fail the answer", async () => {
    expect(requestLogLine({ method: "GET", path: "/v1/\u001b]0;owned\u0007", status: 404, ms: 1, chatId: undefined })).toBe(
      "GET /v1/\\x1b]0;owned\\x07 404 1 ms",
    );
    const { gateway } = await setup(
      {},
      {
        onRequestLog: () => {
          throw new Error("log down");
        },
      },
    );
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args);
    try {
      expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
    } finally {
      console.error = original;
    }
    expect(String(errors[0])).toContain("log down");
  });
});

describe("checkUpstream", () => {
  test("a usable account: the site's models, no failure", async () => {
    const { gateway } = await setup();
    const check = await gateway.checkUpstream();
    expect(check.accounts).toBe(1);
    expect(check.models).toContain(MODEL);
    expect(check.failures).toEqual([]);
  });

  test("a refused cookie is a failure of that account, with its status, and never shows the cookie", async () => {
    const { emulator } = await setup();
    const gateway = await serveGateway({
      port: 0,
      baseUrl: emulator.url,
      sessions: [{ cookies: emulator.cookie }, { cookies: "next-auth.session-token=refused-cookie-value" }],
      maxRetries: 0,
      env: {},
    });
    try {
      const check = await gateway.checkUpstream();
      expect(check.accounts).toBe(2);
      expect(check.models).toContain(MODEL);
      expect(check.failures).toEqual([{ account: 2, code: "auth", status: 403, message: expect.stringContaining("HTTP 403") }]);
      expect(JSON.stringify(check)).not.toContain("refused-cookie-value");
    } finally {
      await gateway.close();
    }
  });

  test("a dead base URL is a connection failure; the gateway still answers /health", async () => {
    const gateway = await serveGateway({ port: 0, baseUrl: "http://127.0.0.1:9", cookies: "next-auth.session-token=x", maxRetries: 0, env: {} });
    try {
      const check = await gateway.checkUpstream();
      expect(check.failures).toMatchObject([{ account: 1, code: "connection", status: undefined }]);
      expect(check.models).toEqual([]);
      expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
    } finally {
      await gateway.close();
    }
  });
});
