/** The write-ahead log of a running Firefox, folded into its database as SQLite would. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import initSqlJs from "sql.js";
import { describe, expect, it } from "vitest";
import { applyWal } from "../../src/cookies/sqlite-wal.js";
import { FIXTURES } from "./helpers.js";

const running = (name: string) => new Uint8Array(gunzipSync(readFileSync(join(FIXTURES, "firefox-running", "default-release", name))));

async function cookieNames(image: Uint8Array): Promise<string[]> {
  const SQL = await initSqlJs();
  const db = new SQL.Database(image);
  try {
    return (db.exec("SELECT name FROM moz_cookies ORDER BY name")[0]?.values ?? []).map(([name]) => String(name));
  } finally {
    db.close();
  }
}

describe("applyWal", () => {
  it("brings in the rows that only the log holds", async () => {
    const database = running("cookies.sqlite.gz");
    expect(await cookieNames(database)).toEqual([]);
    expect(await cookieNames(applyWal(database, running("cookies.sqlite-wal.gz")))).toEqual([
      "__Secure-next-auth.session-token",
      "chat-host-only",
      "oasst-fixture-pref",
    ]);
  });

  it("ignores a torn last frame, as SQLite does: its transaction never committed", async () => {
    const database = running("cookies.sqlite.gz");
    const wal = running("cookies.sqlite-wal.gz");
    const torn = wal.slice();
    torn[torn.length - 1] = (torn[torn.length - 1] ?? 0) ^ 0xff;
    expect(await cookieNames(applyWal(database, torn))).toEqual([]);
  });

  it("ignores a log whose header does not verify (one being restarted)", async () => {
    const database = running("cookies.sqlite.gz");
    const restarting = running("cookies.sqlite-wal.gz").slice();
    // Salt-1 of the header: covered by the header checksum, and compared with every frame's.
    restarting[16] = (restarting[16] ?? 0) ^ 0x01;
    expect(await cookieNames(applyWal(database, restarting))).toEqual([]);
  });

  it("leaves a database without a usable log readable, and never changes the caller's bytes", async () => {
    const database = running("cookies.sqlite.gz");
    const before = database.slice();
    expect(await cookieNames(applyWal(database, new Uint8Array(10)))).toEqual([]);
    expect(database).toEqual(before);
  });
});
