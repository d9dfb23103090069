/** Chromium databases built in the test, encrypted with the documented parameters of each platform. */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuthError } from "../../src/errors.js";
import { findCookies, getCookies } from "../../src/cookies/index.js";
import { encryptCbc, encryptGcm, FAR_FUTURE_S, fakeCommands, isolated, PAST_S, SESSION, tempDir, writeChromiumDb } from "./helpers.js";

const HOST = "open-assistant.io";
const ok = (stdout: string) => ({ exitCode: 0, stdout, stderr: "" });

describe("Linux", () => {
  const cookieDb = (home: string, browser = "chromium") => join(home, ".config", browser, "Default", "Cookies");

  it("decrypts v11 values with the Secret Service password that secret-tool returns", async () => {
    const home = tempDir();
    await writeChromiumDb(cookieDb(home, "google-chrome"), 24, [
      { host: HOST, name: SESSION, encrypted: encryptCbc("v11", "keyring-password", 1, "v11-session", HOST, 24), expiresS: FAR_FUTURE_S },
    ]);
    const { runner, calls } = fakeCommands({
      "secret-tool": (args) => (args.join(" ") === "lookup application chrome" ? ok("keyring-password\n") : { exitCode: 1, stdout: "", stderr: "" }),
    });
    const cookies = await getCookies(HOST, { ...isolated(home), runCommand: runner });
    expect(cookies).toEqual({ [SESSION]: "v11-session" });
    expect(calls.map((c) => [c.file, ...c.args])).toEqual([["secret-tool", "lookup", "application", "chrome"]]);
  });

  it("warns, and says how to fix it, when v11 values meet a machine without secret-tool", async () => {
    const home = tempDir();
    await writeChromiumDb(cookieDb(home), 24, [
      { host: HOST, name: SESSION, encrypted: encryptCbc("v11", "keyring-password", 1, "secret-value", HOST, 24), expiresS: FAR_FUTURE_S },
    ]);
    const warnings: string[] = [];
    const error = await getCookies(HOST, { ...isolated(home), onWarning: (m) => warnings.push(m) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^Chromium profile Default: 1 cookie \(__Secure-next-auth\.session-token\) could not be decrypted: .*secret-tool is not installed: install it \(Debian\/Ubuntu: apt-get install libsecret-tools/,
      ),
    ]);
    expect((error as AuthError).message).toContain(
      "Chromium profile Default: no cookies for open-assistant.io (1 cookie (__Secure-next-auth.session-token) could not be decrypted",
    );
    expect((error as AuthError).message).not.toContain("secret-value");
  });

  it("says the keyring holds no password when secret-tool finds none", async () => {
    const home = tempDir();
    await writeChromiumDb(cookieDb(home), 24, [{ host: HOST, name: SESSION, encrypted: encryptCbc("v11", "pw", 1, "x", HOST, 24), expiresS: FAR_FUTURE_S }]);
    const { runner } = fakeCommands({ "secret-tool": () => ({ exitCode: 1, stdout: "", stderr: "" }) });
    const report = await findCookies(HOST, { ...isolated(home), runCommand: runner });
    expect(report.searched.find((s) => s.place === "Chromium profile Default")?.result).toMatch(
      /the Secret Service holds none for Chromium .*unlock the login keyring/,
    );
  });

  it("reads databases before meta version 24, whose plaintext has no host hash", async () => {
    const home = tempDir();
    await writeChromiumDb(cookieDb(home), 23, [
      { host: HOST, name: SESSION, encrypted: encryptCbc("v10", "peanuts", 1, "meta-23-session", HOST, 23), expiresS: FAR_FUTURE_S },
    ]);
    expect(await getCookies(HOST, isolated(home))).toEqual({ [SESSION]: "meta-23-session" });
  });

  it("refuses a value whose host hash belongs to another host (a row copied between hosts)", async () => {
    const home = tempDir();
    await writeChromiumDb(cookieDb(home), 24, [
      { host: HOST, name: SESSION, encrypted: encryptCbc("v10", "peanuts", 1, "moved", "evil.example", 24), expiresS: FAR_FUTURE_S },
    ]);
    const report = await findCookies(HOST, isolated(home));
    expect(report.cookies).toEqual([]);
    expect(report.searched.find((s) => s.place === "Chromium profile Default")?.result).toContain("could not be decrypted: no key decrypts it (v10)");
  });

  it("keeps unencrypted values, skips expired rows and reads session cookies (expires_utc 0)", async () => {
    const home = tempDir();
    await writeChromiumDb(cookieDb(home), 24, [
      { host: HOST, name: SESSION, plain: "plain-session", expiresS: FAR_FUTURE_S },
      { host: `.${HOST}`, name: "session-only", encrypted: encryptCbc("v10", "peanuts", 1, "s", `.${HOST}`, 24) },
      { host: HOST, name: "expired", encrypted: encryptCbc("v10", "peanuts", 1, "old", HOST, 24), expiresS: PAST_S },
    ]);
    const report = await findCookies(HOST, isolated(home));
    expect(report.cookies.map((c) => [c.name, c.value, c.expires?.toISOString() ?? null])).toEqual([
      [SESSION, "plain-session", "2100-01-01T00:00:00.000Z"],
      ["session-only", "s", null],
    ]);
  });
});

describe("macOS", () => {
  it("decrypts with the Keychain's Safe Storage password and 1003 iterations", async () => {
    const home = tempDir();
    const db = join(home, "Library", "Application Support", "BraveSoftware", "Brave-Browser", "Profile 2", "Cookies");
    await writeChromiumDb(db, 24, [
      { host: HOST, name: SESSION, encrypted: encryptCbc("v10", "keychain-password", 1003, "mac-session", HOST, 24), expiresS: FAR_FUTURE_S },
    ]);
    const { runner, calls } = fakeCommands({ security: () => ok("keychain-password\n") });
    const report = await findCookies(HOST, { ...isolated(home, "darwin"), runCommand: runner, browser: "brave" });
    expect(report.cookies.map((c) => [c.source, c.value])).toEqual([["Brave profile Profile 2", "mac-session"]]);
    expect(calls.map((c) => [c.file, ...c.args])).toEqual([["security", "find-generic-password", "-w", "-s", "Brave Safe Storage"]]);
  });

  it("asks the Keychain once for all profiles of a browser", async () => {
    const home = tempDir();
    const root = join(home, "Library", "Application Support", "Google", "Chrome");
    for (const profile of ["Default", "Profile 1"]) {
      await writeChromiumDb(join(root, profile, "Cookies"), 24, [
        { host: HOST, name: `from-${profile}`, encrypted: encryptCbc("v10", "pw", 1003, profile, HOST, 24), expiresS: FAR_FUTURE_S },
      ]);
    }
    const { runner, calls } = fakeCommands({ security: () => ok("pw") });
    const report = await findCookies(HOST, { ...isolated(home, "darwin"), runCommand: runner, browser: "chrome" });
    expect(report.cookies.map((c) => c.name)).toEqual(["from-Default", "from-Profile 1"]);
    expect(calls).toHaveLength(1);
  });

  it("says what to do when the Keychain refuses", async () => {
    const home = tempDir();
    await writeChromiumDb(join(home, "Library", "Application Support", "Google", "Chrome", "Default", "Cookies"), 24, [
      { host: HOST, name: SESSION, encrypted: encryptCbc("v10", "pw", 1003, "x", HOST, 24), expiresS: FAR_FUTURE_S },
    ]);
    const { runner } = fakeCommands({ security: () => ({ exitCode: 51, stdout: "", stderr: "security: User interaction is not allowed." }) });
    const warnings: string[] = [];
    await expect(getCookies(HOST, { ...isolated(home, "darwin"), runCommand: runner, onWarning: (m) => warnings.push(m) })).rejects.toThrow(AuthError);
    expect(warnings.join("\n")).toContain(
      'the Keychain gave no "Chrome Safe Storage" password (security exited 51: security: User interaction is not allowed.): allow oasst in the Keychain prompt',
    );
  });
});

describe("Windows", () => {
  /** A Local State whose os_crypt.encrypted_key is "DPAPI" + a blob; the fake PowerShell of each test plays DPAPI for it. */
  const localState = (userData: string) => {
    mkdirSync(userData, { recursive: true });
    const blob = Buffer.concat([Buffer.from("DPAPI"), Buffer.from("protected-by-dpapi")]);
    writeFileSync(join(userData, "Local State"), JSON.stringify({ os_crypt: { encrypted_key: blob.toString("base64") } }));
  };

  it("decrypts AES-256-GCM values with the DPAPI-protected key of Local State, asked through PowerShell", async () => {
    const home = tempDir();
    const userData = join(home, "AppData", "Local", "Microsoft", "Edge", "User Data");
    const key = randomBytes(32);
    localState(userData);
    await writeChromiumDb(join(userData, "Default", "Network", "Cookies"), 24, [
      { host: HOST, name: SESSION, encrypted: encryptGcm("v10", key, "windows-session", HOST, 24), expiresS: FAR_FUTURE_S },
    ]);
    const { runner, calls } = fakeCommands({
      "powershell.exe": (_args, input) =>
        input === Buffer.from("protected-by-dpapi").toString("base64") ? ok(`${key.toString("base64")}\r\n`) : { exitCode: 1, stdout: "", stderr: "" },
    });
    const cookies = await getCookies(HOST, { ...isolated(home, "win32", { LOCALAPPDATA: join(home, "AppData", "Local") }), runCommand: runner });
    expect(cookies).toEqual({ [SESSION]: "windows-session" });
    // The protected key goes through stdin, not the command line.
    expect(calls[0]?.args.join(" ")).not.toContain(Buffer.from("protected-by-dpapi").toString("base64"));
  });

  it("reports app-bound v20 values as unreadable, with the reason, and reads the rest", async () => {
    const home = tempDir();
    const userData = join(home, "AppData", "Local", "Google", "Chrome", "User Data");
    const key = randomBytes(32);
    localState(userData);
    await writeChromiumDb(join(userData, "Default", "Network", "Cookies"), 24, [
      { host: HOST, name: SESSION, encrypted: encryptGcm("v20", randomBytes(32), "app-bound", HOST, 24), expiresS: FAR_FUTURE_S },
      { host: HOST, name: "readable", encrypted: encryptGcm("v10", key, "yes", HOST, 24), expiresS: FAR_FUTURE_S },
    ]);
    const { runner } = fakeCommands({ "powershell.exe": () => ok(key.toString("base64")) });
    const warnings: string[] = [];
    const report = await findCookies(HOST, {
      ...isolated(home, "win32", { LOCALAPPDATA: join(home, "AppData", "Local") }),
      runCommand: runner,
      onWarning: (m) => warnings.push(m),
    });
    expect(report.cookies.map((c) => [c.name, c.value])).toEqual([["readable", "yes"]]);
    expect(warnings).toEqual([
      expect.stringMatching(
        /^Chrome profile Default: 1 cookie \(__Secure-next-auth\.session-token\) could not be decrypted: app-bound encryption \(v20.*only the browser itself can decrypt it/,
      ),
    ]);
  });

  it("unprotects values without a prefix (before Chrome 80) with DPAPI directly", async () => {
    const home = tempDir();
    const userData = join(home, "AppData", "Local", "Chromium", "User Data");
    await writeChromiumDb(join(userData, "Default", "Cookies"), 12, [
      { host: HOST, name: SESSION, encrypted: Buffer.from("\x01\x00\x00\x00old-dpapi-blob", "latin1"), expiresS: FAR_FUTURE_S },
    ]);
    const { runner } = fakeCommands({ "powershell.exe": () => ok(Buffer.from("legacy-session").toString("base64")) });
    const cookies = await getCookies(HOST, { ...isolated(home, "win32", { LOCALAPPDATA: join(home, "AppData", "Local") }), runCommand: runner });
    expect(cookies).toEqual({ [SESSION]: "legacy-session" });
  });

  it("says the Local State key is missing when there is no Local State", async () => {
    const home = tempDir();
    const userData = join(home, "AppData", "Local", "Google", "Chrome", "User Data");
    await writeChromiumDb(join(userData, "Default", "Network", "Cookies"), 24, [
      { host: HOST, name: SESSION, encrypted: encryptGcm("v10", randomBytes(32), "x", HOST, 24), expiresS: FAR_FUTURE_S },
    ]);
    const report = await findCookies(HOST, isolated(home, "win32", { LOCALAPPDATA: join(home, "AppData", "Local") }));
    expect(report.searched.find((s) => s.place === "Chrome profile Default")?.result).toMatch(/Local State could not be read \(.*no such file/);
  });
});
