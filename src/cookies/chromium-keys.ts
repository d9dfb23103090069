/**
 * The secrets behind Chromium's cookie encryption, from each OS's store: the Secret
 * Service through `secret-tool` (Linux `v11`), the Keychain through `security`
 * (macOS), DPAPI through PowerShell (Windows). Each is asked at most once per search.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { cbcKey, LINUX_FIXED_PASSWORD, LINUX_ITERATIONS, MACOS_ITERATIONS, type ChromiumKeySource, type KeyCandidates } from "./chromium-decrypt.js";
import type { ChromiumBrowser } from "./chromium-profiles.js";
import { describeFsError, isErrnoCode } from "./errno.js";
import { isRecord } from "./is-record.js";
import type { CommandRunner } from "./types.js";

/** The Keychain item is "<name> Safe Storage". */
const KEYCHAIN_NAMES: Record<ChromiumBrowser, string> = {
  chrome: "Chrome",
  chromium: "Chromium",
  brave: "Brave",
  edge: "Microsoft Edge",
  vivaldi: "Vivaldi",
  opera: "Opera",
};

/**
 * The Secret Service item's `application` attribute. Chrome writes "chrome" and
 * Chromium "chromium"; the forks use their own name or reuse one of those, so each
 * candidate is tried and the right one is the one that decrypts.
 */
const SECRET_SERVICE_APPLICATIONS: Record<ChromiumBrowser, string[]> = {
  chrome: ["chrome"],
  chromium: ["chromium"],
  brave: ["brave", "chromium"],
  edge: ["microsoft-edge", "chromium"],
  vivaldi: ["vivaldi", "chrome"],
  opera: ["opera", "chromium"],
};

const DPAPI_PREFIX = "DPAPI";

// Reads base64 from stdin, writes the unprotected bytes as base64: no secret on a command line.
const UNPROTECT_SCRIPT =
  "Add-Type -AssemblyName System.Security; " +
  "$data = [Convert]::FromBase64String([Console]::In.ReadToEnd().Trim()); " +
  "[Convert]::ToBase64String([Security.Cryptography.ProtectedData]::Unprotect($data, $null, 'CurrentUser'))";

export interface KeySourceContext {
  browser: ChromiumBrowser;
  platform: NodeJS.Platform;
  /** Windows: the folder of `Local State`. */
  userDataDir: string | undefined;
  runCommand: CommandRunner;
}

export function chromiumKeySource(context: KeySourceContext): ChromiumKeySource {
  const { browser, platform, runCommand } = context;
  const once = new Map<string, Promise<KeyCandidates>>();
  const memo = (name: string, get: () => Promise<KeyCandidates>) => {
    let pending = once.get(name);
    if (!pending) once.set(name, (pending = get()));
    return pending;
  };
  const unprotect = (blob: Uint8Array) => dpapiUnprotect(blob, runCommand);

  return {
    cbcKeys: (version) => {
      if (platform === "darwin") return memo("keychain", () => keychainKeys(browser, runCommand));
      // Chromium falls back to an empty password when the store answers nothing; values written then open with it.
      const empty = cbcKey("", LINUX_ITERATIONS);
      if (version === "v10") return Promise.resolve({ keys: [cbcKey(LINUX_FIXED_PASSWORD, LINUX_ITERATIONS), empty] });
      return memo("secret-service", async () => {
        const found = await secretServiceKeys(browser, runCommand);
        return { keys: [...found.keys, empty], missing: found.missing };
      });
    },
    gcmKey: () => memo("local-state", () => localStateKey(context.userDataDir, unprotect)),
    unprotect,
  };
}

async function secretServiceKeys(browser: ChromiumBrowser, runCommand: CommandRunner): Promise<KeyCandidates> {
  const applications = SECRET_SERVICE_APPLICATIONS[browser];
  const keys: Buffer[] = [];
  for (const application of applications) {
    let result;
    try {
      result = await runCommand("secret-tool", ["lookup", "application", application]);
    } catch (error) {
      if (isErrnoCode(error, "ENOENT")) {
        return {
          keys,
          missing:
            "the value is encrypted with the Secret Service password (v11) and secret-tool is not installed: install it (Debian/Ubuntu: apt-get install libsecret-tools; Fedora: dnf install libsecret), or export the cookies to a cookies.txt",
        };
      }
      throw error;
    }
    const password = result.stdout.trim();
    if (result.exitCode === 0 && password) keys.push(cbcKey(password, LINUX_ITERATIONS));
  }
  if (keys.length > 0) return { keys, missing: `the Secret Service password of ${KEYCHAIN_NAMES[browser]} does not decrypt it (v11)` };
  return {
    keys,
    missing: `the value is encrypted with the Secret Service password (v11), and the Secret Service holds none for ${KEYCHAIN_NAMES[browser]} (secret-tool lookup application ${applications.join(" / ")} found nothing): unlock the login keyring (log in to the desktop session), or export the cookies to a cookies.txt`,
  };
}

async function keychainKeys(browser: ChromiumBrowser, runCommand: CommandRunner): Promise<KeyCandidates> {
  const service = `${KEYCHAIN_NAMES[browser]} Safe Storage`;
  let result;
  try {
    result = await runCommand("security", ["find-generic-password", "-w", "-s", service]);
  } catch (error) {
    if (isErrnoCode(error, "ENOENT")) return { keys: [], missing: "the macOS `security` tool was not found, so the Keychain cannot be asked" };
    throw error;
  }
  const password = result.stdout.trim();
  if (result.exitCode === 0 && password) {
    return { keys: [cbcKey(password, MACOS_ITERATIONS)], missing: `the Keychain's "${service}" password does not decrypt it` };
  }
  return {
    keys: [],
    missing: `the Keychain gave no "${service}" password (security exited ${result.exitCode}${result.stderr.trim() ? `: ${result.stderr.trim()}` : ""}): allow oasst in the Keychain prompt, or export the cookies to a cookies.txt`,
  };
}

async function localStateKey(userDataDir: string | undefined, unprotect: (blob: Uint8Array) => Promise<Buffer | string>): Promise<KeyCandidates> {
  if (!userDataDir) return { keys: [], missing: "no Local State file was found next to the profile" };
  const path = join(userDataDir, "Local State");
  let state: unknown;
  try {
    state = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    return { keys: [], missing: `${path} could not be read (${error instanceof SyntaxError ? "not JSON" : describeFsError(error)})` };
  }
  const encoded = isRecord(state) && isRecord(state.os_crypt) ? state.os_crypt.encrypted_key : undefined;
  const protectedKey = typeof encoded === "string" ? Buffer.from(encoded, "base64") : Buffer.alloc(0);
  if (protectedKey.subarray(0, DPAPI_PREFIX.length).toString("latin1") !== DPAPI_PREFIX) {
    return { keys: [], missing: `${path} holds no DPAPI-protected os_crypt.encrypted_key` };
  }
  const key = await unprotect(protectedKey.subarray(DPAPI_PREFIX.length));
  if (typeof key === "string") return { keys: [], missing: key };
  return { keys: [key], missing: "the key of Local State does not decrypt it" };
}

async function dpapiUnprotect(blob: Uint8Array, runCommand: CommandRunner): Promise<Buffer | string> {
  let result;
  try {
    result = await runCommand("powershell.exe", ["-NoProfile", "-NonInteractive", "-Command", UNPROTECT_SCRIPT], Buffer.from(blob).toString("base64"));
  } catch (error) {
    if (isErrnoCode(error, "ENOENT")) return "powershell.exe was not found, so DPAPI cannot be asked for the key";
    throw error;
  }
  const output = result.stdout.trim();
  if (result.exitCode !== 0 || !/^[A-Za-z0-9+/]+=*$/.test(output)) {
    return `DPAPI refused to unprotect the key (PowerShell exited ${result.exitCode}): run oasst as the Windows user who uses the browser`;
  }
  return Buffer.from(output, "base64");
}
