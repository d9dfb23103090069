/** `Cookie` header strings to and from name → value objects. */
import { ConfigError } from "../errors.js";
import type { Cookies } from "./types.js";

/** `a=1; b=x=y` → `{ a: "1", b: "x=y" }`. Pairs without a name are skipped; the first of two equal names wins, as servers read it. */
export function parseCookieHeader(header: string): Cookies {
  const cookies: Cookies = {};
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    if (!name || Object.hasOwn(cookies, name)) continue;
    cookies[name] = pair.slice(eq + 1).trim();
  }
  return cookies;
}

/** Every value of a `Cookie` header, those of repeated names and name-less pairs too: what output must never show. */
export function cookieHeaderValues(header: string): string[] {
  return header
    .split(";")
    .map((pair) => pair.slice(pair.indexOf("=") + 1).trim())
    .filter(Boolean);
}

// RFC 6265: a name is a token; a value may not hold `;` nor control characters (which would split or end the header).
const hasControl = (text: string) => [...text].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);
const badName = (name: string) => !name || /[\s;,=]/.test(name) || hasControl(name);
const badValue = (value: string) => value.includes(";") || hasControl(value);

/** `{ a: "1", b: "2" }` → `a=1; b=2`. Refuses what would break the header; the error names the cookie, never its value. */
export function formatCookieHeader(cookies: Cookies): string {
  return Object.entries(cookies)
    .map(([name, value]) => {
      if (badName(name)) {
        throw new ConfigError(
          `The cookie name ${JSON.stringify(name)} is not valid in a Cookie header`,
          "Cookie names may not be empty nor hold spaces, `;`, `,` or `=`.",
        );
      }
      if (badValue(value)) {
        throw new ConfigError(`The value of cookie ${name} holds \`;\` or a control character`, "Pass the value exactly as the browser stores it.");
      }
      return `${name}=${value}`;
    })
    .join("; ");
}
