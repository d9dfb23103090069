/** Cookie databases written by Debian's chromium and firefox-esr (scripts/make-cookie-fixtures.sh). */
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { findCookies, getCookies } from "../../src/cookies/index.js";
import { atFixtureTime, copyFixture, FIXTURE_SESSION_TOKEN, FIXTURES_MADE, isolated, SESSION, tempDir } from "./helpers.js";

// The browsers set expiring cookies (the session for 30 days, the chat.* one for a day): read them when they were fresh.
beforeEach(atFixtureTime);

/** A home holding the fixture Chromium's Default profile where Linux Chromium keeps it. */
function homeWithChromium(): string {
  const home = tempDir();
  copyFixture("chromium/Default/Cookies", join(home, ".config", "chromium", "Default", "Cookies"));
  return home;
}

function homeWithFirefox(variant: "firefox" | "firefox-running"): string {
  const home = tempDir();
  const root = join(home, ".mozilla", "firefox");
  copyFixture(`${variant}/profiles.ini`, join(root, "profiles.ini"));
  if (variant === "firefox") copyFixture("firefox/default-release/cookies.sqlite", join(root, "default-release", "cookies.sqlite"));
  else {
    copyFixture("firefox-running/default-release/cookies.sqlite.gz", join(root, "default-release", "cookies.sqlite"));
    copyFixture("firefox-running/default-release/cookies.sqlite-wal.gz", join(root, "default-release", "cookies.sqlite-wal"));
  }
  return home;
}

/** The fixture's cookies were set for 30 days (session) and 34 000 000 s (domain cookie) from when the script ran. */
function expectExpiryAfter(expires: Date | null, seconds: number): void {
  expect(expires).not.toBeNull();
  const secondsAfter = ((expires as Date).getTime() - FIXTURES_MADE.getTime()) / 1000;
  expect(secondsAfter).toBeGreaterThan(seconds - 120);
  expect(secondsAfter).toBeLessThan(seconds + 120);
}

const THIRTY_DAYS_S = 30 * 86_400;
const DOMAIN_COOKIE_MAX_AGE_S = 34_000_000;

describe("a user logged in with Chromium on Linux (v10, meta version 24)", () => {
  it("gets the session with no option at all", async () => {
    const cookies = await getCookies("open-assistant.io", isolated(homeWithChromium()));
    expect(cookies).toEqual({ [SESSION]: FIXTURE_SESSION_TOKEN, "oasst-fixture-pref": "far-expiry" });
  });

  it("leaves out the host-only cookie of a subdomain, and gives the subdomain the parent's domain cookie only", async () => {
    const chat = await getCookies("chat.open-assistant.io", isolated(homeWithChromium()));
    expect(chat).toEqual({ "chat-host-only": "chat-value", "oasst-fixture-pref": "far-expiry" });
  });

  it("reports the profile, the names and the expiry dates", async () => {
    const report = await findCookies("open-assistant.io", isolated(homeWithChromium()));
    const session = report.cookies.find((c) => c.name === SESSION);
    expect(session?.source).toBe("Chromium profile Default");
    expectExpiryAfter(session?.expires ?? null, THIRTY_DAYS_S);
    expectExpiryAfter(report.cookies.find((c) => c.name === "oasst-fixture-pref")?.expires ?? null, DOMAIN_COOKIE_MAX_AGE_S);
  });
});

describe("a user logged in with Firefox (firefox-esr 153, schema 17: expiry in milliseconds)", () => {
  it("gets the session with no option at all", async () => {
    const cookies = await getCookies("open-assistant.io", isolated(homeWithFirefox("firefox")));
    expect(cookies).toEqual({ [SESSION]: FIXTURE_SESSION_TOKEN, "oasst-fixture-pref": "far-expiry" });
  });

  it("reads the expiry as milliseconds", async () => {
    const report = await findCookies("open-assistant.io", isolated(homeWithFirefox("firefox")));
    expect(report.cookies.map((c) => [c.source, c.name])).toEqual([
      ["Firefox profile default-release", SESSION],
      ["Firefox profile default-release", "oasst-fixture-pref"],
    ]);
    expectExpiryAfter(report.cookies[0]?.expires ?? null, THIRTY_DAYS_S);
  });

  it("reads a running Firefox, whose cookies are still in cookies.sqlite-wal only", async () => {
    const cookies = await getCookies("open-assistant.io", isolated(homeWithFirefox("firefox-running")));
    expect(cookies[SESSION]).toBe(FIXTURE_SESSION_TOKEN);
  });

  it("takes Firefox before Chromium when both are logged in", async () => {
    const home = homeWithFirefox("firefox");
    copyFixture("chromium/Default/Cookies", join(home, ".config", "chromium", "Default", "Cookies"));
    const report = await findCookies("open-assistant.io", isolated(home));
    expect(report.cookies.map((c) => c.source)).toEqual(["Firefox profile default-release", "Firefox profile default-release"]);
    expect(report.searched.find((s) => s.place === "Chromium profile Default")?.result).toMatch(
      /^2 cookies for open-assistant\.io: .* — not used: the session cookie came from Firefox profile default-release$/,
    );
  });
});
