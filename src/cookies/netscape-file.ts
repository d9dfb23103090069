/** Netscape `cookies.txt`, as curl, wget, yt-dlp and the cookies.txt browser extensions write it. */
import { hostKeyOf } from "./domain-match.js";
import type { StoredCookie } from "./types.js";

// curl marks HttpOnly cookies by prefixing the domain; the line is not a comment.
const HTTP_ONLY_PREFIX = "#HttpOnly_";

/** True when the text looks like a cookies.txt: its header, or a line of seven tab-separated fields. */
export function looksLikeNetscapeCookies(text: string): boolean {
  if (/^# ?(Netscape )?HTTP Cookie File/im.test(text)) return true;
  return text.split(/\r?\n/).some((line) => netscapeFields(line) !== null);
}

/**
 * Every cookie of the file. Fields: domain, include-subdomains flag, path, secure,
 * expiry (Unix seconds, 0 for a session cookie), name, value.
 */
export function parseNetscapeCookies(text: string): StoredCookie[] {
  const cookies: StoredCookie[] = [];
  for (const line of text.split(/\r?\n/)) {
    const fields = netscapeFields(line);
    if (!fields) continue;
    const [domain, includeSubdomains, path, secure, expiry, name, value] = fields;
    // Some exporters write fractional seconds (Firefox 142+ extensions).
    const seconds = Number(expiry);
    cookies.push({
      name,
      value,
      hostKey: hostKeyOf(domain, includeSubdomains.toUpperCase() === "TRUE"),
      path,
      expires: Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : null,
      secure: secure.toUpperCase() === "TRUE",
    });
  }
  return cookies;
}

type NetscapeFields = [string, string, string, string, string, string, string];

function netscapeFields(line: string): NetscapeFields | null {
  let text = line.replace(/\r$/, "");
  if (text.startsWith(HTTP_ONLY_PREFIX)) text = text.slice(HTTP_ONLY_PREFIX.length);
  else if (text.startsWith("#") || !text.trim()) return null;
  const parts = text.split("\t");
  if (parts.length < 7) return null;
  const [domain, includeSubdomains, path, secure, expiry, name, ...valueParts] = parts as [string, string, string, string, string, string, ...string[]];
  if (!domain || !name || !/^(TRUE|FALSE)$/i.test(includeSubdomains) || !/^-?[\d.]+$/.test(expiry)) return null;
  // Anything after the sixth tab is the value.
  return [domain, includeSubdomains, path, secure, expiry, name, valueParts.join("\t")];
}
