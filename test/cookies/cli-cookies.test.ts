/**
 * `oasst cookies`, run as a user runs it: the built binary, in a temporary home holding
 * Firefox and Chromium databases. They are built here with far expiries, since a child
 * process cannot be given the real fixtures' clock (real-browsers.test.ts reads those).
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, makeTempHome, runCli, type TempHome } from "../cli/cli-harness.js";
import { encryptCbc, FAR_FUTURE_S, FIXTURES, SESSION, writeChromiumDb, writeFirefoxDb, writeProfilesIni } from "./helpers.js";

const HOST = "open-assistant.io";
const SESSION_VALUE = "cli-test-session-value";
const PREF_VALUE = "cli-test-pref-value";

let home: TempHome;
beforeAll(assertBuilt);
afterEach(async () => home?.remove());

/** A home where Linux Chromium (no keyring: v10) and Firefox were used to log in. */
async function loggedInHome(): Promise<TempHome> {
  home = await makeTempHome();
  await writeChromiumDb(join(home.configDir, "chromium", "Default", "Cookies"), 24, [
    { host: HOST, name: SESSION, encrypted: encryptCbc("v10", "peanuts", 1, SESSION_VALUE, HOST, 24), expiresS: FAR_FUTURE_S },
    { host: `.${HOST}`, name: "pref", encrypted: encryptCbc("v10", "peanuts", 1, PREF_VALUE, `.${HOST}`, 24), expiresS: FAR_FUTURE_S },
  ]);
  const firefox = join(home.dir, ".mozilla", "firefox");
  writeProfilesIni(firefox, [{ name: "default-release", path: "x.default-release", isDefault: true }]);
  await writeFirefoxDb(join(firefox, "x.default-release", "cookies.sqlite"), 17, [
    { host: HOST, name: SESSION, value: SESSION_VALUE, expiry: FAR_FUTURE_S * 1000 },
    { host: `.${HOST}`, name: "pref", value: PREF_VALUE, expiry: FAR_FUTURE_S * 1000 },
  ]);
  return home;
}

describe("oasst cookies", () => {
  it("prints a table of source, name and expiry, then every place looked at, and never a value", async () => {
    await loggedInHome();
    const result = await runCli(["cookies"], home);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^SOURCE\s+NAME\s+EXPIRES$/);
    expect(lines[1]).toMatch(/^Firefox profile default-release\s+__Secure-next-auth\.session-token\s+2100-01-01 00:00 UTC$/);
    expect(lines[2]).toMatch(/^Firefox profile default-release\s+pref\s+2100-01-01 00:00 UTC$/);
    expect(result.stdout).toContain("Looked at:\n  OASST_COOKIES: not set\n");
    expect(result.stdout).toContain(
      "  Chromium profile Default: 2 cookies for open-assistant.io: __Secure-next-auth.session-token, pref — not used: the session cookie came from Firefox profile default-release\n",
    );
    expect(result.stdout).not.toContain(SESSION_VALUE);
    expect(result.stdout).not.toContain(PREF_VALUE);
  });

  it("--browser reads that browser only; --json prints the same report as JSON; --show-values adds the values", async () => {
    await loggedInHome();
    const result = await runCli(["cookies", "--browser", "chromium", "--json"], home);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { domain: string; cookies: Array<Record<string, unknown>>; searched: unknown[] };
    expect(report.domain).toBe("open-assistant.io");
    expect(report.cookies).toEqual([
      { source: "Chromium profile Default", name: SESSION, expires: "2100-01-01T00:00:00.000Z" },
      { source: "Chromium profile Default", name: "pref", expires: "2100-01-01T00:00:00.000Z" },
    ]);
    expect(report.searched).toEqual([{ place: "Chromium profile Default", result: `2 cookies for open-assistant.io: ${SESSION}, pref` }]);
    expect(result.stdout).not.toContain(SESSION_VALUE);

    const withValues = await runCli(["cookies", "--profile", join(home.configDir, "chromium", "Default"), "--show-values"], home);
    expect(withValues.stdout.split("\n")[0]).toMatch(/^SOURCE\s+NAME\s+EXPIRES\s+VALUE$/);
    expect(withValues.stdout).toMatch(new RegExp(`^Chromium profile Default\\s+${SESSION}\\s+2100-01-01 00:00 UTC\\s+${SESSION_VALUE}$`, "m"));
  });

  it("looks for another domain given as argument, and reads the cookies folder", async () => {
    home = await makeTempHome();
    const dir = join(home.configDir, "oasst", "cookies");
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(FIXTURES, "files", "cookies.txt"), join(dir, "cookies.txt"));
    const result = await runCli(["cookies", "chat.open-assistant.io"], home);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`cookies file ${join(dir, "cookies.txt")}\\s+netscape-domain-cookie\\s+2100-01-01 00:00 UTC`));
  });

  it("exits 2 with the cause, every place on its own line, and the fix in flags when nothing is found", async () => {
    home = await makeTempHome();
    const result = await runCli(["cookies"], home);
    expect(result.code).toBe(2);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toEqual([
      "error: No cookies for open-assistant.io were found. Looked at:",
      "  OASST_COOKIES: not set",
      expect.stringMatching(/^ {2}cookies directory .*oasst\/cookies: does not exist$/),
      "  Firefox, Chrome, Chromium, Brave, Edge, Vivaldi, Opera: no profile found",
      "hint: open-assistant.io closed its chat in 2023: pass your own Open-Assistant site with --base-url URL and its session cookie with --cookie, --cookies-file FILE or OASST_COOKIES.",
      "      To try oasst locally: run `oasst emulate` in another terminal and paste the lines it prints.",
    ]);
  });

  it("looks for the base URL's site as the other commands do: --base-url, then OASST_BASE_URL, then the config file", async () => {
    home = await makeTempHome();
    const dir = join(home.configDir, "oasst", "cookies");
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(FIXTURES, "files", "cookies.txt"), join(dir, "cookies.txt"));
    await home.writeConfig({ baseUrl: "https://config.example" });
    const fromConfig = await runCli(["cookies", "--json"], home);
    expect(JSON.parse(fromConfig.stdout)).toMatchObject({ domain: "config.example" });
    const fromEnv = await runCli(["cookies", "--json"], home, { env: { OASST_BASE_URL: "https://chat.open-assistant.io" } });
    expect(fromEnv.code).toBe(0);
    expect(JSON.parse(fromEnv.stdout)).toMatchObject({
      domain: "chat.open-assistant.io",
      cookies: expect.arrayContaining([expect.objectContaining({ name: "netscape-domain-cookie" })]),
    });
    const fromFlag = await runCli(["cookies", "--json", "--base-url", "https://flag.example"], home, {
      env: { OASST_BASE_URL: "https://chat.open-assistant.io" },
    });
    expect(JSON.parse(fromFlag.stdout)).toMatchObject({ domain: "flag.example" });
    expect(fromFlag.stderr).toContain("hint: Pass the session cookie of https://flag.example/ (__Secure-next-auth.session-token=…)");
  });

  it("refuses an unknown browser and a folder that is not a profile", async () => {
    home = await makeTempHome();
    const browser = await runCli(["cookies", "--browser", "netscape"], home);
    expect(browser.code).toBe(1);
    expect(browser.stderr).toContain("argument 'netscape' is invalid. Allowed choices are firefox, chrome, chromium, brave, edge, vivaldi, opera.");
    const profile = await runCli(["cookies", "--profile", home.dir], home);
    expect(profile.code).toBe(1);
    expect(profile.stderr).toContain(`error: No cookie database in the profile folder ${home.dir}`);
  });

  it("--help shows the flags and examples", async () => {
    home = await makeTempHome();
    const result = await runCli(["cookies", "--help"], home);
    expect(result.code).toBe(0);
    for (const text of ["--browser <name>", "--profile <dir>", "--json", "--show-values", "Examples:", "$ oasst cookies --browser firefox"]) {
      expect(result.stdout).toContain(text);
    }
  });
});
