import { defaultAccounts, type Account, type AccountStatus, type Accounts } from "../accounts/accounts.js";
import { cookieHeaderOf, DEFAULT_BASE_URL, type CookieInput } from "../client/client.js";
import { parseBaseUrl } from "../client/http-transport.js";
import { cookieHeaderValues } from "../cookies/cookie-header.js";
import { ConfigError } from "../errors.js";
import type { UpstreamOptions } from "../provider/reply-parts.js";
import { resolveSessionCookies } from "../provider/session-cookies.js";

/** One Open-Assistant account of the gateway: its session cookies, or a cookie file that holds them. */
export type GatewaySession = { cookies: CookieInput } | { cookiesFile: string };

interface PoolEntry {
  source: GatewaySession | undefined;
  resolved?: Promise<{ cookies: CookieInput; account: Account }>;
  account?: Account;
  cookies?: CookieInput;
}

/** An account chosen for one reply: the provider options to reach it. */
export interface ChosenAccount {
  upstream: UpstreamOptions;
  account: Account;
}

/**
 * The gateway's accounts and the choice of one per reply. Open-Assistant lets a user
 * have one reply in its queue at a time and 20 replies per 11 minutes, so a gateway that
 * serves several people spreads their replies over several accounts: each reply goes to
 * the account that is least busy, skipping accounts that are rate-limited or whose
 * session the site refused while another is usable.
 */
export class AccountPool {
  readonly #upstream: UpstreamOptions;
  readonly #accounts: Accounts;
  readonly #entries: PoolEntry[];
  readonly #baseUrl: string;
  #next = 0;

  constructor(upstream: UpstreamOptions, sessions: readonly GatewaySession[] | undefined) {
    this.#upstream = upstream;
    this.#accounts = upstream.accounts ?? defaultAccounts;
    const env = upstream.env ?? process.env;
    this.#baseUrl = parseBaseUrl(upstream.baseUrl ?? env.OASST_BASE_URL ?? DEFAULT_BASE_URL).toString();
    if (sessions !== undefined && sessions.length === 0) {
      throw new ConfigError(
        "The gateway option sessions is empty",
        "Give at least one session ({ cookies } or { cookiesFile }), or leave the option out to use the cookie sources.",
      );
    }
    if (sessions !== undefined && upstream.cookies !== undefined) {
      throw new ConfigError("The gateway options sessions and cookies were both given", "Put every account's cookies in sessions.");
    }
    this.#entries = sessions ? sessions.map((source) => ({ source })) : [{ source: undefined }];
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Finds every account's cookies now (cookie files, the cookie sources): a missing one fails here, not at a request. */
  async resolveAll(): Promise<void> {
    await Promise.all(this.#entries.map((entry) => this.#resolve(entry)));
  }

  /** The cookie values of the accounts resolved so far: secrets to mask in anything sent to a caller. */
  secrets(): string[] {
    return this.#entries.flatMap((entry) => (entry.cookies === undefined ? [] : cookieHeaderValues(cookieHeaderOf(entry.cookies) ?? "")));
  }

  /** The account with this id (`Account.id`): a kept chat's, which only its account can continue. Undefined when the pool has none. */
  async find(accountId: string): Promise<ChosenAccount | undefined> {
    const resolved = await Promise.all(this.#entries.map((entry) => this.#resolve(entry)));
    const found = resolved.find(({ account }) => account.id === accountId);
    return found && { account: found.account, upstream: { ...this.#upstream, cookies: found.cookies, accounts: this.#accounts } };
  }

  /** The account for the next reply. */
  async choose(): Promise<ChosenAccount> {
    const resolved = await Promise.all(this.#entries.map((entry) => this.#resolve(entry)));
    const now = Date.now();
    const scored = resolved.map(({ account, cookies }, index) => ({ account, cookies, index, rank: rank(account, now) }));
    // Round robin among equals, starting after the last one chosen.
    const start = this.#next;
    scored.sort((a, b) => a.rank - b.rank || order(a.index, start, resolved.length) - order(b.index, start, resolved.length));
    const best = scored[0];
    if (!best) throw new Error("the account pool is empty");
    this.#next = (best.index + 1) % resolved.length;
    return { account: best.account, upstream: { ...this.#upstream, cookies: best.cookies, accounts: this.#accounts } };
  }

  /** Every account, in the order given: the provider options to reach each. */
  async all(): Promise<ChosenAccount[]> {
    const resolved = await Promise.all(this.#entries.map((entry) => this.#resolve(entry)));
    return resolved.map(({ account, cookies }) => ({ account, upstream: { ...this.#upstream, cookies, accounts: this.#accounts } }));
  }

  /** Each account's state, for the status route: never a cookie. */
  status(): Array<AccountStatus | { state: "unknown" }> {
    return this.#entries.map((entry) => entry.account?.status() ?? { state: "unknown" as const });
  }

  #resolve(entry: PoolEntry): Promise<{ cookies: CookieInput; account: Account }> {
    entry.resolved ??= this.#cookiesOf(entry.source).then(
      (cookies) => {
        entry.cookies = cookies;
        entry.account = this.#accounts.get(this.#baseUrl, cookieHeaderOf(cookies));
        return { cookies, account: entry.account };
      },
      (error: unknown) => {
        entry.resolved = undefined; // a cookie file may appear later
        throw error;
      },
    );
    return entry.resolved;
  }

  #cookiesOf(source: GatewaySession | undefined): Promise<CookieInput> {
    if (source === undefined) return resolveSessionCookies(this.#upstream);
    if ("cookies" in source) return resolveSessionCookies({ ...this.#upstream, cookies: source.cookies });
    return resolveSessionCookies({
      ...this.#upstream,
      cookies: undefined,
      cookiesFile: source.cookiesFile,
      browser: undefined,
      profile: undefined,
      env: withoutCookieEnv(this.#upstream.env),
    });
  }
}

/** Lower is better: a usable, idle account first; rate-limited and refused ones last. */
function rank(account: Account, now: number): number {
  const status = account.status(now);
  if (status.state === "auth_failed") return 3000;
  if (status.state === "rate_limited") return 2000;
  return (account.turns.busy ? 100 : 0) + account.turns.waiting * 100 + status.replying;
}

function order(index: number, start: number, size: number): number {
  return (index - start + size) % size;
}

/** A cookie file account reads its file only: OASST_COOKIES must not stand in for it. */
function withoutCookieEnv(env: NodeJS.ProcessEnv | undefined): NodeJS.ProcessEnv {
  const { OASST_COOKIES: _ignored, ...rest } = env ?? process.env;
  return rest;
}
