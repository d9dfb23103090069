import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { configDir } from "../cookies/config-dir.js";
import type { CliContext } from "./cli-context.js";

/** `<config dir>/oasst/emulator-session`: the emulator's session token, kept across restarts. */
export function emulatorSessionPath({ platform, homeDir, env }: CliContext): string {
  return join(configDir({ platform, homeDir, env }), "oasst", "emulator-session");
}

/**
 * The token `oasst emulate` accepts when no --session-token is given: the saved one, else
 * a new random one, saved (mode 0600) so that a restarted emulator still accepts the
 * OASST_COOKIES other shells exported. A file that cannot be written only costs that.
 */
export async function emulatorSessionToken(path: string, onWarning: (message: string) => void): Promise<string> {
  const saved = await readFile(path, "utf8").then(
    (text) => text.trim(),
    () => "",
  );
  // The shape newSessionToken makes; anything else (an edited file) is replaced.
  if (/^[A-Za-z0-9_-]{43}$/.test(saved)) return saved;
  const token = randomBytes(32).toString("base64url");
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(path, `${token}\n`, { mode: 0o600 });
    // writeFile's mode applies only to a new file.
    await chmod(path, 0o600);
  } catch (error) {
    onWarning(
      `the session token could not be saved in ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}): a restart will print a new cookie.`,
    );
  }
  return token;
}
