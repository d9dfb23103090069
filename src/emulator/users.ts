import type { StoredMessage } from "./chat-store.js";
import type { EmulatorSettings } from "./settings.js";

/**
 * The emulator's accounts: one per session token. Each user has its own chats (the
 * store filters by user), its own rate-limit window and its own set of pending
 * assistant messages (the scope of the real server's pending-cancel rule).
 */

export interface EmulatedUser {
  /** The user id the inference server would see (`jwt.sub`): `user-1`, `user-2`, … */
  readonly id: string;
  readonly token: string;
  /** Assistant messages of this user in state `pending` (not yet started by a worker). */
  readonly pending: Set<StoredMessage>;
  /** fastapi-limiter's Redis key: requests counted in the current window, and when it expires. */
  rateCount: number;
  rateWindowEnd: number;
}

export class UserRegistry {
  private readonly byToken = new Map<string, EmulatedUser>();

  constructor(tokens: readonly string[]) {
    for (const token of tokens) this.add(token);
  }

  get size(): number {
    return this.byToken.size;
  }

  add(token: string): EmulatedUser {
    const existing = this.byToken.get(token);
    if (existing) return existing;
    const user: EmulatedUser = { id: `user-${this.byToken.size + 1}`, token, pending: new Set(), rateCount: 0, rateWindowEnd: 0 };
    this.byToken.set(token, user);
    return user;
  }

  /** The user of a presented session token, if it is one of ours (NextAuth: any other token fails to decode). */
  find(token: string): EmulatedUser | undefined {
    return token ? this.byToken.get(token) : undefined;
  }
}

/**
 * fastapi-limiter 0.1.5's Lua script, per user: the first request opens a fixed window
 * (`SET key 1 PX window`), later ones `INCR` while the count stays within the limit; a
 * request over the limit is refused and not counted. True when the request may pass.
 */
export function takeRateLimit(user: EmulatedUser, limit: EmulatorSettings["rateLimit"], now = Date.now()): boolean {
  if (limit === false) return true;
  if (user.rateCount === 0 || now >= user.rateWindowEnd) {
    user.rateCount = 1;
    user.rateWindowEnd = now + limit.windowMs;
    return true;
  }
  if (user.rateCount + 1 > limit.messages) return false;
  user.rateCount++;
  return true;
}
