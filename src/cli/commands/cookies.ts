import { Option, type Command } from "commander";
import { defaultCookiesDir } from "../../cookies/config-dir.js";
import { normalizeHost } from "../../cookies/domain-match.js";
import { BROWSER_NAMES, type BrowserName, type CookieReport, type FoundCookies } from "../../cookies/types.js";
import { ConfigError } from "../../errors.js";
import { redactUrl } from "../../redact.js";
import { preferBaselineWasm } from "../baseline-wasm.js";
import type { CliContext } from "../cli-context.js";
import { noCookiesHint } from "../cli-hints.js";
import { keepSecret, stderrWarner } from "../error-output.js";
import { formatTable } from "../table.js";
import { stdoutPalette, type Palette } from "../terminal.js";

const EXAMPLES = `
Examples:
  $ oasst cookies                                   # every source, for the site oasst chat uses
  $ oasst cookies --browser firefox                 # only Firefox's profiles
  $ oasst cookies --profile ~/.config/chromium/Default --json
  $ oasst cookies 127.0.0.1 --show-values           # a local server; prints the values too

Without a domain, the site is the one the other commands use: --base-url, else
OASST_BASE_URL, else the config file's baseUrl, else open-assistant.io.
Sources, in order: OASST_COOKIES, the cookies folder (OASST_COOKIES_DIR; cookies.txt, JSON
exports, HAR), then Firefox, Chrome, Chromium, Brave, Edge, Vivaldi and Opera profiles.
Exit status 2 when no source holds a cookie for the domain. docs/cookies.md has the details.`;

interface CookiesFlags {
  baseUrl?: string;
  browser?: BrowserName;
  profile?: string;
  json?: boolean;
  showValues?: boolean;
}

/** `oasst cookies`: which source supplies which cookie, and until when; values only on request. */
export function registerCookiesCommand(program: Command, context: CliContext): void {
  program
    .command("cookies")
    .description("show where the session cookies come from: source, name and expiry of each (values hidden)")
    .argument("[domain]", "the site whose cookies to look for (default: the base URL's host)")
    .option("--base-url <url>", "the Open-Assistant site (env OASST_BASE_URL; default https://open-assistant.io)")
    .addOption(new Option("--browser <name>", "read only this browser's profiles").choices(BROWSER_NAMES))
    .option("--profile <dir>", "read only this browser profile folder (Firefox or Chromium family)")
    .option("--json", "print the report as JSON")
    .option("--show-values", "print the cookie values too: they log you in, keep them off shared screens and logs")
    .addHelpText("after", EXAMPLES)
    .action(async (domain: string | undefined, flags: CookiesFlags) => {
      await runCookies(context, domain, flags);
    });
}

async function runCookies(context: CliContext, domain: string | undefined, flags: CookiesFlags): Promise<void> {
  // Loaded here: the browser readers and the provider's defaults are not for every command's start-up.
  const [{ findCookies, noCookiesError }, { configFilePath, readConfigFile, resolveConnectionSettings }, { DEFAULTS }] = await Promise.all([
    import("../../cookies/get-cookies.js"),
    import("../config.js"),
    import("../connection.js"),
  ]);
  preferBaselineWasm(context);
  const { env, homeDir, platform } = context;
  // The same site as `oasst chat` and the others: flag, environment, config file, default.
  const baseUrl = domain
    ? { value: normalizeHost(domain), from: "the domain argument" }
    : resolveConnectionSettings(context, { baseUrl: flags.baseUrl }, await readConfigFile(configFilePath(context)), DEFAULTS).baseUrl;
  const site = baseUrl.value;
  const host = domain ? site : siteHost(site);
  const report = await findCookies(site, {
    browser: flags.browser,
    profile: flags.profile,
    // A browser or profile named on the command line is the only place looked at, as for `oasst chat`.
    source: flags.browser || flags.profile ? "browsers" : undefined,
    env,
    homeDir,
    platform,
    onWarning: stderrWarner(context),
  });
  // Whatever else is printed (a warning, an error), these values never are, unless asked for below.
  keepSecret(context, ...report.cookies.map((cookie) => cookie.value));
  context.stdout.write(
    flags.json
      ? `${JSON.stringify(asJson(host, report, flags.showValues === true), null, 2)}\n`
      : asTable(report, flags.showValues === true, stdoutPalette(context)),
  );
  if (report.cookies.length === 0) {
    const cookiesDir = defaultCookiesDir({ platform, homeDir, env });
    throw noCookiesError(host, report.searched, cookiesDir, noCookiesHint(baseUrl));
  }
}

function siteHost(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    throw new ConfigError(`The base URL ${JSON.stringify(redactUrl(url))} is not a URL`, "Write it as https://host[:port][/prefix].");
  }
}

function asJson(host: string, { cookies, searched }: FoundCookies, showValues: boolean) {
  return {
    domain: host,
    cookies: cookies.map(({ source, name, expires, value }) => ({ source, name, expires: expires?.toISOString() ?? null, ...(showValues ? { value } : {}) })),
    searched,
  };
}

function asTable({ cookies, searched }: FoundCookies, showValues: boolean, colors: Palette): string {
  const headers = ["SOURCE", "NAME", "EXPIRES", ...(showValues ? ["VALUE"] : [])];
  const rows = cookies.map((cookie) => [cookie.source, cookie.name, expiryText(cookie), ...(showValues ? [cookie.value] : [])]);
  const table = cookies.length > 0 ? `${formatTable(headers, rows, colors)}\n` : "";
  const places = searched.map(({ place, result }) => `  ${place}: ${colors.dim(result)}`).join("\n");
  return `${table}${colors.bold("Looked at:")}\n${places}\n`;
}

function expiryText(cookie: CookieReport): string {
  // "2026-12-24 15:27 UTC": minutes are precise enough, and a fixed zone reads the same in every log.
  return cookie.expires ? `${cookie.expires.toISOString().slice(0, 16).replace("T", " ")} UTC` : "end of session";
}
