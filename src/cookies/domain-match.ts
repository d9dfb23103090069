/** Which stored cookies a request to a host carries (RFC 6265 domain matching). */
import { ConfigError } from "../errors.js";

/** `open-assistant.io`, `https://open-assistant.io/chat` or `.Open-Assistant.io.` → `open-assistant.io`. */
export function normalizeHost(domain: string): string {
  let host = domain.trim();
  if (host.includes("://")) {
    try {
      host = new URL(host).hostname;
    } catch {
      host = "";
    }
  }
  host = host.toLowerCase().replace(/^\.+/, "").replace(/\.+$/, "");
  if (!host || /[\s/:;,@]/.test(host)) {
    throw new ConfigError(`${JSON.stringify(domain)} is not a domain`, "Pass a host name such as open-assistant.io.");
  }
  return host;
}

/**
 * A cookie's host key as browsers store it: with a leading dot when it is sent to
 * subdomains too, bare when it is sent to that exact host only.
 */
export function hostKeyOf(domain: string, includeSubdomains: boolean): string {
  const bare = domain.trim().toLowerCase().replace(/^\.+/, "");
  return includeSubdomains || domain.trim().startsWith(".") ? `.${bare}` : bare;
}

/** True when a request to `host` carries a cookie stored under `hostKey`. */
export function hostKeyMatches(hostKey: string, host: string): boolean {
  const key = hostKey.toLowerCase();
  if (!key.startsWith(".")) return key === host;
  const bare = key.slice(1);
  return host === bare || host.endsWith(key);
}

/** Every host key that can match `host`: the host itself and a dotted key for it and each parent domain. */
export function candidateHostKeys(host: string): string[] {
  const labels = host.split(".");
  const keys = [host];
  for (let i = 0; i < labels.length; i++) keys.push(`.${labels.slice(i).join(".")}`);
  return keys;
}
