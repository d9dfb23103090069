import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { AuthError } from "../../src/errors.js";
import { createGateway, serveGateway } from "../../src/gateway/index.js";
import { MODEL } from "./gateway-harness.js";

/** A HOME and a cookies directory with nothing in them: no cookie source has a session. */
let empty: string;
let emulator: Emulator;
beforeEach(async () => {
  empty = mkdtempSync(join(tmpdir(), "oasst-gateway-no-cookies-"));
  vi.stubEnv("HOME", empty);
  emulator = await startEmulator({ quiet: true });
});
afterEach(async () => {
  vi.unstubAllEnvs();
  rmSync(empty, { recursive: true, force: true });
  await emulator.stop();
});

const chat = { model: MODEL, messages: [{ role: "user", content: "Hello" }] };

describe("the gateway's session cookies", () => {
  test("serveGateway without any refuses to start, naming where it looked and what to do", async () => {
    const error = await serveGateway({ port: 0, baseUrl: emulator.url, env: { HOME: empty }, cookiesDir: empty }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).message).toContain(empty);
    expect((error as AuthError).hint).toMatch(/OASST_COOKIES/);
  });

  test("serveGateway finds them in the cookie sources at start-up (a cookies.txt here)", async () => {
    writeFileSync(join(empty, "cookies.txt"), `# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\t${emulator.cookieName}\t${emulator.sessionToken}\n`);
    const gateway = await serveGateway({ port: 0, baseUrl: emulator.url, env: { HOME: empty }, cookiesDir: empty });
    try {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(chat),
      });
      expect(response.status).toBe(200);
      expect(emulator.requests.every((request) => request.headers.cookie === emulator.cookie)).toBe(true);
    } finally {
      await gateway.close();
    }
  });

  test("createGateway without any answers each call with a 401 that says how to give them", async () => {
    const app = createGateway({ baseUrl: emulator.url, env: { HOME: empty }, cookiesDir: empty });
    const response = await app.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(chat) });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { type: "authentication_error", message: expect.stringMatching(/OASST_COOKIES/) } });
    expect((await app.request("/v1/models")).status).toBe(401);
  });
});
