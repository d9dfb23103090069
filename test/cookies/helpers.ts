/** Shared by the cookie tests: temporary homes, fixture copies, databases built like the browsers build them. */
import { createCipheriv, createHash, pbkdf2Sync, randomBytes } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import initSqlJs from "sql.js";
import { vi } from "vitest";
import type { CommandResult, CommandRunner } from "../../src/cookies/index.js";
import { afterEachTest } from "../helpers/after-each-test.js";

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "cookies");

/** When scripts/make-cookie-fixtures.sh ran (browsers.txt): its cookies expire, so tests of them run at this time. */
export const FIXTURES_MADE = new Date(/^made: (.+)$/m.exec(readFileSync(join(FIXTURES, "browsers.txt"), "utf8"))?.[1] ?? "invalid");

/** Sets the clock (Date only) to a minute after the fixtures were made, until the test ends. */
export function atFixtureTime(): void {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(FIXTURES_MADE.getTime() + 60_000);
}

/** The session value the real browsers stored (scripts/make-cookie-fixtures.sh). */
export const FIXTURE_SESSION_TOKEN = "fixture-session-token.eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..oasst-fixture";
export const SESSION = "__Secure-next-auth.session-token";
/** 2100-01-01, in Unix seconds. */
export const FAR_FUTURE_S = 4_102_444_800;
/** 2020-09-13, in Unix seconds. */
export const PAST_S = 1_600_000_000;

const temporaryDirs: string[] = [];
afterEachTest(() => {
  vi.useRealTimers();
  for (const dir of temporaryDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An empty folder, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "oasst-cookies-"));
  temporaryDirs.push(dir);
  return dir;
}

/** Copies a fixture file or folder to `to` (inside a temporary home); `.gz` files are unpacked. */
export function copyFixture(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  if (from.endsWith(".gz")) writeFileSync(to, gunzipSync(readFileSync(join(FIXTURES, from))));
  else cpSync(join(FIXTURES, from), to, { recursive: true });
}

/** Options that see only `home`: no real browser, no real environment. */
export function isolated(home: string, platform: NodeJS.Platform = "linux", env: NodeJS.ProcessEnv = {}) {
  return { homeDir: home, platform, env, refresh: true, runCommand: noCommands, onWarning: () => {} };
}

/** A runner for tests that must not start programs: every program is "not installed". */
export const noCommands: CommandRunner = async (file) => {
  throw Object.assign(new Error(`spawn ${file} ENOENT`), { code: "ENOENT" });
};

/** A runner that answers the given programs and records every call. */
export function fakeCommands(answers: Record<string, (args: readonly string[], input?: string) => CommandResult>) {
  const calls: Array<{ file: string; args: readonly string[]; input?: string | undefined }> = [];
  const runner: CommandRunner = async (file, args, input) => {
    calls.push({ file, args, input });
    const answer = answers[file];
    if (!answer) return noCommands(file, args, input);
    return answer(args, input);
  };
  return { runner, calls };
}

let sqlJs: ReturnType<typeof initSqlJs> | undefined;

/** Writes an SQLite file made of `statements`. */
export async function writeSqlite(path: string, statements: Array<[string, Array<string | number | Uint8Array | null>?]>): Promise<void> {
  sqlJs ??= initSqlJs();
  const SQL = await sqlJs;
  const db = new SQL.Database();
  for (const [sql, params] of statements) db.run(sql, params ?? []);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, db.export());
  db.close();
}

// ---- Chromium, encrypted with the documented parameters (independently of src/) ----

export interface ChromiumRow {
  host: string;
  name: string;
  /** Already encrypted, prefix included; or use `plain` for an unencrypted value. */
  encrypted?: Uint8Array;
  plain?: string;
  expiresS?: number;
}

const MICROSECONDS_1601_TO_1970 = 11_644_473_600n * 1_000_000n;

/** A Chromium cookie database: the real column layout of meta version `metaVersion`. */
export async function writeChromiumDb(path: string, metaVersion: number, rows: ChromiumRow[]): Promise<void> {
  await writeSqlite(path, [
    ["CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR)"],
    ["INSERT INTO meta VALUES ('version', ?), ('last_compatible_version', ?)", [String(metaVersion), String(metaVersion)]],
    [
      "CREATE TABLE cookies(creation_utc INTEGER NOT NULL, host_key TEXT NOT NULL, top_frame_site_key TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, encrypted_value BLOB NOT NULL, path TEXT NOT NULL, expires_utc INTEGER NOT NULL, is_secure INTEGER NOT NULL, is_httponly INTEGER NOT NULL, last_access_utc INTEGER NOT NULL, has_expires INTEGER NOT NULL, is_persistent INTEGER NOT NULL, priority INTEGER NOT NULL, samesite INTEGER NOT NULL, source_scheme INTEGER NOT NULL, source_port INTEGER NOT NULL, last_update_utc INTEGER NOT NULL, source_type INTEGER NOT NULL, has_cross_site_ancestor INTEGER NOT NULL)",
    ],
    ...rows.map((row): [string, Array<string | number | Uint8Array>] => [
      "INSERT INTO cookies VALUES (0, ?, '', ?, ?, ?, '/', ?, 1, 1, 0, 1, 1, 1, 0, 2, 443, 0, 0, 0)",
      [
        row.host,
        row.name,
        row.plain ?? "",
        row.encrypted ?? new Uint8Array(0),
        // expires_utc: microseconds since 1601 (0: session), beyond a double's exact integers, hence BigInt and a decimal string.
        row.expiresS === undefined ? 0 : (BigInt(row.expiresS) * 1_000_000n + MICROSECONDS_1601_TO_1970).toString(),
      ],
    ]),
  ]);
}

/** The plaintext Chromium encrypts: from meta version 24, SHA-256(host_key) first. */
function chromiumPlaintext(value: string, host: string, metaVersion: number): Buffer {
  const text = Buffer.from(value, "utf8");
  return metaVersion >= 24 ? Buffer.concat([createHash("sha256").update(host).digest(), text]) : text;
}

/** Linux v10/v11 and macOS v10: AES-128-CBC, PBKDF2-SHA1(password, "saltysalt", iterations, 16 bytes), IV of 16 spaces. */
export function encryptCbc(prefix: "v10" | "v11", password: string, iterations: number, value: string, host: string, metaVersion: number): Uint8Array {
  const key = pbkdf2Sync(password, "saltysalt", iterations, 16, "sha1");
  const cipher = createCipheriv("aes-128-cbc", key, Buffer.alloc(16, " "));
  const body = Buffer.concat([cipher.update(chromiumPlaintext(value, host, metaVersion)), cipher.final()]);
  return Buffer.concat([Buffer.from(prefix), body]);
}

/** Windows v10: AES-256-GCM with a 12-byte nonce; the value is prefix, nonce, ciphertext, tag. */
export function encryptGcm(prefix: "v10" | "v20", key: Buffer, value: string, host: string, metaVersion: number): Uint8Array {
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  const body = Buffer.concat([cipher.update(chromiumPlaintext(value, host, metaVersion)), cipher.final()]);
  return Buffer.concat([Buffer.from(prefix), nonce, body, cipher.getAuthTag()]);
}

// ---- Firefox ----

export interface FirefoxRow {
  host: string;
  name: string;
  value: string;
  /** In the unit of the schema: seconds before 16, milliseconds from 16. */
  expiry: number;
  originAttributes?: string;
}

export async function writeFirefoxDb(path: string, userVersion: number, rows: FirefoxRow[]): Promise<void> {
  await writeSqlite(path, [
    [`PRAGMA user_version = ${userVersion}`],
    [
      "CREATE TABLE moz_cookies (id INTEGER PRIMARY KEY, originAttributes TEXT NOT NULL DEFAULT '', name TEXT, value TEXT, host TEXT, path TEXT, expiry INTEGER, lastAccessed INTEGER, creationTime INTEGER, isSecure INTEGER, isHttpOnly INTEGER, inBrowserElement INTEGER DEFAULT 0, sameSite INTEGER DEFAULT 0, schemeMap INTEGER DEFAULT 0, CONSTRAINT moz_uniqueid UNIQUE (name, host, path, originAttributes))",
    ],
    ...rows.map((row): [string, Array<string | number>] => [
      "INSERT INTO moz_cookies (originAttributes, name, value, host, path, expiry, lastAccessed, creationTime, isSecure, isHttpOnly) VALUES (?, ?, ?, ?, '/', ?, 0, 0, 1, 1)",
      [row.originAttributes ?? "", row.name, row.value, row.host, row.expiry],
    ]),
  ]);
}

/** A Firefox install in `home` (Linux layout) whose profiles.ini lists `profiles` (name → folder). */
export function writeProfilesIni(firefoxRoot: string, profiles: Array<{ name: string; path: string; isDefault?: boolean }>): void {
  mkdirSync(firefoxRoot, { recursive: true });
  const sections = profiles.map((p, i) => `[Profile${i}]\nName=${p.name}\nIsRelative=1\nPath=${p.path}\n${p.isDefault ? "Default=1\n" : ""}`);
  writeFileSync(join(firefoxRoot, "profiles.ini"), `${sections.join("\n")}\n[General]\nStartWithLastProfile=1\nVersion=2\n`);
}
