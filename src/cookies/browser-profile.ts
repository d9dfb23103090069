/** A browser profile found on this machine, and what a search for them reports. */
import type { BrowserName, StoredCookie } from "./types.js";

export interface BrowserProfile {
  browser: BrowserName;
  /** e.g. "Firefox profile default-release", "Chrome profile Default". */
  label: string;
  dir: string;
  /** Chromium family: the "User Data" folder that holds `Local State` (Opera: the profile itself). */
  userDataDir?: string | undefined;
}

export interface ProfileSearch {
  profiles: BrowserProfile[];
  /** The folders looked in, for the report when none holds a profile. */
  lookedIn: string[];
}

/** What one profile's cookie database gave for a host. */
export interface ProfileCookies {
  cookies: StoredCookie[];
  /** Cookies that are there but could not be read, and why: each becomes a warning. Never a value. */
  problems: string[];
  /** Cookies left out on purpose, for the report only. */
  notes: string[];
}

export const BROWSER_LABELS: Record<BrowserName, string> = {
  firefox: "Firefox",
  chrome: "Chrome",
  chromium: "Chromium",
  brave: "Brave",
  edge: "Edge",
  vivaldi: "Vivaldi",
  opera: "Opera",
};
