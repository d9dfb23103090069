/** The public types of cookie discovery, and the shape every source reads into. */

/** Cookie name → value, as sent in a `Cookie` header. */
export type Cookies = Record<string, string>;

export type BrowserName = "firefox" | "chrome" | "chromium" | "brave" | "edge" | "vivaldi" | "opera";

export const BROWSER_NAMES: readonly BrowserName[] = ["firefox", "chrome", "chromium", "brave", "edge", "vivaldi", "opera"];

export type CookieSourceKind = "explicit" | "env" | "files" | "browsers";

export const COOKIE_SOURCE_KINDS: readonly CookieSourceKind[] = ["explicit", "env", "files", "browsers"];

export interface CommandResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a helper program (`secret-tool`, `security`, `powershell.exe`) with `input` on its stdin.
 * Rejects only when the program cannot be started (ENOENT when it is not installed).
 */
export type CommandRunner = (file: string, args: readonly string[], input?: string) => Promise<CommandResult>;

export interface GetCookiesOptions {
  /** Explicit cookies: an object or a `Cookie` header string. Used as they are. */
  cookies?: Cookies | string | undefined;
  /** Read this one source only. */
  source?: CookieSourceKind | undefined;
  /** Folder of cookie files. Default: env OASST_COOKIES_DIR, else <config dir>/oasst/cookies. */
  cookiesDir?: string | undefined;
  /** Cookie files (Netscape cookies.txt, JSON export or HAR, told apart by content), read before the folder. */
  cookiesFile?: string | string[] | undefined;
  /** Read this browser's profiles only. */
  browser?: BrowserName | undefined;
  /** One browser profile directory (Firefox: holds cookies.sqlite; Chromium family: Cookies or Network/Cookies). */
  profile?: string | undefined;
  /** Read again instead of answering from the per-process cache. */
  refresh?: boolean | undefined;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv | undefined;
  /** Default process.platform: decides where browsers keep profiles and how Chromium encrypts. */
  platform?: NodeJS.Platform | undefined;
  /** Default os.homedir(). */
  homeDir?: string | undefined;
  /** Default: runs the program with child_process. */
  runCommand?: CommandRunner | undefined;
  /** Problems that did not stop the search (a Secret Service password missing, app-bound cookies). Default: process.emitWarning. */
  onWarning?: ((message: string) => void) | undefined;
}

export interface CookieReport {
  /** Where the cookie came from, e.g. "Firefox profile default-release", "OASST_COOKIES". */
  source: string;
  name: string;
  /** null: a session cookie (or one given without an expiry). */
  expires: Date | null;
  value: string;
}

export interface SearchedPlace {
  place: string;
  /** What it held, e.g. "no cookies for open-assistant.io", "2 cookies: a, b". Never a value. */
  result: string;
}

export interface FoundCookies {
  /** The cookies getCookies returns, one per name, each with its source. */
  cookies: CookieReport[];
  /** Every place looked at, in order. */
  searched: SearchedPlace[];
}

/** A cookie as a source stores it, before the choice between places. */
export interface StoredCookie {
  name: string;
  value: string;
  /** The cookie's host: with a leading dot for a domain cookie (sent to subdomains too), bare for a host-only one. */
  hostKey: string;
  path: string;
  expires: Date | null;
  /** Sent only over https or to a loopback host (see secure-cookies.ts). */
  secure: boolean;
}
