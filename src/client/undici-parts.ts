/**
 * The parts of undici this package uses, each loaded on first use: undici carries
 * the proxy paths only (direct connections are the package's own, `src/client/http1/`).
 * undici's entry point loads everything it has (mock agents, caches, WebSocket, …):
 * about 100 ms at start-up. A SOCKS proxy needs only its Agent; ProxyAgent needs
 * the request API that the entry point installs on every dispatcher, so an HTTP(S)
 * proxy loads the whole of undici, once it is configured. The module path is
 * undici 7's; package.json pins the major version.
 */
import { createRequire } from "node:module";
import type { Agent, Pool, ProxyAgent } from "undici";

const require = createRequire(import.meta.url);

let agent: typeof Agent | undefined;
let proxyAgent: typeof ProxyAgent | undefined;

export function undiciAgent(): typeof Agent {
  return (agent ??= require("undici/lib/dispatcher/agent.js") as typeof Agent);
}

export function undiciProxyAgent(): typeof ProxyAgent {
  return (proxyAgent ??= (require("undici") as { ProxyAgent: typeof ProxyAgent }).ProxyAgent);
}

/** The pool ProxyAgent opens to the proxy itself (with the whole of undici, as ProxyAgent). */
export function undiciPool(): typeof Pool {
  return (require("undici") as { Pool: typeof Pool }).Pool;
}
