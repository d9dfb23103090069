/** The public entry points: getCookies (cached per process), findCookies (the report) and the cache's reset. */
import { AuthError } from "../errors.js";
import type { SearchSettings } from "./cookie-places.js";
import { searchCookies } from "./search-cookies.js";
import { searchSettings } from "./search-settings.js";
import { HTTPS_BASE_URL_FIX, insecureSessionCookieError, type HttpsFix } from "./secure-cookies.js";
import { isSessionCookie } from "./session-cookie.js";
import type { Cookies, FoundCookies, GetCookiesOptions, SearchedPlace } from "./types.js";

const cache = new Map<string, Promise<Cookies>>();

/**
 * The cookies to send to `site` (a host name, or the site's URL): given ones, else
 * OASST_COOKIES, else cookie files, else the browsers' profiles on this machine. For a
 * plain http:// URL of a host that is not loopback, Secure cookies are left out, as
 * browsers leave them out. Throws an AuthError naming every place looked at when none
 * holds a cookie for the site; a ConfigError for bad options, and when the session
 * cookie is Secure and the URL plain http.
 */
export async function getCookies(site: string, options: GetCookiesOptions = {}): Promise<Cookies> {
  return cookiesFor(site, options, HTTPS_BASE_URL_FIX);
}

/** getCookies, with the caller's words for an https:// base URL in the error for a Secure session cookie (the CLI's --base-url). */
export async function cookiesFor(site: string, options: GetCookiesOptions, fix: HttpsFix): Promise<Cookies> {
  const settings = await searchSettings(site, options);
  const key = cacheKey(settings);
  let pending = options.refresh ? undefined : cache.get(key);
  if (!pending) {
    pending = lookUp(settings, options.onWarning ?? emitWarning, fix);
    cache.set(key, pending);
    // Only a success is kept: after a failure the user logs in, and the next call must look again.
    pending.catch(() => {
      if (cache.get(key) === pending) cache.delete(key);
    });
  }
  return { ...(await pending) };
}

/** Every place looked at and what it held, and the cookies getCookies would return with their sources. Never throws for "none found". */
export async function findCookies(site: string, options: GetCookiesOptions = {}): Promise<FoundCookies> {
  const settings = await searchSettings(site, options);
  const { cookies, searched } = await searchCookies(settings, { stopEarly: false, onWarning: options.onWarning ?? emitWarning });
  return { cookies, searched };
}

/** Forget every cached answer: the next getCookies reads its sources again. */
export function clearCookieCache(): void {
  cache.clear();
}

/** The AuthError for a search that found nothing: the cause, every place and what it held (one a line), then the ways to pass cookies. */
export function noCookiesError(host: string, searched: readonly SearchedPlace[], cookiesDir: string, hint?: string): AuthError {
  return new AuthError(`No cookies for ${host} were found. Looked at:`, {
    details: placeLines(searched),
    hint:
      hint ??
      `Pass the session cookie of your Open-Assistant site (next-auth.session-token, or __Secure-next-auth.session-token on https) in the cookies option ` +
        `or OASST_COOKIES, put a cookies.txt, JSON export or HAR file in ${cookiesDir}, or log in to the site in Firefox or Chromium on this machine.`,
  });
}

/** One line a place; the browsers without a profile share one line (findCookies has the folders each was looked for in). */
function placeLines(searched: readonly SearchedPlace[]): string[] {
  const noProfile = searched.filter(({ result }) => result.startsWith("no profile found"));
  const lines = searched.filter((place) => !noProfile.includes(place)).map(({ place, result }) => `${place}: ${result}`);
  return noProfile.length > 0 ? [...lines, `${noProfile.map(({ place }) => place).join(", ")}: no profile found`] : lines;
}

async function lookUp(settings: SearchSettings, onWarning: (message: string) => void, fix: HttpsFix): Promise<Cookies> {
  const found = await searchCookies(settings, { stopEarly: true, onWarning });
  const lost = found.insecureSession;
  if (lost && settings.insecureSite && !found.cookies.some((cookie) => isSessionCookie(cookie.name))) {
    throw insecureSessionCookieError(lost.cookie, settings.insecureSite, lost.place, fix);
  }
  if (found.cookies.length === 0) throw noCookiesError(settings.host, found.searched, settings.cookiesDir);
  return Object.fromEntries(found.cookies.map((cookie) => [cookie.name, cookie.value]));
}

/** Everything that changes the answer; the runner and callbacks do not. */
function cacheKey(settings: SearchSettings): string {
  const { context, runCommand: _runner, sources, profile, ...rest } = settings;
  return JSON.stringify({
    ...rest,
    sources: [...sources],
    profile: profile?.dir,
    platform: context.platform,
    homeDir: context.homeDir,
    // The folders browsers are found under.
    env: [context.env.XDG_CONFIG_HOME, context.env.APPDATA, context.env.LOCALAPPDATA],
  });
}

function emitWarning(message: string): void {
  process.emitWarning(message, { type: "OasstCookieWarning" });
}
