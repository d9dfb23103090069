/** Where Chrome, Chromium, Brave, Edge, Vivaldi and Opera keep their profiles on Linux, macOS and Windows. */
import { readdir, stat } from "node:fs/promises";
import { basename, join, relative, isAbsolute } from "node:path";
import { BROWSER_LABELS, type BrowserProfile, type ProfileSearch } from "./browser-profile.js";
import { configDir, localAppDataDir, type PlatformContext } from "./config-dir.js";
import { isErrnoCode } from "./errno.js";
import type { BrowserName } from "./types.js";

export type ChromiumBrowser = Exclude<BrowserName, "firefox">;

export const CHROMIUM_BROWSERS: readonly ChromiumBrowser[] = ["chrome", "chromium", "brave", "edge", "vivaldi", "opera"];

interface ChromiumInstall {
  browser: ChromiumBrowser;
  /** The "User Data" folder: holds `Local State` and one folder per profile. */
  userDataDir: string;
  /** Told in the label when it is not the stable channel, e.g. "Beta", "snap". */
  variant?: string;
  /** Opera keeps its one profile in the user data folder itself. */
  singleProfile?: boolean;
}

function installs(context: PlatformContext): ChromiumInstall[] {
  const { platform, homeDir } = context;
  if (platform === "win32") {
    const local = localAppDataDir(context);
    return [
      { browser: "chrome", userDataDir: join(local, "Google", "Chrome", "User Data") },
      { browser: "chrome", userDataDir: join(local, "Google", "Chrome Beta", "User Data"), variant: "Beta" },
      { browser: "chromium", userDataDir: join(local, "Chromium", "User Data") },
      { browser: "brave", userDataDir: join(local, "BraveSoftware", "Brave-Browser", "User Data") },
      { browser: "edge", userDataDir: join(local, "Microsoft", "Edge", "User Data") },
      { browser: "vivaldi", userDataDir: join(local, "Vivaldi", "User Data") },
      { browser: "opera", userDataDir: join(configDir(context), "Opera Software", "Opera Stable"), singleProfile: true },
      { browser: "opera", userDataDir: join(configDir(context), "Opera Software", "Opera GX Stable"), variant: "GX", singleProfile: true },
    ];
  }
  const config = configDir(context);
  if (platform === "darwin") {
    return [
      { browser: "chrome", userDataDir: join(config, "Google", "Chrome") },
      { browser: "chrome", userDataDir: join(config, "Google", "Chrome Beta"), variant: "Beta" },
      { browser: "chromium", userDataDir: join(config, "Chromium") },
      { browser: "brave", userDataDir: join(config, "BraveSoftware", "Brave-Browser") },
      { browser: "edge", userDataDir: join(config, "Microsoft Edge") },
      { browser: "vivaldi", userDataDir: join(config, "Vivaldi") },
      { browser: "opera", userDataDir: join(config, "com.operasoftware.Opera"), singleProfile: true },
    ];
  }
  return [
    { browser: "chrome", userDataDir: join(config, "google-chrome") },
    { browser: "chrome", userDataDir: join(config, "google-chrome-beta"), variant: "Beta" },
    { browser: "chromium", userDataDir: join(config, "chromium") },
    { browser: "chromium", userDataDir: join(homeDir, "snap", "chromium", "common", "chromium"), variant: "snap" },
    { browser: "chromium", userDataDir: join(homeDir, ".var", "app", "org.chromium.Chromium", "config", "chromium"), variant: "Flatpak" },
    { browser: "brave", userDataDir: join(config, "BraveSoftware", "Brave-Browser") },
    { browser: "edge", userDataDir: join(config, "microsoft-edge") },
    { browser: "vivaldi", userDataDir: join(config, "vivaldi") },
    { browser: "opera", userDataDir: join(config, "opera"), singleProfile: true },
  ];
}

/** The cookie database of a profile folder: Network/Cookies since Chrome 96, Cookies before; null when neither exists. */
export async function chromiumCookieDb(profileDir: string): Promise<string | null> {
  for (const candidate of [join(profileDir, "Network", "Cookies"), join(profileDir, "Cookies")]) {
    if (await isFile(candidate)) return candidate;
  }
  return null;
}

/** Every profile of the browser's installs that has a cookie database: Default first, then Profile 1, Profile 2… */
export async function findChromiumProfiles(browser: ChromiumBrowser, context: PlatformContext): Promise<ProfileSearch> {
  const own = installs(context).filter((install) => install.browser === browser);
  const profiles: BrowserProfile[] = [];
  for (const install of own) {
    const name = `${BROWSER_LABELS[browser]}${install.variant ? ` ${install.variant}` : ""}`;
    if (install.singleProfile) {
      if (await chromiumCookieDb(install.userDataDir)) {
        profiles.push({ browser, label: `${name} profile Default`, dir: install.userDataDir, userDataDir: install.userDataDir });
      }
      continue;
    }
    for (const folder of await profileFolders(install.userDataDir)) {
      const dir = join(install.userDataDir, folder);
      if (await chromiumCookieDb(dir)) profiles.push({ browser, label: `${name} profile ${folder}`, dir, userDataDir: install.userDataDir });
    }
  }
  return { profiles, lookedIn: own.map((install) => install.userDataDir) };
}

/** The browser whose install holds `profileDir`, and its user data folder; null for a folder elsewhere. */
export function chromiumInstallOf(profileDir: string, context: PlatformContext): { browser: ChromiumBrowser; userDataDir: string } | null {
  for (const install of installs(context)) {
    const inside = relative(install.userDataDir, profileDir);
    if (!inside.startsWith("..") && !isAbsolute(inside)) return { browser: install.browser, userDataDir: install.userDataDir };
  }
  return null;
}

async function profileFolders(userDataDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(userDataDir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    if (isErrnoCode(error, "ENOENT") || isErrnoCode(error, "ENOTDIR")) return [];
    throw error;
  }
  const profiles = names.filter((name) => name === "Default" || /^Profile \d+$/.test(name));
  const number = (name: string) => (name === "Default" ? 0 : Number(name.slice("Profile ".length)));
  return profiles.sort((a, b) => number(a) - number(b));
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** "Chromium profile Default" for a folder given by path: the browser's name and the folder's. */
export function chromiumProfileLabel(browser: ChromiumBrowser, profileDir: string): string {
  return `${BROWSER_LABELS[browser]} profile ${basename(profileDir)}`;
}
