/**
 * The parts of undici this package uses, each loaded on first use. undici's
 * entry point loads everything it has (mock agents, caches, WebSocket, …): about
 * 100 ms at start-up, most of a CLI's budget. Agent and fetch alone take a third
 * of that. ProxyAgent needs the request API that the entry point installs on every
 * dispatcher, so a proxy loads the whole of undici, once it is configured. The
 * module paths are undici 7's; package.json pins the major version.
 */
import { createRequire } from "node:module";
import type { Agent, Pool, ProxyAgent, fetch } from "undici";

const require = createRequire(import.meta.url);

let agent: typeof Agent | undefined;
let proxyAgent: typeof ProxyAgent | undefined;
let fetchFunction: typeof fetch | undefined;

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

export function undiciFetch(): typeof fetch {
  return (fetchFunction ??= (require("undici/lib/web/fetch/index.js") as { fetch: typeof fetch }).fetch);
}
