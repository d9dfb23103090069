import { isIP } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Dispatcher, Pool, buildConnector } from "undici";
import { ConfigError } from "../errors.js";
import { redactUrl } from "../redact.js";
import { hasCode } from "./http-errors.js";
import { undiciAgent, undiciPool, undiciProxyAgent } from "./undici-parts.js";

const PROXY_PROTOCOLS = new Set(["http:", "https:", "socks5:", "socks5h:"]);

/**
 * The proxy for a target URL from the environment, as curl reads it:
 * HTTPS_PROXY / HTTP_PROXY by the target's scheme, then ALL_PROXY; NO_PROXY
 * (comma list of hosts, `.suffix`, `host:port`, or `*`) turns it off. Lower-case
 * names win over upper-case ones, as in curl.
 */
export function proxyFromEnv(target: URL, env: NodeJS.ProcessEnv = process.env): string | undefined {
  // Read for every chat: the names are spelled out rather than case-converted each time.
  if (bypassesProxy(target, env.no_proxy || env.NO_PROXY || undefined)) return undefined;
  const byScheme = target.protocol === "https:" ? env.https_proxy || env.HTTPS_PROXY : env.http_proxy || env.HTTP_PROXY;
  return byScheme || env.all_proxy || env.ALL_PROXY || undefined;
}

function bypassesProxy(target: URL, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  const host = target.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = target.port || (target.protocol === "https:" ? "443" : "80");
  return noProxy
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((entry) => {
      if (entry === "*") return true;
      const [rawPattern, entryPort] = entry.toLowerCase().split(/:(?=\d+$)/) as [string, string | undefined];
      if (entryPort && entryPort !== port) return false;
      const pattern = rawPattern.replace(/^\*/, "");
      if (pattern.startsWith(".")) return host.endsWith(pattern) || host === pattern.slice(1);
      return host === pattern || host.endsWith(`.${pattern}`);
    });
}

export interface ProxyDispatcherOptions {
  /** Connect timeout, ms. */
  connectTimeout?: number | undefined;
  /** Most connections to the origin (default unlimited). */
  connections?: number | undefined;
}

/** Parse and check a proxy URL; errors name the URL with its password masked. */
export function parseProxyUrl(proxy: string): URL {
  let url: URL;
  try {
    url = new URL(proxy);
  } catch {
    throw new ConfigError(
      `The proxy ${JSON.stringify(redactUrl(proxy))} is not a URL`,
      "Write it as scheme://[user:password@]host:port, e.g. http://127.0.0.1:8080 or socks5h://127.0.0.1:1080.",
    );
  }
  if (!PROXY_PROTOCOLS.has(url.protocol)) {
    throw new ConfigError(
      `The proxy scheme ${url.protocol.replace(/:$/, "")} is not supported (${redactUrl(url)})`,
      "Use http://, https://, socks5:// (DNS on this machine) or socks5h:// (DNS on the proxy).",
    );
  }
  return url;
}

/** A keep-alive connection pool (undici's) whose every connection goes through `proxy`. */
export function createProxyDispatcher(proxy: string, options: ProxyDispatcherOptions = {}): Dispatcher {
  const connect = { timeout: options.connectTimeout ?? 10_000 };
  const connections = options.connections ?? null;
  const url = parseProxyUrl(proxy);
  if (url.protocol === "socks5:" || url.protocol === "socks5h:") {
    const Agent = undiciAgent();
    return new Agent({ connect: socksConnector(url, connect.timeout), connections });
  }
  const ProxyAgent = undiciProxyAgent();
  // The CONNECT that opens a tunnel is not tied to the request's signal: the wait for the proxy's
  // answer gets the timeout too, or a proxy that never answers holds close() for undici's 300 s default.
  const Pool = undiciPool();
  // undici names an https proxy to its TLS by the proxy's host even when that is an IP address, which SNI
  // forbids (RFC 6066; Node warns DEP0123): no server name then.
  const clientFactory = (origin: URL, opts: { connect?: buildConnector.connector }) =>
    failClosedTunnels(new Pool(origin, { ...opts, connect: withoutIpServername(opts.connect), headersTimeout: connect.timeout }));
  // Every target goes through a CONNECT tunnel: cookies never travel in clear to the proxy.
  return new ProxyAgent({ uri: url.toString(), connect, proxyTls: connect, requestTls: connect, connections, clientFactory });
}

/**
 * A proxy that closes the connection before it answers the CONNECT fails the request. undici
 * would open the tunnel again and again, without end and past every timeout: its client
 * retries a connection attempt that ended in a socket error (UND_ERR_SOCKET), and the CONNECT's
 * is one. The error given instead has a code of its own, which undici passes to the request.
 */
function failClosedTunnels(pool: Pool): Pool {
  const open = pool.connect.bind(pool) as (options: Dispatcher.ConnectOptions) => Promise<Dispatcher.ConnectData>;
  return Object.assign(pool, {
    connect: (options: Dispatcher.ConnectOptions) =>
      open(options).catch((error: unknown) => {
        throw error instanceof Error && hasCode(error, "UND_ERR_SOCKET") ? new ProxyClosedError(error) : error;
      }),
  });
}

class ProxyClosedError extends Error {
  readonly code = "OASST_PROXY_CLOSED";

  constructor(socketError: Error) {
    super(`the proxy closed the connection before it answered CONNECT (${socketError.message})`);
    this.name = "ProxyClosedError";
  }
}

function withoutIpServername(connector: buildConnector.connector | undefined): buildConnector.connector | undefined {
  if (!connector) return undefined;
  return (options, callback) => connector(options.servername && isIP(options.servername) ? { ...options, servername: undefined } : options, callback);
}

/** The address a socks5:// (not socks5h://) proxy is given for a host name. */
async function lookUp(hostname: string): Promise<string> {
  const { lookup } = await import("node:dns/promises");
  return (await lookup(hostname)).address;
}

/** Connect through a SOCKS5 proxy, then speak TLS to the target inside it when the target is https. */
function socksConnector(proxy: URL, timeout: number): buildConnector.connector {
  const remoteDns = proxy.protocol === "socks5h:";
  return (options, callback) => {
    const port = Number(options.port) || (options.protocol === "https:" ? 443 : 80);
    const open = async () => {
      const host = remoteDns || isIP(options.hostname) ? options.hostname : await lookUp(options.hostname);
      // Loaded on first use, as node:dns and node:tls: only SOCKS users pay for them at start-up.
      const { SocksClient } = await import("socks");
      const { socket } = await SocksClient.createConnection({
        proxy: {
          host: proxy.hostname.replace(/^\[|\]$/g, ""),
          port: Number(proxy.port) || 1080,
          type: 5,
          userId: proxy.username ? decodeURIComponent(proxy.username) : undefined,
          password: proxy.password ? decodeURIComponent(proxy.password) : undefined,
        },
        command: "connect",
        destination: { host, port },
        timeout,
      });
      if (options.protocol !== "https:") return socket;
      const { connect: tlsConnect } = await import("node:tls");
      return await new Promise<TLSSocket>((resolve, reject) => {
        // SNI names a host, never an IP address (RFC 6066).
        const name = options.servername ?? options.hostname;
        const secure = tlsConnect({ socket, ...(isIP(name) ? {} : { servername: name }), ALPNProtocols: ["http/1.1"] });
        secure.once("secureConnect", () => resolve(secure));
        secure.once("error", reject);
      });
    };
    open().then(
      (socket) => callback(null, socket),
      (error: unknown) => callback(withoutSocksOptions(error), null),
    );
  };
}

/**
 * The socks package's errors carry the request's options, proxy password included, and
 * `util.inspect(error)` prints them through the cause chain: keep the name, message, code and stack only.
 */
function withoutSocksOptions(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  const clean: Error & { code?: unknown } = new Error(error.message);
  clean.name = error.name;
  clean.stack = error.stack;
  const { code } = error as { code?: unknown };
  if (code !== undefined) clean.code = code;
  return clean;
}
