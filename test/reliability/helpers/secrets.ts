/**
 * Planted secrets and a search for them in every form a leak could take: as is,
 * percent-encoded (a URL's user info), and inside base64 (an Authorization header).
 */
import { randomBytes } from "node:crypto";

export interface PlantedSecrets {
  /** A session cookie value (the emulator's session token). */
  cookie: string;
  /** A proxy user's password: contains characters that URLs must percent-encode. */
  proxyPassword: string;
  proxyUser: string;
  /** An API key for the gateway. */
  apiKey: string;
}

export function plantSecrets(): PlantedSecrets {
  const hex = () => randomBytes(8).toString("hex");
  return {
    cookie: `ck_${hex()}`,
    proxyPassword: `pw#${hex()}@x`,
    proxyUser: "mallory",
    apiKey: `sk-${hex()}`,
  };
}

/** A proxy URL carrying the planted user and password, correctly encoded. */
export function proxyUrlWithPassword(secrets: PlantedSecrets, scheme: string, hostPort: string): string {
  return `${scheme}://${secrets.proxyUser}:${encodeURIComponent(secrets.proxyPassword)}@${hostPort}`;
}

/** Every spelling under which a secret could appear in an output. */
function spellings(secrets: PlantedSecrets): Array<[label: string, text: string]> {
  const out: Array<[string, string]> = [];
  for (const [name, value] of [
    ["cookie", secrets.cookie],
    ["proxy password", secrets.proxyPassword],
    ["API key", secrets.apiKey],
  ] as const) {
    out.push([name, value], [`${name} (percent-encoded)`, encodeURIComponent(value)]);
  }
  out.push(["proxy credentials (base64)", Buffer.from(`${secrets.proxyUser}:${secrets.proxyPassword}`).toString("base64")]);
  out.push(["API key (base64)", Buffer.from(secrets.apiKey).toString("base64")]);
  return out;
}

export interface Leak {
  where: string;
  what: string;
}

/** Searches outputs for the planted secrets and remembers what it searched. */
export class SecretScanner {
  readonly leaks: Leak[] = [];
  outputsSearched = 0;
  bytesSearched = 0;

  constructor(private readonly secrets: PlantedSecrets) {}

  /** Search one output; `where` names it in the report. */
  scan(where: string, output: string): void {
    this.outputsSearched++;
    this.bytesSearched += output.length;
    for (const [what, text] of spellings(this.secrets)) {
      if (output.includes(text)) this.leaks.push({ where, what });
    }
  }
}
