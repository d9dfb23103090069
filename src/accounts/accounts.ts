import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { accountId } from "./account-id.js";
import { FileTurnLock } from "./file-turn-lock.js";
import { RateLimitLedger, type RateLimit } from "./rate-limit-ledger.js";
import { Turn, TurnQueue } from "./turn-queue.js";

/** How often a reply waiting for another process's turn on the account looks again. */
const LOCK_POLL_MS = 250;

/** What `/health` and `oasst serve` show of an account: never a cookie. */
export interface AccountStatus {
  /** A hash of the site and the session cookie. */
  id: string;
  origin: string;
  /** `auth_failed`: the site refused its session cookie last time; `rate_limited`: its window is full; `busy`: a reply waits in the server's queue. */
  state: "ready" | "busy" | "rate_limited" | "auth_failed";
  /** Replies generating now. */
  replying: number;
  /** Replies waiting for the account's turn. */
  waiting: number;
  /** Assistant messages counted in the current rate-limit window. */
  messagesInWindow: number;
  /** When the rate-limit window closes (ISO time), if it is full. */
  rateLimitedUntil?: string;
  /** The last authentication failure, if it was the last thing that happened on the account. */
  authError?: string;
}

/** One account (a site and a session): its turn queue and what is known of it. */
export class Account {
  readonly id: string;
  readonly origin: string;
  readonly turns = new TurnQueue();
  #replying = 0;
  #authError: string | undefined;

  readonly #lock: FileTurnLock | undefined;

  constructor(
    origin: string,
    cookieHeader: string | undefined,
    private readonly ledger: RateLimitLedger,
    lockDir?: string,
  ) {
    this.origin = origin;
    this.id = accountId(origin, cookieHeader);
    this.#lock = lockDir === undefined ? undefined : new FileTurnLock(join(lockDir, `${this.id}.lock`));
  }

  /**
   * Waits for the account's turn to post a reply: first among this process's replies
   * (see `TurnQueue`), then, with a lock directory, among other processes. Yields the
   * replies ahead whenever that changes (1 while another process holds the turn).
   */
  async *takeTurn(signal?: AbortSignal): AsyncGenerator<number, Turn, undefined> {
    const turn = yield* this.turns.wait(signal);
    if (!this.#lock) return turn;
    try {
      let unlock = this.#lock.tryAcquire();
      if (!unlock) yield 1;
      while (!unlock) {
        await sleep(LOCK_POLL_MS, undefined, { signal });
        unlock = this.#lock.tryAcquire();
      }
      const release = unlock;
      return new Turn(() => {
        release();
        turn.release();
      });
    } catch (error) {
      turn.release();
      throw error;
    }
  }

  /** The server's rate limit, as the ledger counts it. */
  get limit(): RateLimit {
    return this.ledger.limit;
  }

  /** Counts an assistant message about to be posted; says whether the server will take it. */
  countAttempt(now = Date.now()) {
    return this.ledger.attempt(this.id, now);
  }

  /** When the account may post again, if its rate-limit window is full. */
  limitedUntil(now = Date.now()): number | undefined {
    return this.ledger.limitedUntil(this.id, now);
  }

  /** A reply on this account started generating; call the returned function when it ends. */
  startReply(): () => void {
    this.#replying++;
    let ended = false;
    return () => {
      if (!ended) this.#replying--;
      ended = true;
    };
  }

  /** Remembers whether the site accepted the session last time (undefined: it did). */
  noteAuth(error: string | undefined): void {
    this.#authError = error;
  }

  /** Nothing in flight, nothing known that matters: safe to forget. */
  get idle(): boolean {
    return !this.turns.busy && this.turns.waiting === 0 && this.#replying === 0 && this.ledger.window(this.id) === undefined;
  }

  status(now = Date.now()): AccountStatus {
    const limitedUntil = this.limitedUntil(now);
    const state = this.#authError ? "auth_failed" : limitedUntil ? "rate_limited" : this.turns.busy ? "busy" : "ready";
    return {
      id: this.id,
      origin: this.origin,
      state,
      replying: this.#replying,
      waiting: this.turns.waiting,
      messagesInWindow: this.ledger.window(this.id, now)?.count ?? 0,
      ...(limitedUntil ? { rateLimitedUntil: new Date(limitedUntil).toISOString() } : {}),
      ...(this.#authError ? { authError: this.#authError } : {}),
    };
  }
}

export interface AccountsOptions {
  /** The server's limit of assistant messages per user. Default 20 per 660 s (Open-Assistant's limiter). */
  rateLimit?: RateLimit | undefined;
  /** Keep the rate-limit counts in this JSON file, for the next process (the CLI does). Default: in memory. */
  ledgerFile?: string | undefined;
  /** Take each account's turn across processes too, with lock files in this directory (the CLI does). Default: this process only. */
  lockDir?: string | undefined;
}

/** Forget idle accounts beyond this many (a gateway fed many sessions must not grow without end). */
const MAX_IDLE_ACCOUNTS = 1000;

/**
 * The accounts this process talks to, by site and session. Replies of one account take
 * turns through its queue; the rate-limit ledger counts their assistant messages. The
 * provider uses `defaultAccounts` unless given its own (`accounts` option).
 */
export class Accounts {
  readonly ledger: RateLimitLedger;
  readonly #accounts = new Map<string, Account>();
  readonly #lockDir: string | undefined;

  constructor(options: AccountsOptions = {}) {
    this.ledger = new RateLimitLedger({ limit: options.rateLimit, file: options.ledgerFile });
    this.#lockDir = options.lockDir;
  }

  /** The account of `origin` (e.g. `https://host`) and a `Cookie` header. */
  get(origin: string, cookieHeader: string | undefined): Account {
    const id = accountId(origin, cookieHeader);
    let account = this.#accounts.get(id);
    if (!account) {
      if (this.#accounts.size >= MAX_IDLE_ACCOUNTS) this.#forgetIdle();
      account = new Account(origin, cookieHeader, this.ledger, this.#lockDir);
      this.#accounts.set(id, account);
    }
    return account;
  }

  #forgetIdle(): void {
    for (const [id, account] of this.#accounts) if (account.idle) this.#accounts.delete(id);
  }
}

/** The process's accounts: every provider call without an `accounts` option shares it, so one account's replies in one process never cancel each other. */
export const defaultAccounts = new Accounts();
