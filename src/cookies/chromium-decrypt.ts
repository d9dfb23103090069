/**
 * Chromium's cookie value encryption (components/os_crypt), by the value's prefix:
 * - Linux `v10`: AES-128-CBC, key PBKDF2-SHA1("peanuts", "saltysalt", 1 iteration), IV of 16 spaces.
 * - Linux `v11`: the same with the Secret Service's "Safe Storage" password.
 * - macOS `v10`: the same with the Keychain's "Safe Storage" password and 1003 iterations.
 * - Windows `v10`/`v11`: AES-256-GCM (12-byte nonce, 16-byte tag) with the DPAPI-protected key of `Local State`;
 *   no prefix: the value itself is DPAPI-protected (before Chrome 80); `v20`: app-bound, readable by the browser only.
 * Databases at meta version 24 or later put SHA-256(host_key) before the plaintext.
 */
import { createDecipheriv, createHash, pbkdf2Sync } from "node:crypto";

export const CHROMIUM_SALT = "saltysalt";
export const LINUX_FIXED_PASSWORD = "peanuts";
export const LINUX_ITERATIONS = 1;
export const MACOS_ITERATIONS = 1003;
export const FIRST_META_VERSION_WITH_HOST_PREFIX = 24;

const CBC_IV = Buffer.alloc(16, " ");
const GCM_NONCE_BYTES = 12;
const GCM_TAG_BYTES = 16;
const HOST_PREFIX_BYTES = 32;

export function cbcKey(password: string, iterations: number): Buffer {
  return pbkdf2Sync(password, CHROMIUM_SALT, iterations, 16, "sha1");
}

/** The keys that may open a value; `missing` says why the proper key could not be had, for when none fits. */
export interface KeyCandidates {
  keys: Buffer[];
  missing?: string | undefined;
}

/** What the operating system's secret stores give; each method asks at most once. */
export interface ChromiumKeySource {
  /** Linux and macOS: AES-128-CBC keys for a `v10` or `v11` value, most likely first. */
  cbcKeys(version: "v10" | "v11"): Promise<KeyCandidates>;
  /** Windows: the AES-256-GCM key of `Local State`. */
  gcmKey(): Promise<KeyCandidates>;
  /** Windows: a DPAPI-protected blob, unprotected for the current user; a string says why not. */
  unprotect(blob: Uint8Array): Promise<Buffer | string>;
}

export type DecryptedValue = { value: string } | { problem: string };

export const APP_BOUND_PROBLEM =
  "app-bound encryption (v20, Chrome 127 and later on Windows): only the browser itself can decrypt it. Export the cookies with a cookie-export extension into the cookies directory, or log in with Firefox";

/** The plaintext of one `encrypted_value`. */
export async function decryptCookieValue(
  encrypted: Uint8Array,
  hostKey: string,
  metaVersion: number,
  platform: NodeJS.Platform,
  keys: ChromiumKeySource,
): Promise<DecryptedValue> {
  const prefix = Buffer.from(encrypted.subarray(0, 3)).toString("latin1");
  const payload = encrypted.subarray(3);
  if (platform === "win32") {
    if (prefix === "v20") return { problem: APP_BOUND_PROBLEM };
    if (prefix === "v10" || prefix === "v11") {
      const {
        keys: [key],
        missing,
      } = await keys.gcmKey();
      const plain = key ? decryptGcm(payload, key) : null;
      return textOrProblem(plain, hostKey, metaVersion, missing);
    }
    const plain = await keys.unprotect(encrypted);
    return typeof plain === "string" ? { problem: plain } : textOrProblem(plain, hostKey, metaVersion);
  }
  if (prefix !== "v10" && prefix !== "v11") return { problem: `unknown encryption (the value does not start with v10 or v11)` };
  const candidates = await keys.cbcKeys(prefix);
  for (const key of candidates.keys) {
    const plain = decryptCbc(payload, key);
    const text = plain && plaintextOf(plain, hostKey, metaVersion);
    if (text !== null) return { value: text };
  }
  return { problem: candidates.missing ?? `no key decrypts it (${prefix})` };
}

function textOrProblem(plain: Buffer | null, hostKey: string, metaVersion: number, missing?: string): DecryptedValue {
  const text = plain && plaintextOf(plain, hostKey, metaVersion);
  if (text !== null) return { value: text };
  return { problem: missing ?? "the key of Local State does not decrypt it" };
}

/** AES-128-CBC with PKCS#7 padding; null when the padding shows the key was wrong. */
export function decryptCbc(payload: Uint8Array, key: Buffer): Buffer | null {
  if (payload.length === 0 || payload.length % 16 !== 0) return null;
  try {
    const decipher = createDecipheriv("aes-128-cbc", key, CBC_IV);
    return Buffer.concat([decipher.update(payload), decipher.final()]);
  } catch {
    return null;
  }
}

/** AES-256-GCM: nonce, ciphertext, tag; null when the tag does not verify. */
export function decryptGcm(payload: Uint8Array, key: Buffer): Buffer | null {
  if (payload.length < GCM_NONCE_BYTES + GCM_TAG_BYTES || key.length !== 32) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, payload.subarray(0, GCM_NONCE_BYTES));
    decipher.setAuthTag(payload.subarray(payload.length - GCM_TAG_BYTES));
    return Buffer.concat([decipher.update(payload.subarray(GCM_NONCE_BYTES, payload.length - GCM_TAG_BYTES)), decipher.final()]);
  } catch {
    return null;
  }
}

/**
 * The cookie value: from meta version 24 on, after checking the SHA-256 of the host
 * key (which also tells a wrong CBC key whose padding happened to look right);
 * null unless the result is UTF-8.
 */
export function plaintextOf(plain: Buffer, hostKey: string, metaVersion: number): string | null {
  let value = plain;
  if (metaVersion >= FIRST_META_VERSION_WITH_HOST_PREFIX) {
    const expected = createHash("sha256").update(hostKey, "utf8").digest();
    if (plain.length < HOST_PREFIX_BYTES || !expected.equals(plain.subarray(0, HOST_PREFIX_BYTES))) return null;
    value = plain.subarray(HOST_PREFIX_BYTES);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(value);
  } catch {
    return null;
  }
}
