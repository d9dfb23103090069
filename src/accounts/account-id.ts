import { createHash } from "node:crypto";
import { isSessionCookie } from "../cookies/session-cookie.js";

/**
 * An account is a site (its origin) and a session: the server keys its rate limit and
 * its "cancel the other pending replies" rule on the user, and the session cookie is
 * what names the user. The id is a hash, safe to show and to store: it never holds the
 * cookie's value. Cookies other than the session's (analytics, CSRF) do not change it.
 */
export function accountId(origin: string, cookieHeader: string | undefined): string {
  const session = sessionPart(cookieHeader ?? "");
  return createHash("sha256").update(origin).update("\0").update(session).digest("hex").slice(0, 16);
}

/** The session cookie's pieces in order (`name.0`, `name.1`…), else the whole header. */
function sessionPart(cookieHeader: string): string {
  const pairs = cookieHeader
    .split(";")
    .map((pair) => pair.trim())
    .filter(Boolean);
  const session = pairs.filter((pair) => isSessionCookie(pair.slice(0, Math.max(0, pair.indexOf("=")))));
  return (session.length ? session.sort() : pairs).join("; ");
}
