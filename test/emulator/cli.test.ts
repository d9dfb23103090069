import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

/** `npm test` builds first (pretest); locally, run `npm run build` before this file. */
const CLI = resolve(import.meta.dirname, "../../dist/cli/main.js");

/** A config dir of this file's own: the emulator saves its session token there. */
const CONFIG_HOME = mkdtempSync(join(tmpdir(), "oasst-emulate-test-"));
afterAll(() => rmSync(CONFIG_HOME, { recursive: true, force: true }));

function launch(...args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [CLI, ...args], { stdio: "pipe", env: { ...process.env, XDG_CONFIG_HOME: CONFIG_HOME, APPDATA: CONFIG_HOME } });
}

function exited(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (data: Buffer) => (stdout += data.toString()));
  child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
  return new Promise((done) => child.on("close", (code) => done({ code, stdout, stderr })));
}

/** Resolves with stdout once both export lines are printed. */
function printedSettings(child: ChildProcessWithoutNullStreams): Promise<{ baseUrl: string; cookie: string }> {
  return new Promise((done, fail) => {
    let stdout = "";
    child.stdout.on("data", (data: Buffer) => {
      stdout += data.toString();
      const baseUrl = /^export OASST_BASE_URL=(\S+)$/m.exec(stdout)?.[1];
      const cookie = /^export OASST_COOKIES='([^']+)'$/m.exec(stdout)?.[1];
      if (baseUrl && cookie) done({ baseUrl, cookie });
    });
    child.on("close", (code) => fail(new Error(`exited with ${code} before printing its URL`)));
  });
}

describe.skipIf(!existsSync(CLI))("oasst emulate (the built CLI)", () => {
  it("prints the URL and cookie, serves requests, and exits 0 on SIGINT", async () => {
    const child = launch("emulate", "--port", "0", "--reply-tokens", "5");
    const result = exited(child);
    const { baseUrl, cookie } = await printedSettings(child);
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(cookie).toMatch(/^next-auth\.session-token=[A-Za-z0-9_-]{43}$/);
    const models = await fetch(`${baseUrl}/api/chat/models`, { headers: { cookie } });
    expect(models.status).toBe(200);
    expect((await fetch(`${baseUrl}/api/chat/models`)).status).toBe(403);
    child.kill("SIGINT");
    const { code, stderr } = await result;
    expect(code).toBe(0);
    expect(stderr).toContain("GET /api/chat/models 200");
  });

  it("keeps its session across restarts (saved with mode 0600), and prints a ready-to-paste oasst chat line", async () => {
    const first = launch("emulate", "--port", "0");
    const firstResult = exited(first);
    const { baseUrl, cookie } = await printedSettings(first);
    first.kill("SIGINT");
    const { stderr } = await firstResult;
    expect(stderr).toContain(`In a shell with the lines above: oasst chat --base-url ${baseUrl} "Hello"\n`);
    const saved = join(CONFIG_HOME, "oasst", "emulator-session");
    if (process.platform !== "win32") expect(statSync(saved).mode & 0o777).toBe(0o600);

    const second = launch("emulate", "--port", "0", "--quiet");
    const secondResult = exited(second);
    const restarted = await printedSettings(second);
    expect(restarted.cookie).toBe(cookie);
    expect((await fetch(`${restarted.baseUrl}/api/chat/models`, { headers: { cookie } })).status).toBe(200);
    second.kill("SIGINT");
    expect((await secondResult).code).toBe(0);
  });

  it("stops on SIGTERM with an open stream", async () => {
    const child = launch("emulate", "--fault", "hang", "--quiet", "--secure-cookie", "--session-token", "fixed-token");
    const result = exited(child);
    const { baseUrl, cookie } = await printedSettings(child);
    expect(cookie).toBe("__Secure-next-auth.session-token=fixed-token");
    const created = (await (await fetch(`${baseUrl}/api/chat`, { method: "POST", headers: { cookie } })).json()) as { id: string };
    void fetch(`${baseUrl}/api/chat/events?chat_id=${created.id}&message_id=x`, { headers: { cookie } }).catch(() => undefined);
    child.kill("SIGTERM");
    const { code, stderr } = await result;
    expect(code).toBe(0);
    expect(stderr).toBe("");
  });

  it.each([
    [["--port", "abc"], /--port <n>.*'abc' is invalid\. Expected a whole number from 0 to 65535/],
    [["--reply-tokens", "-3"], /'-3' is invalid/],
    [["--fault", "nope"], /'nope' is invalid\. Unknown fault\. Use one of: auth, rate-limit/],
    [["--model", "gpt-4"], /Unknown model config name\. Use one of: _lorem/],
    [["--frobnicate"], /unknown option '--frobnicate'/],
  ])("rejects %j with one line and exit code 1", async (args, message) => {
    const { code, stdout, stderr } = await exited(launch("emulate", ...args));
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(message);
  });

  it("--sessions prints every user's cookie; --connection-close reaches the server", async () => {
    const child = launch("emulate", "--port", "0", "--quiet", "--sessions", "3", "--connection-close", "--no-rate-limit");
    let printed = "";
    child.stdout.on("data", (data: Buffer) => (printed += data.toString()));
    const result = exited(child);
    const { baseUrl } = await printedSettings(child);
    await expect.poll(() => (printed.match(/^export OASST_COOKIES/gm) ?? []).length).toBe(3);
    const cookies = [...printed.matchAll(/^export OASST_COOKIES(?:_(\d))?='([^']+)'$/gm)].map((match): [string, string] => [match[1] ?? "1", match[2]!]);
    expect(cookies.map(([user]) => user)).toEqual(["1", "2", "3"]);
    expect(new Set(cookies.map(([, cookie]) => cookie)).size).toBe(3);
    for (const [, cookie] of cookies) {
      const response = await fetch(`${baseUrl}/api/chat`, { headers: { cookie } });
      await response.text();
      expect([response.status, response.headers.get("connection")]).toEqual([200, "close"]);
    }
    child.kill("SIGTERM");
    expect((await result).code).toBe(0);
  });

  it("warns on stderr when binding a non-loopback address", async () => {
    const child = launch("emulate", "--host", "0.0.0.0", "--quiet");
    const result = exited(child);
    await printedSettings(child);
    child.kill("SIGINT");
    const { code, stderr } = await result;
    expect(code).toBe(0);
    expect(stderr).toMatch(/^warning: binding 0\.0\.0\.0 makes the emulator reachable from other machines/);
  });

  it("reports a port in use as one line with the fix", async () => {
    const first = launch("emulate", "--quiet");
    const firstResult = exited(first);
    const { baseUrl } = await printedSettings(first);
    const port = new URL(baseUrl).port;
    const { code, stderr } = await exited(launch("emulate", "--port", port));
    expect(code).toBe(1);
    expect(stderr).toBe(`error: port ${port} on 127.0.0.1 is in use. Pick another --port, or --port 0 for a free one.\n`);
    first.kill("SIGINT");
    expect((await firstResult).code).toBe(0);
  });

  it("shows --help with examples and the fault list, and --version", async () => {
    const help = await exited(launch("emulate", "--help"));
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Examples:");
    expect(help.stdout).toMatch(/^ {2}oversized-line {2}/m);
    const version = await exited(launch("--version"));
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
