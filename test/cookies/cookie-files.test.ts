/** Cookie files: Netscape cookies.txt, JSON exports and HAR, told apart by content, in the cookies folder or given by path. */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import { findCookies, getCookies } from "../../src/cookies/index.js";
import { FIXTURES, isolated, SESSION, tempDir } from "./helpers.js";

const HOST = "open-assistant.io";
const fixture = (name: string) => join(FIXTURES, "files", name);

/** A cookies folder holding copies of the named fixture files. */
function cookiesDirWith(...names: string[]): string {
  const dir = tempDir();
  for (const name of names) copyFileSync(fixture(name), join(dir, name));
  return dir;
}

const filesOnly = (extra: object) => ({ ...isolated(tempDir()), source: "files" as const, ...extra });

describe("Netscape cookies.txt", () => {
  it("reads #HttpOnly_ lines and domain cookies, and leaves out expired cookies, other hosts and subdomains' host-only cookies", async () => {
    const cookies = await getCookies(HOST, filesOnly({ cookiesFile: fixture("cookies.txt") }));
    expect(cookies).toEqual({
      [SESSION]: "netscape-session-value",
      "netscape-domain-cookie": "domain=value=with=equals",
      "netscape-session-only": "no-expiry",
    });
  });

  it("gives a subdomain its own host-only cookies and the parent's domain cookies", async () => {
    const cookies = await getCookies(`chat.${HOST}`, filesOnly({ cookiesFile: fixture("cookies.txt") }));
    expect(cookies).toEqual({ "netscape-domain-cookie": "domain=value=with=equals", "netscape-chat-host-only": "chat" });
  });

  it("reports expiry dates, and none for session cookies (expiry 0)", async () => {
    const report = await findCookies(HOST, filesOnly({ cookiesFile: fixture("cookies.txt") }));
    expect(report.cookies.map((c) => [c.name, c.expires?.toISOString() ?? null])).toEqual([
      [SESSION, "2100-01-01T00:00:00.000Z"],
      ["netscape-domain-cookie", "2100-01-01T00:00:00.000Z"],
      ["netscape-session-only", null],
    ]);
    expect(report.cookies[0]?.source).toBe(`cookies file ${fixture("cookies.txt")}`);
  });
});

describe("JSON exports", () => {
  it("reads Cookie-Editor's array: hostOnly, fractional expirationDate, session cookies; skips expired and other sites", async () => {
    const report = await findCookies(HOST, filesOnly({ cookiesFile: fixture("cookie-editor.json") }));
    expect(report.cookies.map((c) => [c.name, c.value, c.expires?.toISOString() ?? null])).toEqual([
      [SESSION, "json-session-value", "2100-01-01T00:00:00.500Z"],
      ["json-domain-cookie", "json-domain-value", null],
    ]);
    expect(report.searched[0]?.result).toBe(`2 cookies for ${HOST}: ${SESSION}, json-domain-cookie (JSON export)`);
  });

  it("treats hostOnly: false as a domain cookie even without the leading dot", async () => {
    const cookies = await getCookies(`chat.${HOST}`, filesOnly({ cookiesFile: fixture("cookie-editor.json") }));
    expect(cookies).toEqual({ "json-domain-cookie": "json-domain-value" });
  });

  it("reads Playwright's storage state (expires -1: a session cookie)", async () => {
    const report = await findCookies(HOST, filesOnly({ cookiesFile: fixture("storage-state.json") }));
    expect(report.cookies.map((c) => [c.name, c.value, c.expires?.toISOString() ?? null])).toEqual([
      ["next-auth.session-token", "playwright-session-value", "2100-01-01T00:00:00.000Z"],
      ["playwright-session-only", "v", null],
    ]);
  });
});

describe("HAR files", () => {
  it("takes the newest request cookies of the host's entries, from the Cookie header when the list is empty", async () => {
    const cookies = await getCookies(HOST, filesOnly({ cookiesFile: fixture("session.har") }));
    expect(cookies).toEqual({ [SESSION]: "har-new-value", "har-first": "1" });
  });

  it("keeps a subdomain's requests to that subdomain", async () => {
    expect(await getCookies(`chat.${HOST}`, filesOnly({ cookiesFile: fixture("session.har") }))).toEqual({ "har-chat-only": "chat" });
  });
});

describe("the cookies folder", () => {
  it("is read from the cookiesDir option, file by file in name order, the first file holding a name supplying it", async () => {
    const dir = cookiesDirWith("cookies.txt", "cookie-editor.json");
    const report = await findCookies(HOST, filesOnly({ cookiesDir: dir }));
    // cookie-editor.json sorts first and holds the session: cookies.txt is read for the report, not used.
    expect(report.cookies.map((c) => c.source)).toEqual([`cookies file ${join(dir, "cookie-editor.json")}`, `cookies file ${join(dir, "cookie-editor.json")}`]);
    expect(report.searched[1]).toEqual({
      place: `cookies file ${join(dir, "cookies.txt")}`,
      result: `3 cookies for ${HOST}: ${SESSION}, netscape-domain-cookie, netscape-session-only — not used: the session cookie came from cookies file ${join(dir, "cookie-editor.json")} (Netscape cookies.txt)`,
    });
  });

  it("defaults to OASST_COOKIES_DIR", async () => {
    const dir = cookiesDirWith("session.har");
    const home = tempDir();
    expect(await getCookies(HOST, { ...isolated(home, "linux", { OASST_COOKIES_DIR: dir }), source: "files" })).toEqual({
      [SESSION]: "har-new-value",
      "har-first": "1",
    });
  });

  it("defaults to <config dir>/oasst/cookies: XDG_CONFIG_HOME or ~/.config on Linux, Application Support on macOS, %APPDATA% on Windows", async () => {
    const cases: Array<[NodeJS.Platform, (home: string) => NodeJS.ProcessEnv, (home: string) => string]> = [
      ["linux", () => ({}), (home) => join(home, ".config", "oasst", "cookies")],
      ["linux", (home) => ({ XDG_CONFIG_HOME: join(home, "xdg") }), (home) => join(home, "xdg", "oasst", "cookies")],
      ["darwin", () => ({}), (home) => join(home, "Library", "Application Support", "oasst", "cookies")],
      ["win32", (home) => ({ APPDATA: join(home, "Roaming") }), (home) => join(home, "Roaming", "oasst", "cookies")],
    ];
    for (const [platform, env, dirOf] of cases) {
      const home = tempDir();
      mkdirSync(dirOf(home), { recursive: true });
      copyFileSync(fixture("cookies.txt"), join(dirOf(home), "cookies.txt"));
      const cookies = await getCookies(HOST, { ...isolated(home, platform, env(home)), source: "files" });
      expect(cookies[SESSION], `${platform} ${JSON.stringify(env(home))}`).toBe("netscape-session-value");
    }
  });

  it("reports files that are not cookie files, and a missing folder", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "notes.md"), "not cookies\n");
    writeFileSync(join(dir, "broken.json"), "{ nope");
    writeFileSync(join(dir, "package.json"), '{"name": "x"}');
    const report = await findCookies(HOST, filesOnly({ cookiesDir: dir }));
    expect(report.searched).toEqual([
      { place: `cookies file ${join(dir, "broken.json")}`, result: expect.stringMatching(/^not valid JSON \(/) },
      { place: `cookies file ${join(dir, "notes.md")}`, result: "not a cookie file (expected a Netscape cookies.txt, a JSON export or a HAR)" },
      { place: `cookies file ${join(dir, "package.json")}`, result: "JSON, but neither a cookie export (an array of {domain, name, value}) nor a HAR" },
    ]);
    const missing = join(dir, "missing");
    expect((await findCookies(HOST, filesOnly({ cookiesDir: missing }))).searched).toEqual([
      { place: `cookies directory ${missing}`, result: "does not exist" },
    ]);
  });

  it("refuses a cookie file given by path that does not exist, with a ConfigError", async () => {
    const error = await getCookies(HOST, filesOnly({ cookiesFile: "/nonexistent/cookies.txt" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).summary).toBe("The cookie file /nonexistent/cookies.txt does not exist");
  });
});
