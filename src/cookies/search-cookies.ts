/**
 * Asks the places in order and picks the cookies:
 * - cookies given (the option, OASST_COOKIES) are used as they are, and no other place is used;
 * - otherwise each name comes from the first place that holds it — a split cookie
 *   (`name.0`, `name.1`…) whole from one place — and the first place that holds the
 *   session cookie is the last one used;
 * - for a plain http:// site, Secure cookies are left out of every place, as a browser
 *   leaves them out of such a request.
 */
import { redactUrl } from "../redact.js";
import { cookiePlaces, type CookiePlace, type PlaceReading, type SearchSettings } from "./cookie-places.js";
import { describeFsError } from "./errno.js";
import { splitBySecurity } from "./secure-cookies.js";
import { cookieGroup, isSessionCookie } from "./session-cookie.js";
import type { CookieReport, FoundCookies, SearchedPlace, StoredCookie } from "./types.js";

export interface SearchRun {
  /** true: stop at the last place used (getCookies); false: read every place, for the report (findCookies). */
  stopEarly: boolean;
  onWarning: (message: string) => void;
}

export interface SearchOutcome extends FoundCookies {
  /** The first session cookie left out for being Secure (the site is plain http), from a place that could have supplied it. */
  insecureSession?: { cookie: StoredCookie; place: string } | undefined;
}

export async function searchCookies(settings: SearchSettings, { stopEarly, onWarning }: SearchRun): Promise<SearchOutcome> {
  const cookies: CookieReport[] = [];
  const searched: SearchedPlace[] = [];
  const takenGroups = new Set<string>();
  // Set once no later place may add cookies; says why.
  let closedBecause: string | undefined;
  let insecureSession: SearchOutcome["insecureSession"];

  for await (const place of cookiePlaces(settings)) {
    const { reading, leftOut } = withoutSecureCookies(await readPlace(place), settings.insecureSite);
    for (const problem of reading.problems) onWarning(`${place.label}: ${problem}`);
    const used: string[] = [];
    if (!closedBecause) {
      for (const cookie of reading.cookies) {
        if (takenGroups.has(cookieGroup(cookie.name))) continue;
        cookies.push({ source: place.label, name: cookie.name, expires: cookie.expires, value: cookie.value });
        used.push(cookie.name);
      }
      for (const name of used) takenGroups.add(cookieGroup(name));
      const lost = leftOut.find((cookie) => isSessionCookie(cookie.name));
      if (lost && !insecureSession) insecureSession = { cookie: lost, place: place.label };
      // Given cookies are all there is, even when none of them may be sent.
      const given = used.length > 0 || leftOut.length > 0;
      if (given && (place.kind === "explicit" || place.kind === "env")) closedBecause = `cookies were given in ${place.label}`;
      else if (used.some(isSessionCookie)) closedBecause = `the session cookie came from ${place.label}`;
    }
    searched.push({ place: place.label, result: describeReading(reading, used, settings.host, closedBecause) });
    if (stopEarly && closedBecause) break;
  }
  return { cookies, searched, insecureSession };
}

/** The place's cookies minus the Secure ones when the site is plain http; those are named in a note. */
function withoutSecureCookies(reading: PlaceReading, insecureSite: URL | undefined): { reading: PlaceReading; leftOut: StoredCookie[] } {
  if (!insecureSite) return { reading, leftOut: [] };
  const { sent, leftOut } = splitBySecurity(reading.cookies, insecureSite);
  if (leftOut.length === 0) return { reading, leftOut };
  const names = leftOut.map((cookie) => cookie.name).join(", ");
  const note = `${names} left out: Secure, and ${redactUrl(insecureSite)} is plain http`;
  return { reading: { ...reading, cookies: sent, notes: [...reading.notes, note] }, leftOut };
}

async function readPlace(place: CookiePlace): Promise<PlaceReading> {
  try {
    return await place.read();
  } catch (error) {
    const reason = describeFsError(error);
    const advice = reason === "locked by the running browser" ? ": close the browser and try again" : "";
    return { cookies: [], emptyResult: `could not be read (${reason})${advice}`, problems: [`could not be read (${reason})${advice}`], notes: [] };
  }
}

/** One line, names only: "2 cookies for open-assistant.io: a, b (Netscape cookies.txt)". */
function describeReading(reading: PlaceReading, used: string[], host: string, closedBecause: string | undefined): string {
  const { cookies } = reading;
  let text: string;
  if (cookies.length === 0) {
    text = reading.emptyResult ?? `no cookies for ${host}`;
  } else {
    text = `${cookies.length} cookie${cookies.length === 1 ? "" : "s"} for ${host}: ${cookies.map((c) => c.name).join(", ")}`;
    const unused = cookies.filter((c) => !used.includes(c.name)).map((c) => c.name);
    if (used.length === 0) text += ` — not used: ${closedBecause ?? "found in an earlier place"}`;
    else if (unused.length > 0) text += ` — ${unused.join(", ")} not used: found in an earlier place`;
  }
  const details = [...reading.notes, ...(cookies.length > 0 || !reading.emptyResult ? reading.problems : [])];
  return details.length > 0 ? `${text} (${details.join("; ")})` : text;
}
