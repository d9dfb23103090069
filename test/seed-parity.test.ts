/**
 * The original Python (gpt4free's algorithm with aiohttp) runs unchanged against
 * our local server and gets the same text as the TypeScript provider: a check
 * that the server is faithful to what real clients expect.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OpenAssistant } from "../src/index.js";
import { startEmulator, type Emulator } from "../src/emulator/index.js";

const SEED = resolve(import.meta.dirname, "../../shared/bench/seed_reference.py");
const PYTHON = "/usr/bin/python3";

function hasAiohttp(): boolean {
  try {
    execFileSync(PYTHON, ["-c", "import aiohttp"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const runnable = existsSync(SEED) && hasAiohttp();
if (!runnable) console.warn(`seed parity skipped: needs ${SEED} and Debian's python3-aiohttp`);

describe.skipIf(!runnable)("the seed's Python against the local server", () => {
  let server: Emulator;
  beforeAll(async () => {
    server = await startEmulator({ quiet: true, replyTokens: 64 });
  });
  afterAll(() => server.stop());

  it.each(["Hello, how are you?", "Schreib ein Gedicht über Käse 🧀", "x".repeat(300)])("gets the same text as the provider for %j", async (prompt) => {
    const { stdout, stderr } = await promisify(execFile)(PYTHON, [SEED, "--base-url", server.url, "--cookie", server.cookie, "--prompt", prompt], {
      env: { ...process.env, PYTHONIOENCODING: "utf-8" },
    });
    const python = stdout.replace(/\n$/, "");
    const ours = await OpenAssistant.createAsync("OA_SFT_Llama_30B_6", [{ role: "user", content: prompt }], {
      baseUrl: server.url,
      cookies: server.cookies,
      promptFormat: "gpt4free",
    });
    expect(python).toBe(ours);
    expect(python.length).toBeGreaterThan(0);
    expect(stderr).toMatch(/seed_reference: chats=1 tokens=64 /);
    expect(server.liveChats()).toBe(0);
  });
});
