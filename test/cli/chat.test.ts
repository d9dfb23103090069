/** `oasst chat` piped: child processes of the built binary against the emulator. */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Emulator } from "../../src/emulator/emulator.js";
import { prompterContent } from "../../src/provider/format-prompt.js";
import type { Messages } from "../../src/provider/provider-types.js";
import {
  assertBuilt,
  collect,
  eventually,
  makeTempHome,
  runCli,
  spawnCli,
  waitForOutput,
  type CliResult,
  type TempHome,
  emulatorPool,
  serverEnv,
} from "./cli-harness.js";

let home: TempHome;
const emulators = emulatorPool();
const emulator = emulators.start;

function replyTo(server: Emulator, messages: Messages, maxNewTokens?: number): string {
  return server.expectedReply(prompterContent(messages), { maxNewTokens });
}

/** The JSON body of the last request to `path`. */
function lastBody(server: Emulator, path: string): Record<string, unknown> {
  const request = server.requests.filter((r) => r.path === path).at(-1);
  if (!request) throw new Error(`no request to ${path}`);
  return JSON.parse(request.body) as Record<string, unknown>;
}

/** The two-line error: `error: <cause>` then `hint: <fix>`. */
function expectTwoLineError(result: CliResult, cause: RegExp): void {
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines.at(-2)).toMatch(/^error: /);
  expect(lines.at(-2)).toMatch(cause);
  expect(lines.at(-1)).toMatch(/^hint: \S/);
}

beforeAll(() => assertBuilt());
beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(async () => {
  await emulators.stopAll();
  await home.remove();
});

describe("oasst chat, one reply", () => {
  it("streams the reply to stdout, deletes the chat and prints nothing else when piped", async () => {
    const server = await emulator({ pendingEvents: 2 });
    const result = await runCli(["chat", "Hello there"], home, { env: serverEnv(server) });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toBe(`${replyTo(server, [{ role: "user", content: "Hello there" }])}\n`);
    expect(server.liveChats()).toBe(0);
  });

  it("joins several words into one prompt", async () => {
    const server = await emulator();
    const result = await runCli(["chat", "Hello", "there"], home, { env: serverEnv(server) });
    expect(result.stdout).toBe(`${replyTo(server, [{ role: "user", content: "Hello there" }])}\n`);
  });

  it("reads the prompt from stdin when there is no argument", async () => {
    const server = await emulator();
    const result = await runCli(["chat"], home, { env: serverEnv(server), input: "What is up?\n" });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${replyTo(server, [{ role: "user", content: "What is up?" }])}\n`);
  });

  it("sends --system as the first message, formatted as the seed does", async () => {
    const server = await emulator();
    const messages: Messages = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
    ];
    const result = await runCli(["chat", "--system", "Be brief.", "Hi"], home, { env: serverEnv(server) });
    expect(result.stdout).toBe(`${replyTo(server, messages)}\n`);
    expect(lastBody(server, "/api/chat/prompter_message").content).toBe(prompterContent(messages));
  });

  it("sends the model and the sampling flags; `none` sends null", async () => {
    const server = await emulator();
    const args = ["chat", "--model", "OA_SFT_Llama_30B_7", "--temperature", "0.5", "--top-k", "none", "--top-p", "0.9"];
    args.push("--typical-p", "0.3", "--repetition-penalty", "1.3", "--max-new-tokens", "3", "Hi");
    const result = await runCli(args, home, { env: serverEnv(server) });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${replyTo(server, [{ role: "user", content: "Hi" }], 3)}\n`);
    const body = lastBody(server, "/api/chat/assistant_message");
    expect(body.model_config_name).toBe("OA_SFT_Llama_30B_7");
    expect(body.sampling_parameters).toEqual({ top_k: null, top_p: 0.9, typical_p: 0.3, temperature: 0.5, repetition_penalty: 1.3, max_new_tokens: 3 });
  });

  it("prints the final message when the server sends no token", async () => {
    const server = await emulator({ faults: ["message-only"] });
    const result = await runCli(["chat", "Hi"], home, { env: serverEnv(server) });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${replyTo(server, [{ role: "user", content: "Hi" }])}\n`);
  });
});

describe("oasst chat --json", () => {
  it("writes one JSON object a line: pending, token, message", async () => {
    const server = await emulator({ pendingEvents: 2 });
    const result = await runCli(["chat", "--json", "Hi"], home, { env: serverEnv(server) });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const lines = result.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; [key: string]: unknown });
    expect(lines.slice(0, 2)).toEqual([
      { type: "pending", queue_position: 2, queue_size: 2 },
      { type: "pending", queue_position: 1, queue_size: 2 },
    ]);
    const expected = replyTo(server, [{ role: "user", content: "Hi" }]);
    const tokens = lines.filter((line) => line.type === "token");
    expect(tokens.map((line) => line.text).join("")).toBe(expected);
    expect(lines.at(-1)).toMatchObject({ type: "message", message: { role: "assistant", state: "complete", content: expected } });
    expect(new Set(lines.map((line) => line.type))).toEqual(new Set(["pending", "token", "message"]));
  });

  it("ends with an error line, and still explains on stderr", async () => {
    const server = await emulator({ faults: ["error-event"] });
    const result = await runCli(["chat", "--json", "Hi"], home, { env: serverEnv(server) });
    expect(result.code).toBe(4);
    const last = JSON.parse(result.stdout.trimEnd().split("\n").at(-1) ?? "") as Record<string, unknown>;
    expect(last).toMatchObject({ type: "error", code: "stream", message: expect.stringContaining("Aborted due to worker error."), status: null });
    expect(last.hint).toEqual(expect.any(String));
    expectTwoLineError(result, /Aborted due to worker error/);
    expect(server.liveChats()).toBe(0);
  });
});

describe("oasst chat exit statuses", () => {
  it("2 for a refused session, with the cause and the fix and no cookie value", async () => {
    const server = await emulator({ faults: ["auth"] });
    const result = await runCli(["chat", "--json", "Hi"], home, { env: serverEnv(server) });
    expect(result.code).toBe(2);
    expectTwoLineError(result, /HTTP 403/);
    expect(JSON.parse(result.stdout)).toMatchObject({ type: "error", code: "auth", status: 403 });
    expect(result.stdout + result.stderr).not.toContain(server.sessionToken);
  });

  it("2 when no cookies are found anywhere, naming the places looked at", async () => {
    const server = await emulator();
    const result = await runCli(["chat", "--json", "Hi"], home, { env: { OASST_BASE_URL: server.url } });
    expect(result.code).toBe(2);
    expectTwoLineError(result, /No cookies for 127\.0\.0\.1 were found \(looked at .*OASST_COOKIES: not set/);
    expect(JSON.parse(result.stdout)).toMatchObject({ type: "error", code: "auth", message: expect.stringContaining("No cookies for 127.0.0.1") });
    expect(server.requests).toHaveLength(0);
  });

  it("3 when the server stays busy", async () => {
    const server = await emulator({ faults: ["busy"] });
    const result = await runCli(["chat", "Hi"], home, { env: serverEnv(server) });
    expect(result.code).toBe(3);
    expectTwoLineError(result, /busy \(HTTP 503/);
    expect(server.liveChats()).toBe(0);
  });

  it("4 when the stream breaks, after the text that arrived", async () => {
    const server = await emulator({ faults: ["drop"] });
    const result = await runCli(["chat", "Hi"], home, { env: serverEnv(server) });
    expect(result.code).toBe(4);
    expect(result.stdout.length).toBeGreaterThan(0);
    expect(replyTo(server, [{ role: "user", content: "Hi" }]).startsWith(result.stdout.trimEnd())).toBe(true);
    expectTwoLineError(result, /.+/);
  });

  it("5 when the server cannot be reached", async () => {
    const server = await emulator();
    const url = server.url;
    await server.stop();
    const result = await runCli(["chat", "Hi"], home, { env: { OASST_BASE_URL: url, OASST_COOKIES: server.cookie } });
    expect(result.code).toBe(5);
    expectTwoLineError(result, /could not reach/);
  });

  it("1 for a model the server does not have, listing the ones it has", async () => {
    const server = await emulator({ models: ["OA_SFT_Llama_30B_6", "_lorem"] });
    const result = await runCli(["chat", "--model", "nope", "Hi"], home, { env: serverEnv(server) });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^hint: Use one of: (_lorem, OA_SFT_Llama_30B_6|OA_SFT_Llama_30B_6, _lorem)\.$/m);
  });

  it.each([
    [["--temperature", "warm"], /--temperature must be a number, not "warm"/],
    [["--top-k", "2.5"], /--top-k must be a whole number at least 0, not 2\.5/],
    [["--max-new-tokens", "none"], /--max-new-tokens must be a number, not "none"/],
    [["--timeout", "-5"], /--timeout must be a positive duration, not "-5"/],
    [["--timeout", "soon"], /--timeout must be a duration, not "soon"/],
  ])("1 for an invalid flag value %j, with the cause and the fix", async (flags, cause) => {
    const server = await emulator();
    const result = await runCli(["chat", ...flags, "Hi"], home, { env: serverEnv(server) });
    expect(result.code).toBe(1);
    expectTwoLineError(result, cause);
    expect(server.requests).toHaveLength(0);
  });

  it("1 for an unknown flag or browser, with a pointer to --help", async () => {
    const unknown = await runCli(["chat", "--temprature", "1", "Hi"], home);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("error: unknown option '--temprature'");
    expect(unknown.stderr).toContain("oasst chat --help");
    const browser = await runCli(["chat", "--browser", "netscape", "Hi"], home);
    expect(browser.code).toBe(1);
    expect(browser.stderr).toMatch(/Allowed choices are firefox, chrome/);
  });

  it("1 for an empty prompt on stdin", async () => {
    const server = await emulator();
    const result = await runCli(["chat"], home, { env: serverEnv(server), input: "  \n" });
    expect(result.code).toBe(1);
    expectTwoLineError(result, /The prompt read from stdin is empty/);
  });

  /** A reply of about a second: stopped in its middle, the server finishes it anyway, and only then is the chat deleted. */
  const SLOW_REPLY = { replyTokens: 40, tokenDelayMs: 25 };
  /** The line the provider's `reply_still_running` warning makes on stderr. */
  const waitingLine = (server: Emulator) => {
    const chatId = server.requests.find((r) => r.path === "/api/chat/events")!.query.chat_id!;
    return `warning: Waiting for the server to finish the reply before deleting chat ${chatId}: Open-Assistant aborts other replies when a chat is deleted while its reply runs.`;
  };
  /** The chat's delete came last, after the message's state was read (the reply had finished). */
  function expectDeletedAfterTheReplyEnded(server: Emulator): void {
    expect(server.liveChats()).toBe(0);
    const calls = server.requests.map((r) => `${r.method} ${r.path}`);
    expect(calls.at(-1)).toBe("DELETE /api/chat");
    expect(calls.at(-2)).toBe("GET /api/chat/message");
  }

  it.each(["SIGINT", "SIGTERM", "SIGHUP"] as const)(
    "130 on %s during the reply, and the chat is deleted once the server finished the reply",
    async (signal) => {
      const server = await emulator(SLOW_REPLY);
      const child = spawnCli(["chat", "Hi"], home, { env: serverEnv(server) });
      const result = collect(child);
      child.stdin.end();
      await waitForOutput(child, " ");
      await eventually(() => server.liveChats() === 1, "the chat to exist");
      child.kill(signal);
      const done = await result;
      expect(done.code).toBe(130);
      expect(done.stderr.split("\n")).toEqual([waitingLine(server), `error: Interrupted by ${signal}: the reply was stopped`, ""]);
      expectDeletedAfterTheReplyEnded(server);
    },
  );

  it("stops the reply when the reader goes away (| head), with only the waiting line on stderr, deleting the chat once the reply ended", async () => {
    const server = await emulator(SLOW_REPLY);
    const child = spawnCli(["chat", "Hi"], home, { env: serverEnv(server) });
    const result = collect(child);
    child.stdin.end();
    await waitForOutput(child, " ");
    child.stdout.destroy();
    const done = await result;
    expect(done.code).toBe(0);
    expect(done.stderr).toBe(`${waitingLine(server)}\n`);
    expectDeletedAfterTheReplyEnded(server);
  });
});

describe("oasst chat --verbose", () => {
  it("prints the request trail and the settings, cookie names but never values", async () => {
    const server = await emulator({ sessionToken: "tok-0123456789-secret" });
    const result = await runCli(["chat", "--verbose", "Hi"], home, { env: serverEnv(server) });
    expect(result.code).toBe(0);
    const trail = result.stderr;
    expect(trail).toContain(`[oasst] base URL: ${server.url}/ (from OASST_BASE_URL)`);
    expect(trail).toContain(`[oasst] cookies: ${server.cookieName} (from OASST_COOKIES)`);
    expect(trail).toMatch(/\[oasst\] POST http:\/\/127\.0\.0\.1:\d+\/api\/chat → 200 \(\d+ ms\)/);
    expect(trail).toMatch(/\[oasst\] POST http:\/\/127\.0\.0\.1:\d+\/api\/chat\/events\?chat_id=.* → 200/);
    expect(trail).toMatch(/\[oasst\] DELETE http:\/\/127\.0\.0\.1:\d+\/api\/chat\?chat_id=.* → 200/);
    expect(trail + result.stdout).not.toContain("tok-0123456789-secret");
  });

  it("redacts the password of the base URL and of the proxy", async () => {
    const result = await runCli(["chat", "--verbose", "--proxy", "http://user:pr0xy-pass@127.0.0.1:9", "Hi"], home, {
      env: { OASST_BASE_URL: "http://admin:base-pass@127.0.0.1:9", OASST_COOKIES: "session=abcdef123456" },
    });
    // The site authenticates with its cookie: user:password in the base URL is refused (usage), masked.
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("carries a user name or password");
    expect(result.stderr).toContain("[oasst] proxy: http://user:***@127.0.0.1:9/ (from --proxy)");
    expect(result.stderr).toContain("[oasst] base URL: http://admin:***@127.0.0.1:9/");
    expect(result.stderr).toContain("[oasst] cookies: session (from OASST_COOKIES)");
    for (const secret of ["pr0xy-pass", "base-pass", "abcdef123456"]) expect(result.stderr).not.toContain(secret);
  });
});
