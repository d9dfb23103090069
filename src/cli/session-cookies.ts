import { parseCookieHeader } from "../cookies/cookie-header.js";
import { ConfigError } from "../errors.js";
import { redactUrl } from "../redact.js";
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
 * Their values are registered as secrets so that no output can show them.
 */
export async function findSessionCookies(
  baseUrl: string,
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv,
  config: ConfigFile,
  onWarning: (message: string) => void,
): Promise<SessionCookies> {
  const found = await lookUp(baseUrl, flags, env, config, onWarning);
  keepSecret(...Object.values(found.cookies));
  return found;
}

async function lookUp(
  baseUrl: string,
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv,
  config: ConfigFile,
  onWarning: (message: string) => void,
): Promise<SessionCookies> {
  if (flags.cookie !== undefined) return { cookies: fromHeader(flags.cookie, "--cookie"), from: "--cookie" };
  if (flags.cookiesFile || flags.browser || flags.profile) {
    return { cookies: await fromSources(baseUrl, flags, env, onWarning), from: describeChoice(flags) };
  }
  if (env.OASST_COOKIES?.trim()) return { cookies: fromHeader(env.OASST_COOKIES, "OASST_COOKIES"), from: "OASST_COOKIES" };
  if (config.cookies !== undefined) {
    const cookies = typeof config.cookies === "string" ? fromHeader(config.cookies, `cookies in ${config.path}`) : config.cookies;
    return { cookies, from: config.path };
  }
  if (config.cookiesFile || config.browser || config.profile) {
    return { cookies: await fromSources(baseUrl, config, env, onWarning), from: describeChoice(config, config.path) };
  }
  return { cookies: await fromSources(baseUrl, {}, env, onWarning), from: "the cookie sources (cookies directory, browsers)" };
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
  baseUrl: string,
  choice: CookieSourceChoice,
  env: NodeJS.ProcessEnv,
  onWarning: (message: string) => void,
): Promise<Record<string, string>> {
  const { getCookies } = await import("../cookies/get-cookies.js");
  const browserNamed = Boolean(choice.browser || choice.profile);
  const named = browserNamed || Boolean(choice.cookiesFile);
  let source: CookieSourceKind | undefined;
  if (choice.cookiesFile && !browserNamed) source = "files";
  else if (browserNamed && !choice.cookiesFile) source = "browsers";
  return getCookies(hostOf(baseUrl), {
    cookiesFile: choice.cookiesFile,
    browser: choice.browser,
    profile: choice.profile,
    source,
    // OASST_COOKIES ranks below the places named on the command line or in the config file.
    env: named ? { ...env, OASST_COOKIES: undefined } : env,
    onWarning,
  });
}

/** `--cookies-file a.txt, --browser firefox`, or `cookiesFile a.txt in /path/config.json`. */
function describeChoice(choice: CookieSourceChoice, configPath?: string): string {
  const names = configPath ? ["cookiesFile", "browser", "profile"] : ["--cookies-file", "--browser", "--profile"];
  const parts = [choice.cookiesFile, choice.browser, choice.profile].flatMap((value, index) => (value ? [`${names[index]} ${value}`] : []));
  return `${parts.join(", ")}${configPath ? ` in ${configPath}` : ""}`;
}

function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).hostname;
  } catch {
    throw new ConfigError(
      `The base URL ${JSON.stringify(redactUrl(baseUrl))} is not a URL`,
      "Write it as https://host[:port][/prefix], e.g. https://open-assistant.io.",
    );
  }
}
