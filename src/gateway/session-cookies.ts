import { DEFAULT_BASE_URL, type CookieInput } from "../client/client.js";
import { parseBaseUrl } from "../client/http-transport.js";
import { resolveSessionCookies } from "../provider/session-cookies.js";
import type { UpstreamOptions } from "./open-assistant-reply.js";

/**
 * The gateway's own Open-Assistant cookies: the `cookies` option, else the cookie
 * sources (OASST_COOKIES, cookie files, browsers) for the base URL's host, as the
 * provider looks them up. Throws an AuthError naming every place looked at.
 */
export function gatewayCookies(upstream: UpstreamOptions): Promise<CookieInput> {
  const env = upstream.env ?? process.env;
  const baseUrl = parseBaseUrl(upstream.baseUrl ?? env.OASST_BASE_URL ?? DEFAULT_BASE_URL).toString();
  return resolveSessionCookies(upstream.cookies, () => baseUrl, {
    env,
    cookiesDir: upstream.cookiesDir,
    cookiesFile: upstream.cookiesFile,
    browser: upstream.browser,
    profile: upstream.profile,
    onWarning: (message) => {
      if (upstream.onWarning) upstream.onWarning({ code: "cookie_source", message });
      else process.emitWarning(message, { code: "OASST_COOKIE_SOURCE" });
    },
  });
}
