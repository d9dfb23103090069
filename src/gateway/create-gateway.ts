import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { cookieHeaderOf } from "../client/client.js";
import { cookieHeaderValues } from "../cookies/cookie-header.js";
import { ConfigError } from "../errors.js";
import { AccountPool, type GatewaySession } from "./account-pool.js";
import { apiKeyAuth } from "./api-key-auth.js";
import { chatCompletionsRoute } from "./chat-completions-route.js";
import { ConcurrencyLimiter } from "./concurrency-limiter.js";
import { getModelRoute, listModelsRoute, ModelList } from "./models-route.js";
import { checkOptions, type OpenAssistantWarning } from "../provider/options.js";
import type { UpstreamOptions } from "../provider/reply-parts.js";
import { GatewayError, maskSecrets, toGatewayError } from "./openai-errors.js";
import { hostGuard, jsonBodyGuard, originGuard } from "./request-guards.js";
import type { ConversationStoreOptions } from "./conversation-store.js";
import { keptChats } from "./kept-chats.js";
import { requestLog, type GatewayRequestLog } from "./request-log.js";
import { checkUpstream, type UpstreamCheck } from "./upstream-check.js";

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_CONCURRENT = 8;
export const DEFAULT_MAX_QUEUE = 64;

/** The provider's connection options (base URL, cookies and cookie sources, proxy, timeout, retries…), plus the gateway's own. */
export interface GatewayOptions extends Omit<UpstreamOptions, "signal"> {
  /**
   * Several Open-Assistant accounts, one session each: each reply goes to the least busy one that is not
   * rate-limited (see docs/gateway.md). Default: one account, from `cookies` or the cookie
   * sources. Not together with `cookies`.
   */
  sessions?: GatewaySession[] | undefined;
  /**
   * Callers must send `Authorization: Bearer <apiKey>` to every `/v1` route.
   * Default: env OASST_API_KEY; none means no check.
   */
  apiKey?: string | undefined;
  /**
   * Origins of web pages allowed to call (`*` for any): they get CORS headers, and a request
   * with any other `Origin` header is refused with 403. Default: none, so no web page can call.
   */
  cors?: string | string[] | undefined;
  /**
   * Host names the gateway answers to, in the `Host` header (port ignored): exact names,
   * `*.example.com` for the names under it, `*` for any; others get 403. It stops DNS
   * rebinding, where a web page reaches the gateway under a name of its own. Default: any
   * name, as the app does not know where it is served: pass `LOOPBACK_HOSTS` when it
   * listens on a loopback address (`serveGateway` does so itself).
   */
  allowedHosts?: readonly string[] | undefined;
  /** Largest request body accepted; larger ones get 413. Default 1 MiB. */
  maxBodyBytes?: number | undefined;
  /** Replies in flight at once. Default 8. */
  maxConcurrent?: number | undefined;
  /** Requests waiting for a slot beyond those; more get 503 with `Retry-After`. Default 64. */
  maxQueue?: number | undefined;
  /** Abort to shut down: replies in flight end with an error chunk or a 503 and their chats are deleted. */
  shutdown?: AbortSignal | undefined;
  /**
   * Given, an answer ends as soon as its reply is whole and the chat's delete (one more
   * round trip to Open-Assistant) runs after it, handed to this function (e.g. Cloudflare's
   * `ctx.waitUntil`). Without it the answer ends once the chat is deleted: a runtime may
   * stop a handler's work when its answer ends. `serveGateway` passes its own.
   */
  waitUntil?: ((task: Promise<void>) => void) | undefined;
  /**
   * Keep chats and continue them (docs/conversations.md): a request whose history the gateway
   * has answered before sends only its new user turn, under the matching reply. `true`: the
   * mapping in `<config dir>/oasst/conversations.json`, chats deleted on the site 24 h after
   * their last turn; or the store's options (`file`: none keeps it in memory; `ttlMs`).
   * Default: a chat per request, deleted.
   */
  conversations?: boolean | ConversationStoreOptions | undefined;
  /**
   * Called for each request once its answer's headers are ready: method, path (no query
   * string), status, milliseconds, chat id. `requestLogLine` writes it as one line. Default: none.
   */
  onRequestLog?: ((entry: GatewayRequestLog) => void) | undefined;
}

/**
 * The OpenAI-compatible gateway as a hono app: `app.fetch` serves it on any
 * fetch-based runtime (`serveGateway` does so on Node). It talks to Open-Assistant
 * with its own session cookies (`cookies`, else the cookie sources: OASST_COOKIES,
 * cookie files, browsers): callers never send them and never see them.
 */
export function createGateway(options: GatewayOptions = {}): Hono {
  return gatewayParts(options).app;
}

/** The options the gateway takes for itself; the others are the provider's, for every reply. */
const GATEWAY_KEYS = [
  "sessions",
  "apiKey",
  "cors",
  "allowedHosts",
  "maxBodyBytes",
  "maxConcurrent",
  "maxQueue",
  "shutdown",
  "waitUntil",
  "conversations",
  "onRequestLog",
] as const satisfies ReadonlyArray<keyof GatewayOptions>;

/**
 * The app, the limiter its replies go through (`serveGateway` waits for it to drain on shutdown),
 * its accounts, and the start-up check of each account (errors masked). `serverKeys`: the options
 * the caller (`serveGateway`) took for itself, named with the others when an option is unknown.
 */
export function gatewayParts(
  options: GatewayOptions,
  serverKeys: readonly string[] = [],
): { app: Hono; limiter: ConcurrencyLimiter; pool: AccountPool; check: () => Promise<UpstreamCheck> } {
  const {
    apiKey: keyOption,
    cors: corsOrigins,
    allowedHosts,
    maxBodyBytes,
    maxConcurrent,
    maxQueue,
    shutdown,
    waitUntil,
    sessions,
    conversations: keep,
    onRequestLog,
    ...given
  } = options;
  // A mistyped option fails here, not in every request's reply.
  checkOptions(given, [...serverKeys, ...GATEWAY_KEYS]);
  const env = given.env ?? process.env;
  const apiKey = keyOption ?? (env.OASST_API_KEY || undefined);
  const limiter = new ConcurrencyLimiter(
    positiveInteger("maxConcurrent", maxConcurrent ?? DEFAULT_MAX_CONCURRENT, 1),
    positiveInteger("maxQueue", maxQueue ?? DEFAULT_MAX_QUEUE, 0),
  );
  const maxBody = positiveInteger("maxBodyBytes", maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, 1);
  const secrets = secretsOf(given, env, apiKey);
  // Whatever their source (options, a cookie file, a browser): the accounts' cookies once found.
  const allSecrets = () => [...secrets, ...pool.secrets()];
  const mask = (text: string) => maskSecrets(text, allSecrets());
  const upstream: UpstreamOptions = { ...given, onWarning: maskedWarnings(given.onWarning, mask) };
  const pool = new AccountPool(upstream, sessions);
  const describe = (error: unknown) => toGatewayError(error, allSecrets(), shutdown?.aborted === true);
  const models = new ModelList(pool, shutdown);
  const conversations = keep ? keptChats(keep, pool, env, shutdown, (message) => console.error(mask(`oasst gateway: ${message}`))) : undefined;

  const app = new Hono();
  app.onError((error) => {
    // The caller's connection closed while its body was read (requestTimeout, a hang-up): no one to answer, nothing to log.
    if ((error as NodeJS.ErrnoException).code === "ECONNRESET") return new GatewayError(499, "The request was aborted.", { code: "aborted" }).toResponse();
    const answer = describe(error);
    if (answer.status === 500) console.error(mask(`oasst gateway: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`));
    return answer.toResponse();
  });
  if (onRequestLog) app.use("*", requestLog(onRequestLog));
  app.notFound((c) => new GatewayError(404, `Unknown URL: ${c.req.method} ${c.req.path}`, { code: "unknown_url" }).toResponse());
  if (allowedHosts !== undefined) app.use("*", hostGuard(allowedHosts));
  app.use("*", originGuard(corsOrigins));
  if (corsOrigins !== undefined) {
    app.use("*", cors({ origin: corsOrigins, allowHeaders: ["authorization", "content-type"], exposeHeaders: ["retry-after"], maxAge: 600 }));
  }
  // Counts only: the accounts' details are behind the API key, at /v1/status.
  app.get("/health", (c) => {
    const states = pool.status().map((account) => account.state);
    const usable = states.filter((state) => state !== "auth_failed" && state !== "rate_limited").length;
    return c.json({ status: "ok", accounts: states.length, usable });
  });
  if (apiKey) app.use("/v1/*", apiKeyAuth(apiKey));
  app.get("/v1/status", (c) => c.json({ accounts: pool.status() }));
  app.get("/v1/models", listModelsRoute(models));
  app.get("/v1/models/:id{.+}", getModelRoute(models));
  app.post(
    "/v1/chat/completions",
    jsonBodyGuard,
    bodyLimit({
      maxSize: maxBody,
      onError: () => {
        const response = new GatewayError(413, `The request body is larger than ${maxBody} bytes.`, { code: "request_too_large" }).toResponse();
        // The rest of the body is never read, so this connection cannot carry another request (the Node
        // adapter cuts it 500 ms later): without this, a keep-alive client's next request died with it.
        response.headers.set("connection", "close");
        return response;
      },
    }),
    chatCompletionsRoute({ pool, limiter, shutdown, describe, waitUntil, conversations }),
  );
  return { app, limiter, pool, check: () => checkUpstream(pool, mask, shutdown) };
}

function positiveInteger(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`The gateway option ${name} must be an integer of at least ${min}, not ${value}`, `Pass e.g. ${name}: ${Math.max(min, 1)}.`);
  }
  return value;
}

/** Header names whose values are credentials. */
const CREDENTIAL_HEADER = /auth|cookie|token|key|secret|session/i;

/**
 * What must never reach a caller or a log, known before any request: the given cookie
 * values, the API key, and credentials in the extra `headers` sent upstream (the whole
 * value, and its last word: the token of `Bearer <token>`). The cookies found in a file
 * or a browser are the account pool's `secrets()`.
 */
function secretsOf(upstream: UpstreamOptions, env: NodeJS.ProcessEnv, apiKey: string | undefined): string[] {
  const header = cookieHeaderOf(upstream.cookies) ?? env.OASST_COOKIES ?? "";
  const credentials = Object.entries(upstream.headers ?? {})
    .filter(([name]) => CREDENTIAL_HEADER.test(name))
    .flatMap(([, value]) => [value, value.trim().split(/\s+/).pop() ?? ""]);
  return [...cookieHeaderValues(header), ...credentials, ...(apiKey ? [apiKey] : [])];
}

/**
 * The provider's warnings, masked: a chat that could not be deleted quotes the server's
 * answer, which may quote the cookie. The cause (the unmasked error) is left out.
 */
function maskedWarnings(onWarning: ((warning: OpenAssistantWarning) => void) | undefined, mask: (text: string) => string) {
  return ({ cause: _cause, ...warning }: OpenAssistantWarning): void => {
    const masked = { ...warning, message: mask(warning.message) };
    if (onWarning) onWarning(masked);
    // As the provider does without `onWarning`: the note that a delete waits is no failure.
    else if (masked.code !== "reply_still_running") process.emitWarning(masked.message, { code: `OASST_${masked.code.toUpperCase()}` });
  };
}
