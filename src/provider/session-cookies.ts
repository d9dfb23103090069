import type { CookieInput } from "../client/client.js";
import type { GetCookiesOptions } from "../cookies/types.js";

/** True for `undefined`, `{}` and blank strings: the caller gave no cookies. */
export function isEmptyCookies(cookies: CookieInput | undefined): boolean {
  if (cookies === undefined) return true;
  return typeof cookies === "string" ? cookies.trim() === "" : Object.keys(cookies).length === 0;
}

/**
 * The cookies to send to `baseUrl`: the caller's as given, else the cookie sources
 * (OASST_COOKIES, cookie files, browser profiles), which throw an AuthError naming
 * every place looked at when none holds a cookie for the site.
 */
export async function resolveSessionCookies(
  cookies: CookieInput | undefined,
  baseUrl: () => string,
  sources: Omit<GetCookiesOptions, "cookies">,
): Promise<CookieInput> {
  if (!isEmptyCookies(cookies)) return cookies as CookieInput;
  // Loaded on first use: callers that pass cookies never pay for the browser readers.
  const { getCookies } = await import("../cookies/get-cookies.js");
  return getCookies(new URL(baseUrl()).hostname, sources);
}
