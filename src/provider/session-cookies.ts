import { DEFAULT_BASE_URL, type CookieInput } from "../client/client.js";
import { parseBaseUrl } from "../client/http-transport.js";
import type { OpenAssistantOptions } from "./options.js";

/** True for `undefined`, `{}` and blank strings: the caller gave no cookies. */
export function isEmptyCookies(cookies: CookieInput | undefined): boolean {
  if (cookies === undefined) return true;
  return typeof cookies === "string" ? cookies.trim() === "" : Object.keys(cookies).length === 0;
}

/** The options that say where a site is and how to log in to it. */
export type CookieSourceOptions = Pick<
  OpenAssistantOptions,
  "baseUrl" | "cookies" | "cookiesDir" | "cookiesFile" | "browser" | "profile" | "env" | "onWarning"
>;

/**
 * The cookies to send to the site: the caller's as given, else the cookie sources
 * (OASST_COOKIES, cookie files, browser profiles), which throw an AuthError naming
 * every place looked at when none holds a cookie for the site (and a ConfigError when
 * an http:// base URL leaves out a Secure session cookie). The provider, the gateway
 * and the AI SDK provider all find their cookies here.
 */
export async function resolveSessionCookies(options: CookieSourceOptions): Promise<CookieInput> {
  if (!isEmptyCookies(options.cookies)) return options.cookies as CookieInput;
  const env = options.env ?? process.env;
  const baseUrl = parseBaseUrl(options.baseUrl ?? env.OASST_BASE_URL ?? DEFAULT_BASE_URL);
  // Loaded on first use: callers that pass cookies never pay for the browser readers.
  const { getCookies } = await import("../cookies/get-cookies.js");
  // The URL, not only its host: a plain http:// site gets no Secure cookie.
  return getCookies(baseUrl.href, {
    env,
    cookiesDir: options.cookiesDir,
    cookiesFile: options.cookiesFile,
    browser: options.browser,
    profile: options.profile,
    onWarning: (message) => {
      if (options.onWarning) options.onWarning({ code: "cookie_source", message });
      else process.emitWarning(message, { code: "OASST_COOKIE_SOURCE" });
    },
  });
}
