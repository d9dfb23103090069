/** The cookies of one Chromium-family profile, decrypted. */
import type { ProfileCookies } from "./browser-profile.js";
import { decryptCookieValue, type ChromiumKeySource } from "./chromium-decrypt.js";
import { candidateHostKeys } from "./domain-match.js";
import { bytesOf, numberOf, textOf, withSqliteSnapshot } from "./sqlite-snapshot.js";
import type { StoredCookie } from "./types.js";

// expires_utc counts microseconds from 1601-01-01 (0: a session cookie); this many seconds lie between that and 1970.
const SECONDS_FROM_1601_TO_1970 = 11_644_473_600;

/** Reads the database at `cookieDb`; values that cannot be decrypted become problems naming the cookie and the reason. */
export async function readChromiumCookies(cookieDb: string, host: string, platform: NodeJS.Platform, keys: ChromiumKeySource): Promise<ProfileCookies> {
  const hostKeys = candidateHostKeys(host);
  const { metaVersion, rows } = await withSqliteSnapshot(cookieDb, (query) => ({
    metaVersion: Number(textOf(query("SELECT value FROM meta WHERE key = 'version'")[0]?.value)) || 0,
    // Whole seconds in SQL: the microsecond count is beyond a double's exact integers.
    rows: query(
      `SELECT host_key, name, value, encrypted_value, path, is_secure, expires_utc / 1000000 AS expires_s FROM cookies WHERE host_key IN (${hostKeys.map(() => "?").join(", ")}) ORDER BY creation_utc, rowid`,
      hostKeys,
    ),
  }));

  const now = new Date();
  const cookies: StoredCookie[] = [];
  const failures = new Map<string, string[]>();
  for (const row of rows) {
    const seconds = numberOf(row.expires_s);
    const expires = seconds > 0 ? new Date((seconds - SECONDS_FROM_1601_TO_1970) * 1000) : null;
    // An expired cookie is not sent: no need to decrypt it, nor to warn about it.
    if (expires && expires <= now) continue;
    const name = textOf(row.name);
    const hostKey = textOf(row.host_key);
    const encrypted = bytesOf(row.encrypted_value);
    let value = textOf(row.value);
    if (encrypted.length > 0) {
      const decrypted = await decryptCookieValue(encrypted, hostKey, metaVersion, platform, keys);
      if ("problem" in decrypted) {
        failures.set(decrypted.problem, [...(failures.get(decrypted.problem) ?? []), name]);
        continue;
      }
      value = decrypted.value;
    }
    cookies.push({ name, value, hostKey, path: textOf(row.path) || "/", expires, secure: numberOf(row.is_secure) !== 0 });
  }
  const problems = [...failures].map(
    ([reason, names]) => `${names.length} cookie${names.length === 1 ? "" : "s"} (${names.join(", ")}) could not be decrypted: ${reason}`,
  );
  return { cookies, problems, notes: [] };
}
