/** Cookie files, told apart by content (Netscape cookies.txt, JSON export, HAR), and the folder that holds them. */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { isErrnoCode } from "./errno.js";
import { harCookiesForHost, isHar } from "./har-file.js";
import { parseJsonCookieExport } from "./json-export-file.js";
import { looksLikeNetscapeCookies, parseNetscapeCookies } from "./netscape-file.js";
import type { StoredCookie } from "./types.js";

// HAR files of a long session grow large; anything bigger is not a cookie file.
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export type CookieFileReading = { format: "Netscape cookies.txt" | "JSON export" | "HAR"; cookies: StoredCookie[] } | { format: null; problem: string };

/** The file's cookies (for a HAR: those sent to `host`). Throws the fs error when the file cannot be read. */
export async function readCookieFile(path: string, host: string): Promise<CookieFileReading> {
  const info = await stat(path);
  if (info.size > MAX_FILE_BYTES) return { format: null, problem: `too large for a cookie file (${Math.round(info.size / 1048576)} MiB)` };
  const text = (await readFile(path, "utf8")).replace(/^\uFEFF/, "");
  const start = text.trimStart()[0];
  if (start === "{" || start === "[") {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      return { format: null, problem: `not valid JSON (${error instanceof Error ? error.message : String(error)})` };
    }
    if (isHar(data)) return { format: "HAR", cookies: harCookiesForHost(data, host) };
    const cookies = parseJsonCookieExport(data);
    if (cookies) return { format: "JSON export", cookies };
    return { format: null, problem: "JSON, but neither a cookie export (an array of {domain, name, value}) nor a HAR" };
  }
  if (looksLikeNetscapeCookies(text)) return { format: "Netscape cookies.txt", cookies: parseNetscapeCookies(text) };
  return { format: null, problem: "not a cookie file (expected a Netscape cookies.txt, a JSON export or a HAR)" };
}

/** The folder's files, sorted by name, hidden ones left out; null when the folder does not exist. */
export async function listCookieFiles(dir: string): Promise<string[] | null> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isErrnoCode(error, "ENOENT") || isErrnoCode(error, "ENOTDIR")) return null;
    throw error;
  }
  return entries
    .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && !entry.name.startsWith("."))
    .map((entry) => join(dir, entry.name))
    .sort();
}
