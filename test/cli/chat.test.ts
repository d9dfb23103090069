/** `oasst chat` piped: child processes of the built binary against the emulator. */
import { beforeAll, describe, expect } from "vitest";
import type { Emulator } from "../../src/emulator/emulator.js";
import { prompterContent } from "../../src/provider/format-prompt.js";
import type { Messages } from "../../src/provider/provider-types.js";
import { assertBuilt, cliTest as it, collect, eventually, runCli, spawnCli, waitForOutput, type CliResult, serverEnv } from "./cli-harness.js";

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

// The tests run at once (describe.concurrent), each with its own home and emulators (cliTest's fixtures).
beforeAll(() => assertBuilt());

describe.concurrent("oasst chat, one reply", () => {
  it("streams the reply to stdout, deletes the chat and prints nothing else when piped", async ({ home, emulator }) => {
    const server = await emulator({ pendingEvents: 2 });
    const result = await runCli(["chat", "Hello there"], home, { env: serverEnv(server) });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toBe(`${replyTo(server, [{ role: "user", content: "Hello there" }])}\n`);
    expect(server.liveChats()).toBe(0);
  });

  it("joins several words into one prompt", async ({ home, emulator }) => {
    const server = await emulator();
    const result = await runCli(["chat", "Hello", "there"], home, { env: serverEnv(server) });
    expect(result.stdout).toBe(`${replyTo(server, [{ role: "user", content: "Hello there" }])}\n`);
  });

  it("reads the prompt from stdin when there is no argument", async ({ home, emulator }) => {
    const server = await emulator();
    const result = await runCli(["chat"], home, { env: serverEnv(server), input: "What is up?\n" });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${replyTo(server, [{ role: "user", content: "What is up?" }])}\n`);
  });

  it("sends --system as the first message, formatted as the seed does", async ({ home, emulator }) => {
    const server = await emulator();
    const messages: Messages = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
    ];
    const result = await runCli(["chat", "--system", "Be brief.", "Hi"], home, { env: serverEnv(server) });
    expect(result.stdout).toBe(`${replyTo(server, messages)}\n`);
    expect(lastBody(server, "/api/chat/prompter_message").content).toBe(prompterContent(messages));
  });

  it("sends the model and the sampling flags; `none` sends null", async ({ home, emulator }) => {
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

  it("prints the final message when the server sends no token", async ({ home, emulator }) => {
    const server = await emulator({ faults: ["message-only"] });
    const result = await runCli(["chat", "Hi"], home, { env: serverEnv(server) });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${replyTo(server, [{ role: "user", content: "Hi" }])}\n`);
  });
});

describe.concurrent("oasst chat --json", () => {
  it("writes one JSON object a line: pending, token, message", async ({ home, emulator }) => {
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

  it("ends with an error line, and still explains on stderr", async ({ home, emulator }) => {
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

describe.concurrent("oasst chat exit statuses", () => {
  it("2 for a refused session, with the cause and the fix and no cookie value", async ({ home, emulator }) => {
    const server = await emulator({ faults: ["auth"] });
    const result = await runCli(["chat", "--json", "Hi"], home, { env: serverEnv(server) });
    expect(result.code).toBe(2);
    expectTwoLineError(result, /HTTP 403/);
    expect(JSON.parse(result.stdout)).toMatchObject({ type: "error", code: "auth", status: 403 });
    expect(result.stdout + result.stderr).not.toContain(server.sessionToken);
  });

  it("2 when no cookies are found anywhere: the cause, each place on its own line, then the fix in flags", async ({ home, emulator }) => {
    const server = await emulator();
    const result = await runCli(["chat", "--json", "Hi"], home, { env: { OASST_BASE_URL: server.url } });
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe("error: No cookies for 127.0.0.1 were found. Looked at:");
    expect(lines[1]).toBe("  OASST_COOKIES: not set");
    expect(lines).toContain("  Firefox, Chrome, Chromium, Brave, Edge, Vivaldi, Opera: no profile found");
    expect(lines.at(-2)).toBe(
      `hint: Pass the session cookie of ${server.url}/ (next-auth.session-token=…) with --cookie, --cookies-file FILE or OASST_COOKIES, or --browser/--profile where you are logged in.`,
    );
    expect(lines.at(-1)).toBe("      To try oasst locally: run `oasst emulate` in another terminal and paste the lines it prints.");
    for (const line of lines.slice(0, -2)) expect(line.length).toBeLessThanOrEqual(162);
    expect(result.stderr).not.toContain("cookies option");
    expect(JSON.parse(result.stdout)).toMatchObject({ type: "error", code: "auth", message: expect.stringContaining("No cookies for 127.0.0.1") });
    expect(server.requests).toHaveLength(0);
  });

  it('2 for `oasst chat "Hello"` with no setup: open-assistant.io closed its chat, so the hint names --base-url and oasst emulate', async ({ home }) => {
    const result = await runCli(["chat", "Hello"], home);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: No cookies for open-assistant\.io were found\. Looked at:\n/);
    expect(result.stderr).toContain(
      "\nhint: open-assistant.io closed its chat in 2023: pass your own Open-Assistant site with --base-url URL and its session cookie with --cookie, --cookies-file FILE or OASST_COOKIES.\n",
    );
    expect(result.stderr).toContain("`oasst emulate`");
    expect(result.stderr).not.toMatch(/Log in to https:\/\/open-assistant\.io/);
    expect(result.stderr.split("\n").length).toBeLessThanOrEqual(10);
  });

  it("2 for a refused cookie: the hint names the cookie the http site expects and the flags, not a closed site", async ({ home, emulator }) => {
    const server = await emulator();
    const result = await runCli(["chat", "Hi"], home, { env: { OASST_BASE_URL: server.url, OASST_COOKIES: "next-auth.session-token=stale" } });
    expect(result.code).toBe(2);
    expectTwoLineError(result, /HTTP 403/);
    expect(result.stderr).toContain(
      `hint: Pass a current session cookie of ${server.url}/ (next-auth.session-token=…) with --cookie, --cookies-file FILE or OASST_COOKIES (\`oasst emulate\` prints its own).\n`,
    );
    expect(result.stderr).not.toContain("__Secure-");
  });

  it("4 for a base URL that ends in /api: the hint says the site root, and shows the URL used", async ({ home, emulator }) => {
    const server = await emulator();
    const result = await runCli(["chat", "Hi"], home, { env: { ...serverEnv(server), OASST_BASE_URL: `${server.url}/api` } });
    expect(result.code).toBe(4);
    expectTwoLineError(result, /HTTP 404/);
    expect(result.stderr).toContain(
      `hint: Check the base URL: it must be the Open-Assistant site's root, without /api (the request went to ${server.url}/api/api/chat).\n`,
    );
  });

  it("--verbose says there is no config file instead of naming one that does not exist", async ({ home, emulator }) => {
    const server = await emulator();
    const result = await runCli(["chat", "--verbose", "Hi"], home, { env: serverEnv(server) });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`[oasst] config file: (none; ${home.configDir}/oasst/config.json does not exist)\n`);
  });

  it("3 when the server stays busy", async ({ home, emulator }) => {
    const server = await emulator({ faults: ["busy"] });
    const result = await runCli(["chat", "Hi"], home, { env: serverEnv(server) });
    expect(result.code).toBe(3);
    expectTwoLineError(result, /busy \(HTTP 503/);
    expect(server.liveChats()).toBe(0);
  });

  it("4 when the stream breaks, after the text that arrived", async ({ home, emulator }) => {
    const server = await emulator({ faults: ["drop"] });
    const result = await runCli(["chat", "Hi"], home, { env: serverEnv(server) });
    expect(result.code).toBe(4);
    expect(result.stdout.length).toBeGreaterThan(0);
    expect(replyTo(server, [{ role: "user", content: "Hi" }]).startsWith(result.stdout.trimEnd())).toBe(true);
    expectTwoLineError(result, /.+/);
  });

  it("5 when the server cannot be reached", async ({ home, emulator }) => {
    const server = await emulator();
    const url = server.url;
    await server.stop();
    const result = await runCli(["chat", "Hi"], home, { env: { OASST_BASE_URL: url, OASST_COOKIES: server.cookie } });
    expect(result.code).toBe(5);
    expectTwoLineError(result, /could not reach/);
  });

  it("1 for a model the server does not have, listing the ones it has", async ({ home, emulator }) => {
    const server = await emulator({ models: ["OA_SFT_Llama_30B_6", "_lorem"] });
    const result = await runCli(["chat", "--model", "nope", "Hi"], home, { env: serverEnv(server) });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^hint: Use one of: (_lorem, OA_SFT_Llama_30B_6|OA_SFT_Llama_30B_6, _lorem)\.$/m);
  });

  const INVALID_FLAGS: Array<[string[], RegExp]> = [
    [["--temperature", "warm"], /--temperature must be a number, not "warm"/],
    [["--top-k", "2.5"], /--top-k must be a whole number at least 0, not 2\.5/],
    [["--max-new-tokens", "none"], /--max-new-tokens must be a number, not "none"/],
    [["--timeout", "-5"], /--timeout must be a positive duration, not "-5"/],
    [["--timeout", "soon"], /--timeout must be a duration, not "soon"/],
  ];
  for (const [flags, cause] of INVALID_FLAGS) {
    it(`1 for an invalid flag value ${JSON.stringify(flags)}, with the cause and the fix`, async ({ home, emulator }) => {
      const server = await emulator();
      const result = await runCli(["chat", ...flags, "Hi"], home, { env: serverEnv(server) });
      expect(result.code).toBe(1);
      expectTwoLineError(result, cause);
      expect(server.requests).toHaveLength(0);
    });
  }

  it("1 for an unknown flag or browser, with a pointer to --help", async ({ home }) => {
    const unknown = await runCli(["chat", "--temprature", "1", "Hi"], home);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("error: unknown option '--temprature'");
    expect(unknown.stderr).toContain("oasst chat --help");
    const browser = await runCli(["chat", "--browser", "netscape", "Hi"], home);
    expect(browser.code).toBe(1);
    expect(browser.stderr).toMatch(/Allowed choices are firefox, chrome/);
  });

  it("1 for an empty prompt on stdin", async ({ home, emulator }) => {
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

  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    it(`130 on ${signal} during the reply, and the chat is deleted once the server finished the reply`, async ({ home, emulator }) => {
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
    });
  }

  it("stops the reply when the reader goes away (| head), with only the waiting line on stderr, deleting the chat once the reply ended", async ({
    home,
    emulator,
  }) => {
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

describe.concurrent("oasst chat --verbose", () => {
  it("prints the request trail and the settings, cookie names but never values", async ({ home, emulator }) => {
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

  it("redacts the password of the base URL and of the proxy", async ({ home }) => {
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
