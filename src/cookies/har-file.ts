/** HAR files (the browser's "Save all as HAR"): the cookies the browser sent to the host. */
import { parseCookieHeader } from "./cookie-header.js";
import { isRecord } from "./is-record.js";
import type { StoredCookie } from "./types.js";

/** True for a HAR document: `{log: {entries: [...]}}`. */
export function isHar(data: unknown): data is { log: { entries: unknown[] } } {
  if (!isRecord(data) || !isRecord(data.log)) return false;
  return Array.isArray(data.log.entries);
}

/**
 * The request cookies of the entries whose URL is on exactly `host` (a request to a
 * subdomain may carry cookies that are not the parent's). A later request's cookie
 * replaces an earlier one of the same name: it is the newer value.
 */
export function harCookiesForHost(har: { log: { entries: unknown[] } }, host: string): StoredCookie[] {
  const byName = new Map<string, StoredCookie>();
  for (const entry of har.log.entries) {
    if (!isRecord(entry) || !isRecord(entry.request) || typeof entry.request.url !== "string") continue;
    let url: URL;
    try {
      url = new URL(entry.request.url);
    } catch {
      continue;
    }
    if (url.hostname.toLowerCase() !== host) continue;
    for (const cookie of requestCookies(entry.request)) byName.set(cookie.name, { ...cookie, hostKey: host, path: "/" });
  }
  return [...byName.values()];
}

function requestCookies(request: Record<string, unknown>): Array<Pick<StoredCookie, "name" | "value" | "expires" | "secure">> {
  const listed = Array.isArray(request.cookies) ? request.cookies.filter(isRecord) : [];
  const cookies = listed.flatMap((cookie) =>
    typeof cookie.name === "string" && cookie.name && typeof cookie.value === "string"
      ? [
          {
            name: cookie.name,
            value: cookie.value,
            expires: typeof cookie.expires === "string" ? validDate(cookie.expires) : null,
            // Chromium's HAR export writes the flag; others leave it out.
            secure: cookie.secure === true,
          },
        ]
      : [],
  );
  if (cookies.length > 0) return cookies;
  // Some exporters leave `cookies` empty and keep only the header.
  const headers = Array.isArray(request.headers) ? request.headers.filter(isRecord) : [];
  const header = headers.find((h) => typeof h.name === "string" && h.name.toLowerCase() === "cookie");
  if (!header || typeof header.value !== "string") return [];
  return Object.entries(parseCookieHeader(header.value)).map(([name, value]) => ({ name, value, expires: null, secure: false }));
}

function validDate(text: string): Date | null {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}
