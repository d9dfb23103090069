/** Firefox: the profiles listed in profiles.ini, and their cookies.sqlite. */
import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import type { BrowserProfile, ProfileCookies, ProfileSearch } from "./browser-profile.js";
import { configDir, type PlatformContext } from "./config-dir.js";
import { candidateHostKeys } from "./domain-match.js";
import { isErrnoCode } from "./errno.js";
import { numberOf, textOf, withSqliteSnapshot } from "./sqlite-snapshot.js";
import type { StoredCookie } from "./types.js";

export const FIREFOX_COOKIE_DB = "cookies.sqlite";

// Firefox 142 moved the cookie database to schema 16 and `expiry` from seconds to milliseconds.
const FIRST_SCHEMA_WITH_MILLISECOND_EXPIRY = 16;
// Date's range ends at 8.64e15 ms; older Firefox stored "never" as huge second counts.
const LATEST_DATE_MS = 8.64e15;

interface FirefoxRoot {
  dir: string;
  /** Told in the label when it is not the usual install, e.g. "snap". */
  variant?: string;
}

function firefoxRoots(context: PlatformContext): FirefoxRoot[] {
  const { platform, homeDir } = context;
  if (platform === "win32") return [{ dir: join(configDir(context), "Mozilla", "Firefox") }];
  if (platform === "darwin") return [{ dir: join(configDir(context), "Firefox") }];
  return [
    { dir: join(homeDir, ".mozilla", "firefox") },
    // Newer Firefox releases follow XDG on Linux.
    { dir: join(configDir(context), "mozilla", "firefox") },
    { dir: join(homeDir, "snap", "firefox", "common", ".mozilla", "firefox"), variant: "snap" },
    { dir: join(homeDir, ".var", "app", "org.mozilla.firefox", ".mozilla", "firefox"), variant: "Flatpak" },
  ];
}

/** Every profile of every Firefox install, the default profile of each install first. */
export async function findFirefoxProfiles(context: PlatformContext): Promise<ProfileSearch> {
  const roots = firefoxRoots(context);
  const profiles: BrowserProfile[] = [];
  const seen = new Set<string>();
  for (const root of roots) {
    let ini: string;
    try {
      ini = await readFile(join(root.dir, "profiles.ini"), "utf8");
    } catch (error) {
      if (isErrnoCode(error, "ENOENT") || isErrnoCode(error, "ENOTDIR")) continue;
      throw error;
    }
    for (const { name, dir } of profilesOf(ini, root.dir)) {
      if (seen.has(dir)) continue;
      seen.add(dir);
      profiles.push({ browser: "firefox", label: `Firefox${root.variant ? ` (${root.variant})` : ""} profile ${name}`, dir });
    }
  }
  return { profiles, lookedIn: roots.map((root) => root.dir) };
}

/** The [Profile…] sections of profiles.ini; the one an [Install…] section (or Default=1) marks as default comes first. */
function profilesOf(ini: string, rootDir: string): Array<{ name: string; dir: string }> {
  const sections: Array<{ title: string; keys: Map<string, string> }> = [];
  for (const rawLine of ini.split(/\r?\n/)) {
    const line = rawLine.trim();
    const title = /^\[(.+)\]$/.exec(line)?.[1];
    if (title) sections.push({ title, keys: new Map() });
    else if (line.includes("=") && !line.startsWith(";") && !line.startsWith("#")) {
      const eq = line.indexOf("=");
      sections.at(-1)?.keys.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
    }
  }
  const installDefaults = new Set(sections.filter((s) => s.title.startsWith("Install")).map((s) => s.keys.get("Default")));
  const profiles = sections
    .filter((s) => /^Profile\d+$/.test(s.title) && s.keys.get("Path"))
    .map((s) => {
      const path = s.keys.get("Path") as string;
      const relative = s.keys.get("IsRelative") !== "0" && !isAbsolute(path);
      return {
        name: s.keys.get("Name") || path,
        dir: relative ? join(rootDir, ...path.split("/")) : path,
        isDefault: installDefaults.has(path) || s.keys.get("Default") === "1",
      };
    });
  return [...profiles.filter((p) => p.isDefault), ...profiles.filter((p) => !p.isDefault)];
}

/**
 * The cookies of the normal browsing context for the host's keys. Cookies of
 * container tabs, and partitioned (third-party) ones, are counted, not used.
 */
export async function readFirefoxCookies(profileDir: string, host: string): Promise<ProfileCookies> {
  const keys = candidateHostKeys(host);
  return withSqliteSnapshot(join(profileDir, FIREFOX_COOKIE_DB), (query) => {
    const schema = numberOf(query("PRAGMA user_version")[0]?.user_version);
    const rows = query(
      `SELECT name, value, host, path, expiry, isSecure, originAttributes FROM moz_cookies WHERE host IN (${keys.map(() => "?").join(", ")}) ORDER BY id`,
      keys,
    );
    const cookies: StoredCookie[] = [];
    let otherContexts = 0;
    for (const row of rows) {
      if (textOf(row.originAttributes) !== "") {
        otherContexts++;
        continue;
      }
      const expiry = numberOf(row.expiry);
      const ms = schema >= FIRST_SCHEMA_WITH_MILLISECOND_EXPIRY ? expiry : expiry * 1000;
      cookies.push({
        name: textOf(row.name),
        value: textOf(row.value),
        hostKey: textOf(row.host),
        path: textOf(row.path) || "/",
        expires: ms > 0 ? new Date(Math.min(ms, LATEST_DATE_MS)) : null,
        secure: numberOf(row.isSecure) !== 0,
      });
    }
    const notes = otherContexts
      ? [
          `${otherContexts} cookie${otherContexts === 1 ? "" : "s"} of container tabs or partitioned storage left out (only the normal browsing context is read)`,
        ]
      : [];
    return { cookies, problems: [], notes };
  });
}
