/**
 * The protocol client a chat of the provider runs on. A client over direct connections
 * holds nothing of a chat (its connections are the process's shared pool), so the
 * provider keeps the last one and takes it again for the next chat with the same
 * settings: building one for every chat (header checks, the pool lookup, a dozen
 * objects) cost 2% of a 16-token chat's time (BENCHMARKS.md, session 13). A client
 * through a proxy or a caller's fetch owns what it uses: it is made for its chat and
 * closed after it.
 */
import { OpenAssistantClient, cookieHeaderOf, type ClientOptions, type CookieInput } from "../client/client.js";
import { parseBaseUrl, type FetchLike, type RequestTrailEntry } from "../client/http-transport.js";
import { proxyFromEnv } from "../client/proxy.js";

export interface ChatClientSettings {
  baseUrl: string;
  cookies: CookieInput;
  proxy: string | undefined;
  timeout: number | undefined;
  userAgent: string | undefined;
  headers: Record<string, string> | undefined;
  fetch: FetchLike | undefined;
  maxLineLength: number | undefined;
  env: NodeJS.ProcessEnv;
  onRequest: ((entry: RequestTrailEntry) => void) | undefined;
}

export interface ChatClient {
  client: OpenAssistantClient;
  /** The chat's own client: close it when the chat ends. */
  owned: boolean;
}

/** What a direct client is made of, read afresh for every chat: the environment and the caller's objects may change between chats. */
type DirectSettings = Pick<ChatClientSettings, "baseUrl" | "timeout" | "userAgent" | "headers" | "maxLineLength" | "onRequest"> & {
  cookieHeader: string | undefined;
};

let kept: { settings: DirectSettings; client: OpenAssistantClient } | undefined;

export function chatClient(settings: ChatClientSettings): ChatClient {
  const proxy = settings.fetch ? undefined : (settings.proxy ?? proxyFromEnv(parseBaseUrl(settings.baseUrl), settings.env));
  if (settings.fetch || proxy) return { client: new OpenAssistantClient(clientOptions(settings, settings.cookies, proxy)), owned: true };
  const direct: DirectSettings = {
    baseUrl: settings.baseUrl,
    cookieHeader: cookieHeaderOf(settings.cookies),
    timeout: settings.timeout,
    userAgent: settings.userAgent,
    headers: settings.headers,
    maxLineLength: settings.maxLineLength,
    onRequest: settings.onRequest,
  };
  if (kept && sameSettings(kept.settings, direct)) return { client: kept.client, owned: false };
  const client = new OpenAssistantClient(clientOptions(settings, direct.cookieHeader, undefined));
  // A copy of the headers: the caller may change its object before the next chat.
  kept = { settings: { ...direct, headers: settings.headers && { ...settings.headers } }, client };
  return { client, owned: false };
}

function clientOptions(settings: ChatClientSettings, cookies: CookieInput | undefined, proxy: string | undefined): ClientOptions {
  return {
    baseUrl: settings.baseUrl,
    cookies,
    proxy,
    timeout: settings.timeout,
    userAgent: settings.userAgent,
    headers: settings.headers,
    fetch: settings.fetch,
    maxLineLength: settings.maxLineLength,
    // A chat's requests run one after another on one connection; direct ones come from the shared pool, so the next chat reuses it.
    connections: 1,
    shareConnections: true,
    env: settings.env,
    onRequest: settings.onRequest,
  };
}

function sameSettings(a: DirectSettings, b: DirectSettings): boolean {
  return (
    a.baseUrl === b.baseUrl &&
    a.cookieHeader === b.cookieHeader &&
    a.timeout === b.timeout &&
    a.userAgent === b.userAgent &&
    a.maxLineLength === b.maxLineLength &&
    a.onRequest === b.onRequest &&
    sameHeaders(a.headers, b.headers)
  );
}

function sameHeaders(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  let count = 0;
  for (const name in b) {
    if (a[name] !== b[name]) return false;
    count++;
  }
  return count === Object.keys(a).length;
}
