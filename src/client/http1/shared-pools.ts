/**
 * The process's keep-alive connections, one pool per origin, shared by every client
 * that asks for them (the provider does): back-to-back chats reuse one connection
 * instead of opening and closing one each. Idle connections never keep the process
 * alive and close after the idle timeout.
 */
import { Http1Pool } from "./pool.js";

const pools = new Map<string, Http1Pool>();

/** The shared pool for `origin`; `connectTimeout` is part of the key, as it is fixed per pool. */
export function sharedPool(origin: URL, connectTimeout: number): Http1Pool {
  const key = `${origin.origin} ${connectTimeout}`;
  let pool = pools.get(key);
  if (!pool) {
    pool = new Http1Pool(origin, { connectTimeout });
    pools.set(key, pool);
  }
  return pool;
}

/**
 * Close the shared pools' idle connections now, e.g. before a graceful exit or a leak
 * check; connections in use stay and are closed when their idle time runs out.
 */
export function closeIdleConnections(): void {
  for (const pool of pools.values()) pool.closeIdle();
}
