/**
 * undici, loaded on first use: it carries the proxy paths only (direct connections are
 * Node's own HTTP client, `connections.ts`), and loading its entry point is a large part
 * of a start-up, which no command without a proxy should pay.
 */
import { createRequire } from "node:module";
import type { Agent, Pool, ProxyAgent } from "undici";

const require = createRequire(import.meta.url);

interface UndiciParts {
  Agent: typeof Agent;
  Pool: typeof Pool;
  ProxyAgent: typeof ProxyAgent;
}

function undici(): UndiciParts {
  return require("undici") as UndiciParts;
}

export function undiciAgent(): typeof Agent {
  return undici().Agent;
}

export function undiciProxyAgent(): typeof ProxyAgent {
  return undici().ProxyAgent;
}

/** The pool ProxyAgent opens to the proxy itself. */
export function undiciPool(): typeof Pool {
  return undici().Pool;
}
