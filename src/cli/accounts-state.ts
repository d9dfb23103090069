import { join } from "node:path";
import { Accounts } from "../accounts/accounts.js";
import { configDir } from "../cookies/config-dir.js";
import type { CliContext } from "./cli-context.js";

/**
 * The accounts of one `oasst` process. Their rate-limit counts are kept in
 * `<config dir>/oasst/rate-limits.json` (account hashes and counts, never a cookie): the
 * real site answers its rate limit with a bare HTTP 500, and the counts of earlier runs
 * are what tell it apart and say how long to wait. Their turns are taken across
 * processes with lock files in `<config dir>/oasst/locks`: two `oasst chat` runs on one
 * account would otherwise cancel each other's queued replies.
 */
export function cliAccounts({ platform, homeDir, env }: CliContext): Accounts {
  const dir = join(configDir({ platform, homeDir, env }), "oasst");
  return new Accounts({ ledgerFile: join(dir, "rate-limits.json"), lockDir: join(dir, "locks") });
}
