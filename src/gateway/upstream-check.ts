import { OpenAssistantError } from "../errors.js";
import type { AccountPool } from "./account-pool.js";
import { upstreamModels } from "./models-route.js";

/** The start-up check's timeout (ms), or the connection's own when shorter: a dead server must not hold the note back. */
export const UPSTREAM_CHECK_TIMEOUT_MS = 10_000;

/** One account whose check failed. */
export interface UpstreamCheckFailure {
  /** Its place among the accounts (`sessions`), from 1. */
  account: number;
  /** The error's code (`auth`, `connection`, `timeout`…; `aborted` when the gateway was shut down first; `unknown` for other errors). */
  code: string;
  /** The HTTP status, when the server answered. */
  status: number | undefined;
  /** What failed, with the server's message; secrets masked. */
  message: string;
}

/** What `GET /api/chat/models` said to each account. */
export interface UpstreamCheck {
  accounts: number;
  /** The models the site listed (to the first account that got an answer). */
  models: string[];
  failures: UpstreamCheckFailure[];
}

/**
 * Asks the site for its models with each account's cookies: a refused cookie or a dead base
 * URL shows at start-up rather than in every request. It changes nothing: a failed account is
 * still tried by requests (its cookies may be renewed, the server may come back).
 */
export async function checkUpstream(pool: AccountPool, mask: (text: string) => string, signal: AbortSignal | undefined): Promise<UpstreamCheck> {
  const accounts = await pool.all();
  let models: string[] | undefined;
  const failures: UpstreamCheckFailure[] = [];
  await Promise.all(
    accounts.map(async ({ upstream }, index) => {
      const timeout = upstream.timeout && upstream.timeout < UPSTREAM_CHECK_TIMEOUT_MS ? upstream.timeout : UPSTREAM_CHECK_TIMEOUT_MS;
      try {
        const listed = await upstreamModels({ ...upstream, timeout }, signal);
        models ??= listed.map((model) => model.name);
      } catch (error) {
        const known = error instanceof OpenAssistantError;
        failures.push({
          account: index + 1,
          code: known ? error.code : "unknown",
          status: known ? error.status : undefined,
          message: mask(known ? error.summary : String(error)),
        });
      }
    }),
  );
  failures.sort((a, b) => a.account - b.account);
  return { accounts: accounts.length, models: models ?? [], failures };
}
