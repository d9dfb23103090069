import type { CookieInput } from "../client/client.js";
import { AuthError } from "../errors.js";

/** True for `undefined`, `{}` and blank strings: the caller gave no cookies. */
export function isEmptyCookies(cookies: CookieInput | undefined): boolean {
  if (cookies === undefined) return true;
  return typeof cookies === "string" ? cookies.trim() === "" : Object.keys(cookies).length === 0;
}

/** The cookies to send: the caller's, else OASST_COOKIES. */
export async function resolveSessionCookies(cookies: CookieInput | undefined, env: NodeJS.ProcessEnv): Promise<CookieInput> {
  if (!isEmptyCookies(cookies)) return cookies as CookieInput;
  const fromEnv = env.OASST_COOKIES?.trim();
  if (fromEnv) return fromEnv;
  throw new AuthError("No session cookies were given for Open-Assistant", {
    hint: "Pass the session cookie: the `cookies` option ({ \"__Secure-next-auth.session-token\": \"…\" } or a Cookie header string) or OASST_COOKIES='__Secure-next-auth.session-token=…'.",
  });
}
