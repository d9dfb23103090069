/** Where per-user configuration lives on each platform. */
import { join } from "node:path";

export interface PlatformContext {
  platform: NodeJS.Platform;
  homeDir: string;
  env: NodeJS.ProcessEnv;
}

/** XDG_CONFIG_HOME or ~/.config (Linux and the other Unixes), ~/Library/Application Support (macOS), %APPDATA% (Windows). */
export function configDir({ platform, homeDir, env }: PlatformContext): string {
  if (platform === "win32") return env.APPDATA || join(homeDir, "AppData", "Roaming");
  if (platform === "darwin") return join(homeDir, "Library", "Application Support");
  return env.XDG_CONFIG_HOME || join(homeDir, ".config");
}

/** %LOCALAPPDATA% on Windows, where Chromium-family browsers keep their profiles. */
export function localAppDataDir({ homeDir, env }: PlatformContext): string {
  return env.LOCALAPPDATA || join(homeDir, "AppData", "Local");
}

/** The default folder of cookie files: env OASST_COOKIES_DIR, else <config dir>/oasst/cookies. */
export function defaultCookiesDir(context: PlatformContext): string {
  return context.env.OASST_COOKIES_DIR || join(configDir(context), "oasst", "cookies");
}
