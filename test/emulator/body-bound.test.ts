/**
 * The emulator's request log is bounded: only requests with a session of the server are
 * recorded, the last `recordRequests` of them, each body cut to 8 KiB characters. Whoever
 * reaches the port cannot grow the server's memory by posting large bodies.
 */
import { describe, expect, it } from "vitest";
import { startEmulator } from "../../src/emulator/emulator.js";
import { ConfigError } from "../../src/errors.js";
import { emulator, http } from "./helpers.js";

const JSON_TYPE = { "content-type": "application/json" };

describe("the emulator's request log", () => {
  it("records no request without a valid session, whatever its body; each still gets its answer", async () => {
    const server = await emulator();
    const big = JSON.stringify({ content: "x".repeat(1000 * 1000) }); // under the 1 MB limit
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        http(server, "POST", "/api/chat/prompter_message", {
          cookie: false,
          headers: { ...JSON_TYPE, ...(i % 2 ? { cookie: `${server.cookieName}=not-the-token` } : {}) },
          body: big,
        }),
      ),
    );
    expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([403]));
    const over = await http(server, "POST", "/api/chat", { cookie: false, headers: JSON_TYPE, body: "x".repeat(2 * 1024 * 1024) });
    expect([over.status, over.text]).toEqual([413, "Body exceeded 1mb limit"]);
    expect(server.requests).toEqual([]);
  });

  it("keeps the first 8 KiB characters of a body", async () => {
    const server = await emulator();
    const body = JSON.stringify({ chat_id: "c", parent_id: null, content: "é".repeat(20_000) });
    await http(server, "POST", "/api/chat/prompter_message", { headers: JSON_TYPE, body });
    const over = await http(server, "POST", "/api/chat", { headers: JSON_TYPE, body: "y".repeat(2 * 1024 * 1024) });
    expect(over.status).toBe(413);
    expect(server.requests.map((request) => request.body)).toEqual([body.slice(0, 8192), "y".repeat(8192)]);
  });

  it("keeps the last `recordRequests` requests; 0 keeps none", async () => {
    const server = await emulator({ recordRequests: 3 });
    for (let i = 0; i < 5; i++) await http(server, "GET", `/api/chat?n=${i}`);
    expect(server.requests.map((request) => request.query.n)).toEqual(["2", "3", "4"]);
    const silent = await emulator({ recordRequests: 0 });
    await http(silent, "GET", "/api/chat");
    expect(silent.requests).toEqual([]);
  });

  it("records a valid session's request even when a fault refuses it", async () => {
    const server = await emulator({ faults: ["auth"] });
    expect((await http(server, "GET", "/api/chat")).status).toBe(403);
    expect(server.requests.map((request) => request.path)).toEqual(["/api/chat"]);
  });

  it("refuses a `recordRequests` that is not a whole number from 0", async () => {
    await expect(startEmulator({ quiet: true, recordRequests: -1 })).rejects.toBeInstanceOf(ConfigError);
    await expect(startEmulator({ quiet: true, recordRequests: 1.5 })).rejects.toBeInstanceOf(ConfigError);
  });
});
