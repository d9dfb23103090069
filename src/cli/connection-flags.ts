import { Option, type Command } from "commander";
import { BROWSER_NAMES } from "../cookies/types.js";
import { timeoutFlagParser } from "./flag-values.js";

/** The flags of every command that talks to the server: where it is, how to log in, how to reach it. */
export function addConnectionFlags(command: Command): Command {
  return command
    .option("--base-url <url>", "the Open-Assistant site (env OASST_BASE_URL; default https://open-assistant.io)")
    .option("--cookie <header>", "session cookies as a Cookie header, 'name=value; name2=value2' (env OASST_COOKIES)")
    .option("--cookies-file <path>", "read the cookies from this file (cookies.txt, JSON export or HAR)")
    .addOption(new Option("--browser <name>", "read the cookies from this browser").choices(BROWSER_NAMES))
    .option("--profile <dir>", "the browser profile directory to read the cookies from")
    .option("--proxy <url>", "http://, https://, socks5:// or socks5h:// proxy, user:password allowed (env OASST_PROXY, HTTPS_PROXY, ALL_PROXY)")
    .option(
      "--timeout <duration>",
      "per request, and the longest silence of a reply: seconds, or 1500ms, 90s, 2m; 0 waits forever (default 60s)",
      timeoutFlagParser,
    )
    .option("--verbose", "print the settings in effect and each request on stderr (cookie values masked)")
    .showHelpAfterError(`(run \`oasst ${command.name()} --help\` for the flags and examples)`);
}
