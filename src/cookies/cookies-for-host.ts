/** From everything one place stores, the cookies a request to the host would carry: one per name. */
import { hostKeyMatches } from "./domain-match.js";
import type { StoredCookie } from "./types.js";

/**
 * Keeps the cookies whose host key matches `host` and that have not expired.
 * When a name is stored more than once (another path, a parent domain), the most
 * specific one wins: the host's own cookie, then the longest domain, then the
 * shortest path (it covers the API's paths), then the one that lives longest.
 */
export function cookiesForHost(stored: readonly StoredCookie[], host: string, now = new Date()): StoredCookie[] {
  const live = stored.filter((cookie) => hostKeyMatches(cookie.hostKey, host) && (cookie.expires === null || cookie.expires > now));
  const byName = new Map<string, StoredCookie>();
  for (const cookie of [...live].sort(bySpecificity)) {
    if (!byName.has(cookie.name)) byName.set(cookie.name, cookie);
  }
  // Keep the order the place stored them in, which is what a user recognises.
  return live.filter((cookie) => byName.get(cookie.name) === cookie);
}

function bySpecificity(a: StoredCookie, b: StoredCookie): number {
  const hostOnly = Number(b.hostKey[0] !== ".") - Number(a.hostKey[0] !== ".");
  if (hostOnly !== 0) return hostOnly;
  if (a.hostKey.length !== b.hostKey.length) return b.hostKey.length - a.hostKey.length;
  if (a.path.length !== b.path.length) return a.path.length - b.path.length;
  return expiryTime(b) - expiryTime(a);
}

function expiryTime(cookie: StoredCookie): number {
  return cookie.expires === null ? 0 : cookie.expires.getTime();
}
