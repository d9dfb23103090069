import { sessionCookieNameFor } from "../client/http-errors.js";
import type { OpenAssistantError } from "../errors.js";
import { redactUrl } from "../redact.js";

/**
 * The library's hints name its options (`cookies`, `timeout`, `proxy`); the CLI's name
 * flags and variables, and the site and proxy in use: a run's `context.hints`, set once
 * its settings are resolved.
 */
export interface HintContext {
  baseUrl?: { value: string; from: string } | undefined;
  proxy?: { value: string; from: string } | undefined;
}

const COOKIE_FLAGS = "--cookie, --cookies-file FILE or OASST_COOKIES";
const TRY_LOCALLY = "To try oasst locally: run `oasst emulate` in another terminal and paste the lines it prints.";

/** The error's fix in the CLI's words. */
export function cliHint(error: OpenAssistantError, context: HintContext): string {
  if (error.code === "auth" && (error.status === 401 || error.status === 403)) {
    return `Pass a current session cookie of ${site(context)} (${cookieName(context.baseUrl?.value)}=…) with ${COOKIE_FLAGS} (\`oasst emulate\` prints its own).`;
  }
  if (error.code === "timeout") return `${throughProxy(context)}The server is slow or unreachable: raise --timeout (e.g. --timeout 2m), or try again later.`;
  if (error.code === "connection") {
    return `${throughProxy(context)}Check --base-url (${site(context)}), your network and the proxy settings (--proxy, OASST_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY).`;
  }
  return error.hint;
}

/** For "no cookies found": the flags, your own site (open-assistant.io closed its chat in 2023), and the emulator. */
export function noCookiesHint(baseUrl: { value: string; from: string }): string {
  const fix =
    baseUrl.from === "default"
      ? `open-assistant.io closed its chat in 2023: pass your own Open-Assistant site with --base-url URL and its session cookie with ${COOKIE_FLAGS}.`
      : `Pass the session cookie of ${redactUrl(baseUrl.value)} (${cookieName(baseUrl.value)}=…) with ${COOKIE_FLAGS}, or --browser/--profile where you are logged in.`;
  return `${fix}\n${TRY_LOCALLY}`;
}

function site(context: HintContext): string {
  return context.baseUrl ? redactUrl(context.baseUrl.value) : "the site";
}

function cookieName(url: string | undefined): string {
  return (url && sessionCookieNameFor(url)) ?? "next-auth.session-token or __Secure-next-auth.session-token";
}

/** The proxy named with the variable or flag it came from: a stale HTTPS_PROXY is a common cause. */
function throughProxy(context: HintContext): string {
  const proxy = context.proxy;
  if (!proxy) return "";
  const unset = /^[A-Za-z_]+$/.test(proxy.from) ? ` (unset ${proxy.from}, or list the host in NO_PROXY, to connect directly)` : "";
  return `The request went through the proxy ${redactUrl(proxy.value)} from ${proxy.from}${unset}. `;
}
