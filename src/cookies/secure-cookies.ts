/**
 * Secure cookies go only where a browser sends them: over https, or to a loopback host
 * (a secure context: localhost, *.localhost, 127.0.0.0/8, ::1). A cookie is Secure when
 * its source marks it so, and whatever the source says when its name starts with
 * `__Secure-` or `__Host-` (browsers store such a cookie only with the Secure flag;
 * the prefixes are matched without regard to case, as browsers now do). Over plain http
 * to any other host a Secure cookie is left out; a session cookie left out that way is
 * an error before anything is sent, not a request that goes out logged out.
 */
import { ConfigError } from "../errors.js";
import { redactUrl } from "../redact.js";
import { isSessionCookie } from "./session-cookie.js";
import { isLoopbackHost } from "../loopback.js";

const SECURE_PREFIXES = ["__secure-", "__host-"];

/** A cookie as far as this rule cares: given cookies (a header, an object) carry no flag. */
export interface FlaggedCookie {
  name: string;
  secure?: boolean | undefined;
}

export function hasSecurePrefix(name: string): boolean {
  const lower = name.toLowerCase();
  return SECURE_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

export function isSecureCookie(cookie: FlaggedCookie): boolean {
  return cookie.secure === true || hasSecurePrefix(cookie.name);
}

/** https, or a loopback host: where browsers send Secure cookies (W3C Secure Contexts, "potentially trustworthy"), and where a cookie never leaves this machine. */
export function isSecureContext(url: URL): boolean {
  if (url.protocol === "https:") return true;
  return isLoopbackHost(url.hostname);
}

/** What a request to `url` may carry, and what it may not. */
export function splitBySecurity<T extends FlaggedCookie>(cookies: readonly T[], url: URL): { sent: T[]; leftOut: T[] } {
  if (isSecureContext(url)) return { sent: [...cookies], leftOut: [] };
  return { sent: cookies.filter((cookie) => !isSecureCookie(cookie)), leftOut: cookies.filter(isSecureCookie) };
}

/** The session cookie left out, when none is left to send: the request would go out logged out. */
export function lostSessionCookie<T extends FlaggedCookie>(sent: readonly T[], leftOut: readonly T[]): T | undefined {
  if (sent.some((cookie) => isSessionCookie(cookie.name))) return undefined;
  return leftOut.find((cookie) => isSessionCookie(cookie.name));
}

/** Says what to do, given the https:// form of the base URL: callers name their own setting (the CLI its --base-url). */
export type HttpsFix = (httpsUrl: string) => string;

export const HTTPS_BASE_URL_FIX: HttpsFix = (httpsUrl) => `Use the https:// base URL (the baseUrl option or OASST_BASE_URL): ${httpsUrl}.`;

/** The error for a session cookie that an http:// base URL would carry in clear. `from`: where the cookie came from. */
export function insecureSessionCookieError(cookie: FlaggedCookie, url: URL, from: string | undefined, fix: HttpsFix): ConfigError {
  const secure = cookie.secure === true ? "is marked Secure" : `is Secure (its name starts with ${cookie.name.slice(0, cookie.name.indexOf("-") + 1)})`;
  const https = new URL(url);
  https.protocol = "https:";
  return new ConfigError(
    `The session cookie ${cookie.name}${from ? ` from ${from}` : ""} ${secure}, and the base URL ${redactUrl(url)} is plain http: ` +
      "the cookie would travel unencrypted, so nothing was sent",
    `${fix(redactUrl(https))} Browsers send Secure cookies only over https (or to localhost).`,
  );
}
