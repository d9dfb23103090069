/** Masking for everything that may reach a log, an error or a terminal. */

const MASK = "***";

/** `a=1; b=2` → `a=***; b=***`: names stay visible, values never. */
export function maskCookieHeader(header: string): string {
  return header
    .split(";")
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf("=");
      return eq < 0 ? MASK : `${pair.slice(0, eq)}=${MASK}`;
    })
    .join("; ");
}

/**
 * A URL with its credentials masked: proxies and base URLs are printed this way. The
 * password is masked; so is a user name that stands alone (`http://TOKEN@host`), the
 * way proxy services take an API token. A user name next to a password stays visible.
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return "<invalid URL>";
  }
  if (parsed.password) parsed.password = MASK;
  else if (parsed.username) parsed.username = MASK;
  return parsed.toString();
}

/** Replace every occurrence of each secret in `text` (secrets shorter than 4 characters are too common to mask safely and are skipped). */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join(MASK);
  }
  return out;
}
