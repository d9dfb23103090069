/**
 * Asks the places in order and picks the cookies:
 * - cookies given (the option, OASST_COOKIES) are used as they are, and no other place is used;
 * - otherwise each name comes from the first place that holds it — a split cookie
 *   (`name.0`, `name.1`…) whole from one place — and the first place that holds the
 *   session cookie is the last one used.
 */
import { cookiePlaces, type CookiePlace, type PlaceReading, type SearchSettings } from "./cookie-places.js";
import { describeFsError } from "./errno.js";
import { cookieGroup, isSessionCookie } from "./session-cookie.js";
import type { CookieReport, FoundCookies, SearchedPlace } from "./types.js";

export interface SearchRun {
  /** true: stop at the last place used (getCookies); false: read every place, for the report (findCookies). */
  stopEarly: boolean;
  onWarning: (message: string) => void;
}

export async function searchCookies(settings: SearchSettings, { stopEarly, onWarning }: SearchRun): Promise<FoundCookies> {
  const cookies: CookieReport[] = [];
  const searched: SearchedPlace[] = [];
  const takenGroups = new Set<string>();
  // Set once no later place may add cookies; says why.
  let closedBecause: string | undefined;

  for await (const place of cookiePlaces(settings)) {
    const reading = await readPlace(place);
    for (const problem of reading.problems) onWarning(`${place.label}: ${problem}`);
    const used: string[] = [];
    if (!closedBecause) {
      for (const cookie of reading.cookies) {
        if (takenGroups.has(cookieGroup(cookie.name))) continue;
        cookies.push({ source: place.label, name: cookie.name, expires: cookie.expires, value: cookie.value });
        used.push(cookie.name);
      }
      for (const name of used) takenGroups.add(cookieGroup(name));
      if (used.length > 0 && (place.kind === "explicit" || place.kind === "env")) closedBecause = `cookies were given in ${place.label}`;
      else if (used.some(isSessionCookie)) closedBecause = `the session cookie came from ${place.label}`;
    }
    searched.push({ place: place.label, result: describeReading(reading, used, settings.host, closedBecause) });
    if (stopEarly && closedBecause) break;
  }
  return { cookies, searched };
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
