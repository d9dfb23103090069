import type { IncomingHttpHeaders } from "node:http";

/**
 * NextAuth 4.22 `getToken`, reduced to what the emulator needs: the session token is
 * read from the one configured cookie name, joined from its chunks (`<name>.0`,
 * `<name>.1`, …) when split, and only when no cookie carries it from
 * `Authorization: Bearer <url-encoded token>`. A token other than the emulator's is a
 * failed decode, which NextAuth turns into "no session" (403).
 */

function decodeCookieValue(raw: string): string {
  const value = raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1) : raw;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The `cookie` package's `parse` as Next.js uses it: first occurrence of a name wins. */
export function parseCookieHeader(header: string): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const pair of header.split(";")) {
    const equals = pair.indexOf("=");
    if (equals < 0) continue;
    const name = pair.slice(0, equals).trim();
    if (!name || cookies.has(name)) continue;
    cookies.set(name, decodeCookieValue(pair.slice(equals + 1).trim()));
  }
  return cookies;
}

/** NextAuth's SessionStore: every cookie whose name starts with the configured name, ordered by chunk suffix. */
function sessionCookieValue(cookies: Map<string, string>, cookieName: string): string {
  const chunkSuffix = (name: string) => parseInt(name.split(".").pop() ?? "0", 10);
  return [...cookies.entries()]
    .filter(([name]) => name.startsWith(cookieName))
    .sort(([a], [b]) => chunkSuffix(a) - chunkSuffix(b) || 0)
    .map(([, value]) => value)
    .join("");
}

/** The session token the request presents, as NextAuth would find it (empty when none). */
export function presentedSessionToken(headers: IncomingHttpHeaders, cookieName: string): string {
  const fromCookie = sessionCookieValue(parseCookieHeader(headers.cookie ?? ""), cookieName);
  if (fromCookie) return fromCookie;
  const [scheme, encoded] = (headers.authorization ?? "").split(" ");
  if (scheme !== "Bearer" || !encoded) return "";
  try {
    return decodeURIComponent(encoded);
  } catch {
    return "";
  }
}
