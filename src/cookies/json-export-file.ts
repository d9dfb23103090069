/**
 * JSON cookie exports: the array that Cookie-Editor, EditThisCookie and similar
 * extensions write (`{domain, name, value, path, hostOnly, expirationDate, secure}`), and
 * `{cookies: [...]}` as Playwright's storage state writes it (`expires`, -1 for a session cookie).
 */
import { hostKeyOf } from "./domain-match.js";
import { isRecord } from "./is-record.js";
import type { StoredCookie } from "./types.js";

/** The export's cookies, or null when the JSON is not a cookie export. */
export function parseJsonCookieExport(data: unknown): StoredCookie[] | null {
  const list = Array.isArray(data) ? data : isRecord(data) && Array.isArray(data.cookies) ? data.cookies : null;
  if (!list) return null;
  const cookies: StoredCookie[] = [];
  for (const entry of list) {
    if (!isRecord(entry)) continue;
    const { domain, name, value } = entry;
    if (typeof domain !== "string" || typeof name !== "string" || typeof value !== "string" || !domain || !name) continue;
    cookies.push({
      name,
      value,
      // hostOnly: false marks a domain cookie even when the exporter dropped the leading dot.
      hostKey: hostKeyOf(domain, entry.hostOnly === false),
      path: typeof entry.path === "string" ? entry.path : "/",
      expires: expiryOf(entry),
      secure: entry.secure === true,
    });
  }
  return list.length > 0 && cookies.length === 0 ? null : cookies;
}

function expiryOf(entry: Record<string, unknown>): Date | null {
  if (entry.session === true) return null;
  const seconds = typeof entry.expirationDate === "number" ? entry.expirationDate : entry.expires;
  return typeof seconds === "number" && Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : null;
}
