/** Options checked and turned into search settings: every ConfigError of cookie discovery comes from here. */
import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { ConfigError } from "../errors.js";
import type { BrowserProfile } from "./browser-profile.js";
import { chromiumCookieDb, chromiumInstallOf, chromiumProfileLabel } from "./chromium-profiles.js";
import { runCommand } from "./command-runner.js";
import { parseCookieHeader } from "./cookie-header.js";
import type { SearchSettings } from "./cookie-places.js";
import { defaultCookiesDir, type PlatformContext } from "./config-dir.js";
import { normalizeHost } from "./domain-match.js";
import { FIREFOX_COOKIE_DB } from "./firefox.js";
import { isSecureContext } from "./secure-cookies.js";
import { BROWSER_NAMES, COOKIE_SOURCE_KINDS, type BrowserName, type Cookies, type CookieSourceKind, type GetCookiesOptions } from "./types.js";

export async function searchSettings(domain: string, options: GetCookiesOptions): Promise<SearchSettings> {
  const host = normalizeHost(domain);
  const context: PlatformContext = {
    platform: options.platform ?? process.platform,
    homeDir: options.homeDir ?? homedir(),
    env: options.env ?? process.env,
  };
  const source = options.source;
  if (source !== undefined && !COOKIE_SOURCE_KINDS.includes(source)) {
    throw new ConfigError(`Unknown cookie source ${JSON.stringify(source)}`, `Use one of: ${COOKIE_SOURCE_KINDS.join(", ")}.`);
  }
  const browser = options.browser;
  if (browser !== undefined && !BROWSER_NAMES.includes(browser)) {
    throw new ConfigError(`Unknown browser ${JSON.stringify(browser)}`, `Use one of: ${BROWSER_NAMES.join(", ")}.`);
  }
  const cookieFiles = (typeof options.cookiesFile === "string" ? [options.cookiesFile] : (options.cookiesFile ?? [])).map((file) => resolve(file));
  for (const file of cookieFiles) await checkCookieFile(file);
  return {
    host,
    insecureSite: insecureSiteOf(domain),
    sources: new Set<CookieSourceKind>(source ? [source] : COOKIE_SOURCE_KINDS),
    explicit: explicitCookies(options.cookies),
    envCookies: context.env.OASST_COOKIES,
    cookieFiles,
    cookiesDir: options.cookiesDir ? resolve(options.cookiesDir) : defaultCookiesDir(context),
    browser,
    profile: options.profile ? await profileAt(resolve(options.profile), browser, context) : undefined,
    context,
    runCommand: options.runCommand ?? runCommand,
  };
}

/** A site given as a URL whose requests may not carry Secure cookies; a bare host name is taken as https. */
function insecureSiteOf(site: string): URL | undefined {
  if (!site.includes("://")) return undefined;
  // normalizeHost has already refused a URL that does not parse.
  const url = new URL(site.trim());
  return isSecureContext(url) ? undefined : url;
}

/** Empty objects and blank strings count as not given, as the provider's `cookies` option does. */
function explicitCookies(cookies: GetCookiesOptions["cookies"]): Cookies | undefined {
  if (cookies === undefined) return undefined;
  if (typeof cookies === "string") {
    const parsed = parseCookieHeader(cookies);
    return Object.keys(parsed).length > 0 ? parsed : undefined;
  }
  if (typeof cookies !== "object" || cookies === null || Object.values(cookies).some((value) => typeof value !== "string")) {
    throw new ConfigError(
      "The cookies option must be an object of strings or a Cookie header string",
      'Pass { "__Secure-next-auth.session-token": "…" } or "__Secure-next-auth.session-token=…".',
    );
  }
  return Object.keys(cookies).length > 0 ? { ...cookies } : undefined;
}

async function checkCookieFile(file: string): Promise<void> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) {
    throw new ConfigError(`The cookie file ${file} does not exist`, "Check the path given as cookiesFile (a Netscape cookies.txt, a JSON export or a HAR).");
  }
}

/** A profile folder given by path: Firefox when it holds cookies.sqlite, the Chromium family when it holds Cookies. */
async function profileAt(dir: string, browser: BrowserName | undefined, context: PlatformContext): Promise<BrowserProfile> {
  const isFirefox = await stat(join(dir, FIREFOX_COOKIE_DB)).then(
    (info) => info.isFile(),
    () => false,
  );
  const chromiumDb = isFirefox ? null : await chromiumCookieDb(dir);
  if (!isFirefox && !chromiumDb) {
    throw new ConfigError(
      `No cookie database in the profile folder ${dir}`,
      "Pass a Firefox profile folder (it holds cookies.sqlite, e.g. ~/.mozilla/firefox/xxxx.default-release) or a Chromium-family one (it holds Cookies or Network/Cookies, e.g. ~/.config/chromium/Default).",
    );
  }
  if (isFirefox) {
    if (browser && browser !== "firefox") {
      throw new ConfigError(`${dir} is a Firefox profile, not a ${browser} one`, "Leave out the browser option, or pass firefox.");
    }
    return { browser: "firefox", label: `Firefox profile ${basename(dir)}`, dir };
  }
  if (browser === "firefox") {
    throw new ConfigError(
      `${dir} is a Chromium-family profile, not a Firefox one`,
      "Pass the browser it belongs to (chrome, chromium, brave, edge, vivaldi or opera), or leave the browser option out.",
    );
  }
  // The browser decides the Keychain or keyring entry; a known install tells it, else the caller, else Chromium.
  const install = chromiumInstallOf(dir, context);
  const owner = browser ?? install?.browser ?? "chromium";
  // Local State sits in the user data folder: the profile's parent, or the profile itself for Opera.
  const userDataDir =
    install?.userDataDir ??
    ((await stat(join(dir, "Local State")).then(
      () => true,
      () => false,
    ))
      ? dir
      : dirname(dir));
  return { browser: owner, label: chromiumProfileLabel(owner, dir), dir, userDataDir };
}
