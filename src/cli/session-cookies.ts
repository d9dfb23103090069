import { parseCookieHeader } from "../cookies/cookie-header.js";
import { insecureSessionCookieError, lostSessionCookie, splitBySecurity, type HttpsFix } from "../cookies/secure-cookies.js";
import { AuthError, ConfigError } from "../errors.js";
import { redactUrl } from "../redact.js";
import type { CliContext } from "./cli-context.js";
import { noCookiesHint } from "./cli-hints.js";
import type { ConfigFile, ConnectionFlags } from "./config.js";
import { keepSecret } from "./error-output.js";
import type { BrowserName, CookieSourceKind } from "../cookies/types.js";

export interface SessionCookies {
  cookies: Record<string, string>;
  /** Where they came from, for --verbose. */
  from: string;
}

interface CookieSourceChoice {
  cookiesFile?: string | undefined;
  browser?: BrowserName | undefined;
  profile?: string | undefined;
}

/**
 * The session cookies, highest first: --cookie, --cookies-file/--browser/--profile,
 * OASST_COOKIES, the config file, then every cookie source getCookies knows.
 * Their values are registered as secrets so that no output can show them. For a plain
 * http:// base URL (not loopback) Secure cookies are left out, as browsers leave them
 * out; a session cookie left out that way is a ConfigError that names --base-url.
 */
export async function findSessionCookies(
  context: CliContext,
  baseUrl: string,
  flags: ConnectionFlags,
  config: ConfigFile,
  onWarning: (message: string) => void,
  /** Where the base URL came from (--base-url, OASST_BASE_URL, the config file), for the error. */
  baseUrlFrom = "--base-url",
): Promise<SessionCookies> {
  const site = siteUrl(baseUrl);
  const fix: HttpsFix = (httpsUrl) => `Pass --base-url ${httpsUrl}${baseUrlFrom === "--base-url" ? "" : ` (the http:// URL came from ${baseUrlFrom})`}.`;
  const found = await lookUp(context, site, fix, flags, config, onWarning).catch((error: unknown) => {
    // The only AuthError of the search is "none found": the same places, with the fix in flags.
    if (!(error instanceof AuthError)) throw error;
    throw new AuthError(error.summary, { details: error.details, hint: noCookiesHint({ value: baseUrl, from: baseUrlFrom }) });
  });
  keepSecret(context, ...Object.values(found.cookies));
  // Cookies given by name (--cookie, OASST_COOKIES, the config file) carry no Secure flag: their names decide.
  const { sent, leftOut } = splitBySecurity(
    Object.keys(found.cookies).map((name) => ({ name })),
    site,
  );
  const lost = lostSessionCookie(sent, leftOut);
  if (lost) throw insecureSessionCookieError(lost, site, found.from, fix);
  if (leftOut.length === 0) return found;
  const unsent = new Set(leftOut.map(({ name }) => name));
  return { ...found, cookies: Object.fromEntries(Object.entries(found.cookies).filter(([name]) => !unsent.has(name))) };
}

async function lookUp(
  context: CliContext,
  site: URL,
  fix: HttpsFix,
  flags: ConnectionFlags,
  config: ConfigFile,
  onWarning: (message: string) => void,
): Promise<SessionCookies> {
  const { env } = context;
  const sources = (choice: CookieSourceChoice) => fromSources(context, site, fix, choice, onWarning);
  if (flags.cookie !== undefined) return { cookies: fromHeader(flags.cookie, "--cookie"), from: "--cookie" };
  if (flags.cookiesFile || flags.browser || flags.profile) {
    return { cookies: await sources(flags), from: describeChoice(flags) };
  }
  if (env.OASST_COOKIES?.trim()) return { cookies: fromHeader(env.OASST_COOKIES, "OASST_COOKIES"), from: "OASST_COOKIES" };
  if (config.cookies !== undefined) {
    const cookies = typeof config.cookies === "string" ? fromHeader(config.cookies, `cookies in ${config.path}`) : config.cookies;
    return { cookies, from: config.path };
  }
  if (config.cookiesFile || config.browser || config.profile) {
    return { cookies: await sources(config), from: describeChoice(config, config.path) };
  }
  return { cookies: await sources({}), from: "the cookie sources (cookies directory, browsers)" };
}

function fromHeader(header: string, where: string): Record<string, string> {
  const cookies = parseCookieHeader(header);
  if (Object.keys(cookies).length === 0) {
    throw new ConfigError(`${where} holds no name=value cookie`, "Write the cookies as a Cookie header: 'name=value; name2=value2'.");
  }
  return cookies;
}

/**
 * Ask the cookie sources. A file, browser or profile that was named is the only
 * kind of place read; with none named, every source is (its AuthError lists each place).
 */
async function fromSources(
  { env, homeDir, platform }: CliContext,
  site: URL,
  fix: HttpsFix,
  choice: CookieSourceChoice,
  onWarning: (message: string) => void,
): Promise<Record<string, string>> {
  const { cookiesFor } = await import("../cookies/get-cookies.js");
  const browserNamed = Boolean(choice.browser || choice.profile);
  const named = browserNamed || Boolean(choice.cookiesFile);
  let source: CookieSourceKind | undefined;
  if (choice.cookiesFile && !browserNamed) source = "files";
  else if (browserNamed && !choice.cookiesFile) source = "browsers";
  // The URL, not only its host: a plain http:// site gets no Secure cookie.
  return cookiesFor(
    site.href,
    {
      cookiesFile: choice.cookiesFile,
      browser: choice.browser,
      profile: choice.profile,
      source,
      // OASST_COOKIES ranks below the places named on the command line or in the config file.
      env: named ? { ...env, OASST_COOKIES: undefined } : env,
      homeDir,
      platform,
      onWarning,
    },
    fix,
  );
}

/** `--cookies-file a.txt, --browser firefox`, or `cookiesFile a.txt in /path/config.json`. */
function describeChoice(choice: CookieSourceChoice, configPath?: string): string {
  const names = configPath ? ["cookiesFile", "browser", "profile"] : ["--cookies-file", "--browser", "--profile"];
  const parts = [choice.cookiesFile, choice.browser, choice.profile].flatMap((value, index) => (value ? [`${names[index]} ${value}`] : []));
  return `${parts.join(", ")}${configPath ? ` in ${configPath}` : ""}`;
}

function siteUrl(baseUrl: string): URL {
  try {
    return new URL(baseUrl);
  } catch {
    throw new ConfigError(
      `The base URL ${JSON.stringify(redactUrl(baseUrl))} is not a URL`,
      "Write it as https://host[:port][/prefix], e.g. https://open-assistant.io.",
    );
  }
}
