/** The order of the sources, the choice between places, the cache, and what a user reads when nothing is found. */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuthError, ConfigError } from "../../src/errors.js";
import { clearCookieCache, findCookies, getCookies } from "../../src/cookies/index.js";
import { encryptCbc, FAR_FUTURE_S, FIXTURES, isolated, PAST_S, SESSION, tempDir, writeChromiumDb, writeFirefoxDb, writeProfilesIni } from "./helpers.js";

const HOST = "open-assistant.io";

/** A Linux home with a Firefox profile holding `rows`, listed in profiles.ini. */
async function homeWithFirefoxRows(rows: Parameters<typeof writeFirefoxDb>[2], userVersion = 17): Promise<string> {
  const home = tempDir();
  const root = join(home, ".mozilla", "firefox");
  writeProfilesIni(root, [{ name: "default-release", path: "abcd.default-release", isDefault: true }]);
  await writeFirefoxDb(join(root, "abcd.default-release", "cookies.sqlite"), userVersion, rows);
  return home;
}

const inMs = (seconds: number) => seconds * 1000;

describe("source order", () => {
  it("uses the cookies option as given (object or header), and nothing else", async () => {
    const home = await homeWithFirefoxRows([{ host: HOST, name: SESSION, value: "firefox", expiry: inMs(FAR_FUTURE_S) }]);
    const env = { OASST_COOKIES: `${SESSION}=from-env` };
    expect(await getCookies(HOST, { ...isolated(home, "linux", env), cookies: { custom: "1" } })).toEqual({ custom: "1" });
    expect(await getCookies(HOST, { ...isolated(home, "linux", env), cookies: "a=1; b=x=y" })).toEqual({ a: "1", b: "x=y" });
  });

  it("treats an empty cookies option as not given, then uses OASST_COOKIES before files and browsers", async () => {
    const home = await homeWithFirefoxRows([{ host: HOST, name: SESSION, value: "firefox", expiry: inMs(FAR_FUTURE_S) }]);
    const options = { ...isolated(home, "linux", { OASST_COOKIES: `${SESSION}=from-env; other=2` }), cookies: "" };
    expect(await getCookies(HOST, options)).toEqual({ [SESSION]: "from-env", other: "2" });
    const report = await findCookies(HOST, options);
    expect(report.searched.map((s) => s.place)).toEqual([
      "OASST_COOKIES",
      `cookies directory ${join(home, ".config", "oasst", "cookies")}`,
      "Firefox profile default-release",
      "Chrome",
      "Chromium",
      "Brave",
      "Edge",
      "Vivaldi",
      "Opera",
    ]);
    expect(report.searched[2]?.result).toBe(`1 cookie for ${HOST}: ${SESSION} — not used: cookies were given in OASST_COOKIES`);
  });

  it("reads cookie files before browser profiles", async () => {
    const home = await homeWithFirefoxRows([{ host: HOST, name: SESSION, value: "firefox", expiry: inMs(FAR_FUTURE_S) }]);
    const dir = join(home, ".config", "oasst", "cookies");
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(FIXTURES, "files", "cookies.txt"), join(dir, "cookies.txt"));
    expect((await getCookies(HOST, isolated(home)))[SESSION]).toBe("netscape-session-value");
  });

  it("takes each name from the first place holding it, and goes on until a place holds the session cookie", async () => {
    const home = await homeWithFirefoxRows([
      { host: HOST, name: "shared", value: "from-firefox", expiry: inMs(FAR_FUTURE_S) },
      { host: HOST, name: SESSION, value: "firefox-session", expiry: inMs(FAR_FUTURE_S) },
    ]);
    const dir = join(home, ".config", "oasst", "cookies");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "cookies.txt"), `${HOST}\tFALSE\t/\tTRUE\t${FAR_FUTURE_S}\tshared\tfrom-file\n`);
    const report = await findCookies(HOST, isolated(home));
    expect(report.cookies.map((c) => [c.source, c.name, c.value])).toEqual([
      [`cookies file ${join(dir, "cookies.txt")}`, "shared", "from-file"],
      ["Firefox profile default-release", SESSION, "firefox-session"],
    ]);
    expect(report.searched[2]?.result).toBe(`2 cookies for ${HOST}: shared, ${SESSION} — shared not used: found in an earlier place`);
    expect(await getCookies(HOST, isolated(home))).toEqual({ shared: "from-file", [SESSION]: "firefox-session" });
  });

  it("never mixes the pieces of a split session cookie from two places", async () => {
    const home = await homeWithFirefoxRows([
      { host: HOST, name: `${SESSION}.0`, value: "firefox-part-0", expiry: inMs(FAR_FUTURE_S) },
      { host: HOST, name: `${SESSION}.1`, value: "firefox-part-1", expiry: inMs(FAR_FUTURE_S) },
    ]);
    await writeChromiumDb(join(home, ".config", "chromium", "Default", "Cookies"), 24, [
      { host: HOST, name: `${SESSION}.0`, encrypted: encryptCbc("v10", "peanuts", 1, "chromium-part-0", HOST, 24), expiresS: FAR_FUTURE_S },
      { host: HOST, name: `${SESSION}.2`, encrypted: encryptCbc("v10", "peanuts", 1, "chromium-part-2", HOST, 24), expiresS: FAR_FUTURE_S },
    ]);
    expect(await getCookies(HOST, isolated(home))).toEqual({ [`${SESSION}.0`]: "firefox-part-0", [`${SESSION}.1`]: "firefox-part-1" });
  });

  it("keeps looking past a profile without the session cookie, and uses its other cookies if none has one", async () => {
    const home = await homeWithFirefoxRows([{ host: HOST, name: "next-auth.csrf-token", value: "csrf", expiry: inMs(FAR_FUTURE_S) }]);
    expect(await getCookies(HOST, isolated(home))).toEqual({ "next-auth.csrf-token": "csrf" });
    await writeChromiumDb(join(home, ".config", "chromium", "Default", "Cookies"), 24, [
      { host: HOST, name: SESSION, encrypted: encryptCbc("v10", "peanuts", 1, "chromium-session", HOST, 24), expiresS: FAR_FUTURE_S },
    ]);
    expect(await getCookies(HOST, isolated(home))).toEqual({ "next-auth.csrf-token": "csrf", [SESSION]: "chromium-session" });
  });
});

describe("naming one source, browser or profile", () => {
  it("reads only the named source", async () => {
    const home = await homeWithFirefoxRows([{ host: HOST, name: SESSION, value: "firefox", expiry: inMs(FAR_FUTURE_S) }]);
    const env = { OASST_COOKIES: `${SESSION}=from-env` };
    expect(await getCookies(HOST, { ...isolated(home, "linux", env), source: "browsers" })).toEqual({ [SESSION]: "firefox" });
    const error = await getCookies(HOST, { ...isolated(home, "linux", env), source: "explicit" }).catch((e: unknown) => e);
    expect((error as AuthError).summary).toBe(`No cookies for ${HOST} were found. Looked at:`);
    expect((error as AuthError).details).toEqual(["cookies option: not given"]);
  });

  it("reads only the named browser", async () => {
    const home = await homeWithFirefoxRows([{ host: HOST, name: SESSION, value: "firefox", expiry: inMs(FAR_FUTURE_S) }]);
    const report = await findCookies(HOST, { ...isolated(home), source: "browsers", browser: "chromium" });
    expect(report.cookies).toEqual([]);
    expect(report.searched).toEqual([
      {
        place: "Chromium",
        result: `no profile found (looked in ${join(home, ".config", "chromium")}, ${join(home, "snap", "chromium", "common", "chromium")}, ${join(home, ".var", "app", "org.chromium.Chromium", "config", "chromium")})`,
      },
    ]);
  });

  it("reads one profile folder given by path, Firefox or Chromium told apart by its files", async () => {
    const home = await homeWithFirefoxRows([{ host: HOST, name: SESSION, value: "firefox", expiry: inMs(FAR_FUTURE_S) }]);
    const elsewhere = join(tempDir(), "My Chromium");
    await writeChromiumDb(join(elsewhere, "Cookies"), 24, [
      { host: HOST, name: SESSION, encrypted: encryptCbc("v10", "peanuts", 1, "given-profile", HOST, 24), expiresS: FAR_FUTURE_S },
    ]);
    const report = await findCookies(HOST, { ...isolated(home), source: "browsers", profile: elsewhere });
    expect(report.cookies.map((c) => [c.source, c.value])).toEqual([["Chromium profile My Chromium", "given-profile"]]);
    const firefoxDir = join(home, ".mozilla", "firefox", "abcd.default-release");
    expect((await findCookies(HOST, { ...isolated(home), source: "browsers", profile: firefoxDir })).cookies.map((c) => c.source)).toEqual([
      "Firefox profile abcd.default-release",
    ]);
  });

  it("refuses a profile folder without a cookie database, a profile of another browser, and unknown names", async () => {
    const home = tempDir();
    const cases: Array<[object, string]> = [
      [{ profile: home }, `No cookie database in the profile folder ${home}`],
      [{ source: "cookie-jar" }, 'Unknown cookie source "cookie-jar"'],
      [{ browser: "netscape" }, 'Unknown browser "netscape"'],
      [{ cookies: { a: 1 } }, "The cookies option must be an object of strings or a Cookie header string"],
    ];
    for (const [options, summary] of cases) {
      const error = await getCookies(HOST, { ...isolated(home), ...options }).catch((e: unknown) => e);
      expect(error, summary).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).summary).toBe(summary);
    }
    const firefoxHome = await homeWithFirefoxRows([]);
    const firefoxDir = join(firefoxHome, ".mozilla", "firefox", "abcd.default-release");
    await expect(getCookies(HOST, { ...isolated(firefoxHome), profile: firefoxDir, browser: "chrome" })).rejects.toThrow(
      `${firefoxDir} is a Firefox profile, not a chrome one`,
    );
    await expect(getCookies("https://", isolated(home))).rejects.toThrow(ConfigError);
  });
});

describe("Firefox profiles", () => {
  it("reads expiry in seconds before schema 16 and skips expired cookies", async () => {
    const home = await homeWithFirefoxRows(
      [
        { host: HOST, name: SESSION, value: "old-schema", expiry: FAR_FUTURE_S },
        { host: HOST, name: "expired", value: "x", expiry: PAST_S },
      ],
      12,
    );
    const report = await findCookies(HOST, isolated(home));
    expect(report.cookies.map((c) => [c.name, c.expires?.toISOString()])).toEqual([[SESSION, "2100-01-01T00:00:00.000Z"]]);
  });

  it("leaves out container-tab and partitioned cookies, and says so", async () => {
    const home = await homeWithFirefoxRows([
      { host: HOST, name: SESSION, value: "container", expiry: inMs(FAR_FUTURE_S), originAttributes: "^userContextId=2" },
      { host: HOST, name: "normal", value: "n", expiry: inMs(FAR_FUTURE_S) },
    ]);
    const report = await findCookies(HOST, { ...isolated(home), source: "browsers", browser: "firefox" });
    expect(report.cookies.map((c) => c.value)).toEqual(["n"]);
    expect(report.searched[0]?.result).toBe(
      `1 cookie for ${HOST}: normal (1 cookie of container tabs or partitioned storage left out (only the normal browsing context is read))`,
    );
  });

  it("reads every profile of profiles.ini, the default one first, and the snap install under its own label", async () => {
    const home = tempDir();
    const root = join(home, ".mozilla", "firefox");
    writeProfilesIni(root, [
      { name: "work", path: "w.work" },
      { name: "personal", path: "p.personal", isDefault: true },
    ]);
    await writeFirefoxDb(join(root, "w.work", "cookies.sqlite"), 17, [{ host: HOST, name: "a", value: "work", expiry: inMs(FAR_FUTURE_S) }]);
    await writeFirefoxDb(join(root, "p.personal", "cookies.sqlite"), 17, [{ host: HOST, name: "b", value: "personal", expiry: inMs(FAR_FUTURE_S) }]);
    const snapRoot = join(home, "snap", "firefox", "common", ".mozilla", "firefox");
    writeProfilesIni(snapRoot, [{ name: "default", path: "s.default" }]);
    await writeFirefoxDb(join(snapRoot, "s.default", "cookies.sqlite"), 17, []);
    const report = await findCookies(HOST, { ...isolated(home), browser: "firefox" });
    expect(report.searched.map((s) => s.place)).toEqual([
      "OASST_COOKIES",
      `cookies directory ${join(home, ".config", "oasst", "cookies")}`,
      "Firefox profile personal",
      "Firefox profile work",
      "Firefox (snap) profile default",
    ]);
  });

  it("says which profile could not be read and why", async () => {
    const home = tempDir();
    const root = join(home, ".mozilla", "firefox");
    writeProfilesIni(root, [{ name: "broken", path: "b.broken" }]);
    mkdirSync(join(root, "b.broken"), { recursive: true });
    writeFileSync(join(root, "b.broken", "cookies.sqlite"), "this is not a database, and certainly not long enough to be one");
    const warnings: string[] = [];
    const report = await findCookies(HOST, { ...isolated(home), browser: "firefox", onWarning: (m) => warnings.push(m) });
    expect(report.searched.at(-1)).toEqual({
      place: "Firefox profile broken",
      result: expect.stringMatching(/^could not be read \(file is not a database\)$/),
    });
    expect(warnings).toEqual(["Firefox profile broken: could not be read (file is not a database)"]);
  });
});

describe("when nothing is found", () => {
  it("throws an AuthError: a short cause, every place looked at and what it held on its own line, then the ways to pass cookies", async () => {
    const home = await homeWithFirefoxRows([{ host: "other.example", name: SESSION, value: "not-for-us", expiry: inMs(FAR_FUTURE_S) }]);
    const error = await getCookies(HOST, isolated(home)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    const { summary, hint, message } = error as AuthError;
    const cookiesDir = join(home, ".config", "oasst", "cookies");
    expect(summary).toBe(`No cookies for ${HOST} were found. Looked at:`);
    // One place a line; the browsers without a profile share one.
    expect((error as AuthError).details).toEqual([
      "OASST_COOKIES: not set",
      `cookies directory ${cookiesDir}: does not exist`,
      `Firefox profile default-release: no cookies for ${HOST}`,
      "Chrome, Chromium, Brave, Edge, Vivaldi, Opera: no profile found",
    ]);
    expect(hint).toBe(
      `Pass the session cookie of your Open-Assistant site (next-auth.session-token, or __Secure-next-auth.session-token on https) in the cookies option ` +
        `or OASST_COOKIES, put a cookies.txt, JSON export or HAR file in ${cookiesDir}, or log in to the site in Firefox or Chromium on this machine.`,
    );
    expect(message.split("\n")).toHaveLength(6);
    expect(message).not.toContain("not-for-us");
  });
});

describe("the per-process cache", () => {
  it("answers again from the cache until refresh or clearCookieCache", async () => {
    const dir = tempDir();
    const file = join(dir, "cookies.txt");
    const write = (value: string) => writeFileSync(file, `${HOST}\tFALSE\t/\tTRUE\t${FAR_FUTURE_S}\t${SESSION}\t${value}\n`);
    const options = { ...isolated(tempDir()), source: "files" as const, cookiesDir: dir, refresh: false };
    clearCookieCache();
    write("first");
    expect(await getCookies(HOST, options)).toEqual({ [SESSION]: "first" });
    write("second");
    expect(await getCookies(HOST, options)).toEqual({ [SESSION]: "first" });
    expect(await getCookies(HOST, { ...options, refresh: true })).toEqual({ [SESSION]: "second" });
    write("third");
    expect(await getCookies(HOST, options)).toEqual({ [SESSION]: "second" });
    clearCookieCache();
    expect(await getCookies(HOST, options)).toEqual({ [SESSION]: "third" });
  });

  it("keeps answers per domain and per options, does not keep failures, and hands out copies", async () => {
    const dir = tempDir();
    const options = { ...isolated(tempDir()), source: "files" as const, cookiesDir: dir, refresh: false };
    clearCookieCache();
    await expect(getCookies(HOST, options)).rejects.toThrow(AuthError);
    writeFileSync(join(dir, "cookies.txt"), `.${HOST}\tTRUE\t/\tTRUE\t${FAR_FUTURE_S}\tshared\tv\n${HOST}\tFALSE\t/\tTRUE\t${FAR_FUTURE_S}\tonly-apex\tv\n`);
    const first = await getCookies(HOST, options);
    expect(first).toEqual({ shared: "v", "only-apex": "v" });
    first.injected = "x";
    expect(await getCookies(HOST, options)).toEqual({ shared: "v", "only-apex": "v" });
    expect(await getCookies(`chat.${HOST}`, options)).toEqual({ shared: "v" });
    await expect(getCookies(HOST, { ...options, cookiesDir: tempDir() })).rejects.toThrow(AuthError);
  });
});
