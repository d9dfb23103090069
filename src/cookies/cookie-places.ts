/** Every place cookies can come from, in the order they are asked: given, environment, files, browser profiles. */
import { BROWSER_LABELS, type BrowserProfile, type ProfileCookies } from "./browser-profile.js";
import { chromiumKeySource } from "./chromium-keys.js";
import { CHROMIUM_BROWSERS, chromiumCookieDb, findChromiumProfiles, type ChromiumBrowser } from "./chromium-profiles.js";
import { readChromiumCookies } from "./chromium.js";
import { parseCookieHeader } from "./cookie-header.js";
import { listCookieFiles, readCookieFile } from "./cookie-files.js";
import { cookiesForHost } from "./cookies-for-host.js";
import { findFirefoxProfiles, readFirefoxCookies } from "./firefox.js";
import type { PlatformContext } from "./config-dir.js";
import type { BrowserName, CommandRunner, CookieSourceKind, Cookies, StoredCookie } from "./types.js";

/** Everything a search needs, checked and with the defaults filled in. */
export interface SearchSettings {
  host: string;
  /** Set when the site is a plain http:// URL of a host that is not loopback: its requests carry no Secure cookie. */
  insecureSite: URL | undefined;
  sources: ReadonlySet<CookieSourceKind>;
  explicit: Cookies | undefined;
  envCookies: string | undefined;
  cookieFiles: string[];
  cookiesDir: string;
  browser: BrowserName | undefined;
  /** A profile given by path, already told apart. */
  profile: BrowserProfile | undefined;
  context: PlatformContext;
  runCommand: CommandRunner;
}

export interface PlaceReading {
  /** The cookies a request to the host carries, one per name. */
  cookies: StoredCookie[];
  /** What to report when there are none, e.g. "not set"; default "no cookies for <host>". */
  emptyResult?: string | undefined;
  /** Become warnings: something the user may want to fix. */
  problems: string[];
  /** For the report only. */
  notes: string[];
}

export interface CookiePlace {
  /** e.g. "OASST_COOKIES", "cookies file /home/me/.config/oasst/cookies/cookies.txt", "Firefox profile default-release". */
  label: string;
  kind: CookieSourceKind;
  read(): Promise<PlaceReading>;
}

const nothing = (emptyResult: string): PlaceReading => ({ cookies: [], emptyResult, problems: [], notes: [] });

/** Given cookies carry no domain, expiry nor Secure flag: they are the host's, as they are (a `__Secure-` name still makes one Secure). */
function givenCookies(cookies: Cookies, host: string): StoredCookie[] {
  return Object.entries(cookies).map(([name, value]) => ({ name, value, hostKey: host, path: "/", expires: null, secure: false }));
}

/** Places are found lazily: a search that stops early never lists the browsers' profiles. */
export async function* cookiePlaces(settings: SearchSettings): AsyncGenerator<CookiePlace> {
  const { host, sources } = settings;
  if (sources.has("explicit") && (settings.explicit || sources.size === 1)) {
    const explicit = settings.explicit;
    yield {
      label: "cookies option",
      kind: "explicit",
      read: async () => (explicit ? { cookies: givenCookies(explicit, host), problems: [], notes: [] } : nothing("not given")),
    };
  }
  if (sources.has("env")) {
    const header = settings.envCookies;
    yield {
      label: "OASST_COOKIES",
      kind: "env",
      read: async () => (header?.trim() ? { cookies: givenCookies(parseCookieHeader(header), host), problems: [], notes: [] } : nothing("not set")),
    };
  }
  if (sources.has("files")) {
    for (const file of settings.cookieFiles) yield cookieFilePlace(file, host);
    const files = await listCookieFiles(settings.cookiesDir);
    if (files === null || files.length === 0) {
      const result = files === null ? "does not exist" : "holds no files";
      yield { label: `cookies directory ${settings.cookiesDir}`, kind: "files", read: async () => nothing(result) };
    } else {
      for (const file of files) yield cookieFilePlace(file, host);
    }
  }
  if (sources.has("browsers")) yield* browserPlaces(settings);
}

function cookieFilePlace(path: string, host: string): CookiePlace {
  return {
    label: `cookies file ${path}`,
    kind: "files",
    read: async () => {
      const reading = await readCookieFile(path, host);
      if (reading.format === null) return nothing(reading.problem);
      return { cookies: cookiesForHost(reading.cookies, host), problems: [], notes: [reading.format] };
    },
  };
}

async function* browserPlaces(settings: SearchSettings): AsyncGenerator<CookiePlace> {
  // One key source per browser and search: the Keychain or keyring is asked once, not once per profile.
  const keySources = new Map<string, ReturnType<typeof chromiumKeySource>>();
  const place = (profile: BrowserProfile): CookiePlace => ({
    label: profile.label,
    kind: "browsers",
    read: async () => {
      const found = await readProfile(profile, settings, keySources);
      return { ...found, cookies: cookiesForHost(found.cookies, settings.host) };
    },
  });
  if (settings.profile) {
    yield place(settings.profile);
    return;
  }
  const browsers: readonly BrowserName[] = settings.browser ? [settings.browser] : ["firefox", ...CHROMIUM_BROWSERS];
  for (const browser of browsers) {
    const search = browser === "firefox" ? await findFirefoxProfiles(settings.context) : await findChromiumProfiles(browser, settings.context);
    if (search.profiles.length === 0) {
      const result = `no profile found (looked in ${search.lookedIn.join(", ")})`;
      yield { label: BROWSER_LABELS[browser], kind: "browsers", read: async () => nothing(result) };
    }
    for (const profile of search.profiles) yield place(profile);
  }
}

async function readProfile(
  profile: BrowserProfile,
  settings: SearchSettings,
  keySources: Map<string, ReturnType<typeof chromiumKeySource>>,
): Promise<ProfileCookies> {
  if (profile.browser === "firefox") return readFirefoxCookies(profile.dir, settings.host);
  const browser: ChromiumBrowser = profile.browser;
  const cookieDb = await chromiumCookieDb(profile.dir);
  if (!cookieDb) return { cookies: [], problems: [], notes: ["no cookie database"] };
  const keyId = `${browser}\0${profile.userDataDir ?? profile.dir}`;
  let keys = keySources.get(keyId);
  if (!keys) {
    keys = chromiumKeySource({ browser, platform: settings.context.platform, userDataDir: profile.userDataDir, runCommand: settings.runCommand });
    keySources.set(keyId, keys);
  }
  return readChromiumCookies(cookieDb, settings.host, settings.context.platform, keys);
}
