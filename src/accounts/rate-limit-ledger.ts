import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** How many assistant messages a user may post per window: the inference server's `rate_limit_messages_user_*` settings. */
export interface RateLimit {
  messages: number;
  windowMs: number;
}

/**
 * Open-Assistant's limit: 20 assistant messages per 660 s. settings.py says 600 s, but its
 * `UserRateLimiter` keeps fastapi-limiter's default `minutes=1`, which the window adds.
 */
export const DEFAULT_RATE_LIMIT: Readonly<RateLimit> = Object.freeze({ messages: 20, windowMs: 660_000 });

/** One account's current window, as the server's limiter keeps it. */
export interface RateWindow {
  /** When the window opened (ms since the epoch). */
  start: number;
  /** Requests counted in it. */
  count: number;
}

/** What the ledger expects of one attempt. */
export interface AttemptForecast {
  /** False when the window was already full: the server refuses this attempt. */
  allowed: boolean;
  /** When the window closes and the account may post again (ms since the epoch). */
  resetsAt: number;
}

/**
 * The assistant messages each account posted, counted as the server's limiter counts them
 * (fastapi-limiter: a fixed window opened by the first request, every request to the
 * route counts, refused ones do not). The real website answers the refusal with a bare
 * HTTP 500, so this count is what tells a rate limit from another failure and says how
 * long to wait. With `file`, the counts are kept there (one small JSON object, account
 * ids only: never a cookie), so a new process knows what the last one posted.
 */
export class RateLimitLedger {
  readonly limit: RateLimit;
  readonly #file: string | undefined;
  readonly #windows = new Map<string, RateWindow>();
  /** The file's modification time when it was last read: it is read again only once it changed… */
  #loadedMtime = -1;
  /** …which is looked at once a second at most (a gateway asks about every account for every reply). */
  #checkedAt = -Infinity;
  #dirMade = false;

  constructor(options: { limit?: RateLimit | undefined; file?: string | undefined } = {}) {
    this.limit = options.limit ?? DEFAULT_RATE_LIMIT;
    this.#file = options.file;
  }

  /** Count one attempt to post an assistant message on `account`. */
  attempt(account: string, now = Date.now()): AttemptForecast {
    this.#load();
    const window = this.#current(account, now);
    let forecast: AttemptForecast;
    if (!window) {
      this.#windows.set(account, { start: now, count: 1 });
      forecast = { allowed: true, resetsAt: now + this.limit.windowMs };
    } else if (window.count + 1 > this.limit.messages) {
      forecast = { allowed: false, resetsAt: window.start + this.limit.windowMs };
    } else {
      window.count++;
      forecast = { allowed: true, resetsAt: window.start + this.limit.windowMs };
    }
    this.#save();
    return forecast;
  }

  /** When `account` may post again, if its window is full now; else undefined. */
  limitedUntil(account: string, now = Date.now()): number | undefined {
    this.#load();
    const window = this.#current(account, now);
    return window && window.count >= this.limit.messages ? window.start + this.limit.windowMs : undefined;
  }

  /** The account's open window, if any. */
  window(account: string, now = Date.now()): RateWindow | undefined {
    this.#load();
    const window = this.#current(account, now);
    return window && { ...window };
  }

  #current(account: string, now: number): RateWindow | undefined {
    const window = this.#windows.get(account);
    if (window && now < window.start + this.limit.windowMs) return window;
    if (window) this.#windows.delete(account);
    return undefined;
  }

  /** Takes in what other processes wrote: the later window wins, the higher count of one window. */
  #load(): void {
    if (!this.#file) return;
    let stored: unknown;
    const now = performance.now();
    if (now - this.#checkedAt < 1000) return;
    this.#checkedAt = now;
    try {
      const mtime = statSync(this.#file).mtimeMs;
      if (mtime === this.#loadedMtime) return;
      this.#loadedMtime = mtime;
      stored = JSON.parse(readFileSync(this.#file, "utf8"));
    } catch {
      return; // none yet, or unreadable: this process's own counts stand
    }
    const accounts = (stored as { accounts?: unknown } | null)?.accounts;
    if (typeof accounts !== "object" || accounts === null) return;
    for (const [id, value] of Object.entries(accounts)) {
      const { start, count } = (value ?? {}) as Partial<RateWindow>;
      if (typeof start !== "number" || typeof count !== "number" || !Number.isFinite(start) || !Number.isFinite(count)) continue;
      const mine = this.#windows.get(id);
      if (!mine || start > mine.start) this.#windows.set(id, { start, count });
      else if (start === mine.start) mine.count = Math.max(mine.count, count);
    }
  }

  #save(): void {
    if (!this.#file) return;
    const now = Date.now();
    const accounts: Record<string, RateWindow> = {};
    for (const [id, window] of this.#windows) if (now < window.start + this.limit.windowMs) accounts[id] = window;
    try {
      if (!this.#dirMade) mkdirSync(dirname(this.#file), { recursive: true, mode: 0o700 });
      this.#dirMade = true;
      const temporary = `${this.#file}.${process.pid}.tmp`;
      writeFileSync(temporary, `${JSON.stringify({ version: 1, accounts })}\n`, { mode: 0o600 });
      renameSync(temporary, this.#file);
    } catch {
      // A ledger that cannot be written only makes the next process's forecast weaker.
    }
  }
}
