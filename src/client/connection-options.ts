import type { FetchLike, RequestTrailEntry } from "./http-transport.js";

/**
 * How to reach an Open-Assistant server. One type for every surface: the client, the
 * provider, the gateway (through the provider's options) and the AI SDK provider.
 */
export interface ConnectionOptions {
  /** Site root, may carry a path prefix. Default: env OASST_BASE_URL, else https://open-assistant.io. */
  baseUrl?: string | undefined;
  /** http://, https://, socks5://, socks5h:// with optional user:password. Default: HTTPS_PROXY/HTTP_PROXY/ALL_PROXY minus NO_PROXY. */
  proxy?: string | undefined;
  /** Per request, and the longest wait between two events of the stream (ms; ping comments do not count). Default 60 000. */
  timeout?: number | undefined;
  /** Default: a Chrome User-Agent, as the seed sends (the site sits behind bot filters that like browsers). */
  userAgent?: string | undefined;
  /** Extra headers for every request. */
  headers?: Record<string, string> | undefined;
  /** Bring your own fetch (then `proxy` is not applied: your fetch decides). */
  fetch?: FetchLike | undefined;
  /** Longest event-stream line accepted, and longest event (its data lines together), in characters. Default 16 MiB. */
  maxLineLength?: number | undefined;
  /** Environment for OASST_BASE_URL (and OASST_COOKIES) and the proxy variables. Default process.env. */
  env?: NodeJS.ProcessEnv | undefined;
  /** Called after every HTTP request with method, URL, status and time: a request trail without secrets (`--verbose`). */
  onRequest?: ((entry: RequestTrailEntry) => void) | undefined;
}
