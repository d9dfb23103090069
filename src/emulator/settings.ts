import { randomBytes } from "node:crypto";
import { ConfigError } from "../errors.js";
import type { EmulatorOptions } from "./options.js";
import { FAULT_NAMES, isFault, STREAM_FAULTS, type Fault, type StreamFault } from "./faults.js";
import { MODEL_CONFIGS } from "./models.js";
import type { EventSeparator } from "./token-events-cache.js";
import type { UpstreamOptions } from "./upstream.js";

/** EmulatorOptions with defaults applied and values checked. */
export interface EmulatorSettings {
  port: number;
  host: string;
  /** The first user's session token. */
  sessionToken: string;
  /** Every user's session token known at start: `sessionToken` first, then `sessionTokens`. */
  sessionTokens: string[];
  cookieName: string;
  pingIntervalMs: number;
  replyTokens: number;
  tokenDelayMs: number;
  pendingEvents: number;
  pendingIntervalMs: number;
  /** The real server's `pending_event_interval`: silence before each `pending` event of a waiting message. */
  pendingEventIntervalMs: number;
  /** How long the slow-headers fault holds every answer. */
  slowHeadersMs: number;
  /** Messages one emulated worker (per model) generates at once: `max_parallel_requests`. */
  workerSlots: number;
  /** A user's new assistant message cancels that user's other pending ones (under another parent). */
  cancelPending: boolean;
  /** fastapi-limiter on assistant_message: per user, fixed window. */
  rateLimit: { messages: number; windowMs: number } | false;
  /** `assistant_message_timeout`: a message queued longer than this times out when the worker takes it (0: never). */
  messageTimeoutMs: number;
  /** `Connection: close` on every answer, as Next.js 13 sends it. */
  connectionClose: boolean;
  deleteFailsWorker: boolean;
  /** ALLOWED_MODEL_CONFIG_NAMES: `"*"` or the listed names. */
  allowedModels: ReadonlySet<string> | "*";
  faults: ReadonlySet<Fault>;
  /** The fault that decides what event streams carry, if any. */
  streamFault: StreamFault | undefined;
  separator: EventSeparator;
  /** Requests kept in `requests` (the last ones with a valid session). */
  recordRequests: number;
  /** The OpenAI-compatible server that writes the replies (base URL without a trailing slash), if any. */
  upstream: UpstreamOptions | undefined;
  quiet: boolean;
}

export const SECURE_COOKIE_NAME = "__Secure-next-auth.session-token";
export const PLAIN_COOKIE_NAME = "next-auth.session-token";

function checkNumber(name: string, value: number | undefined, fallback: number, min: number, integer: boolean): number {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved < min || (integer && !Number.isInteger(resolved))) {
    const expected = `${integer ? "an integer" : "a number"} >= ${min}`;
    throw new ConfigError(`Emulator option ${name} is ${String(resolved)}`, `Pass ${expected}.`);
  }
  return resolved;
}

/** 32 random bytes, base64url: a throwaway session token. */
export function newSessionToken(): string {
  return randomBytes(32).toString("base64url");
}

export function checkSessionToken(name: string, token: string): void {
  if (typeof token !== "string" || !/^[\x21-\x7e]+$/.test(token) || /[;,"\\]/.test(token)) {
    throw new ConfigError(
      `Emulator option ${name} is not usable as a cookie value`,
      'Use visible ASCII without spaces, ";", ",", quotes or backslashes (or omit it for a random one).',
    );
  }
}

/**
 * The real limiter: 20 per 600 s in settings.py, but `UserRateLimiter` also passes its
 * default `minutes=1`, which fastapi-limiter adds: the window is 660 s.
 */
export const DEFAULT_RATE_LIMIT = { messages: 20, windowMs: 660_000 } as const;

function resolveRateLimit(option: EmulatorOptions["rateLimit"]): EmulatorSettings["rateLimit"] {
  if (option === false) return false;
  if (option === undefined) return { ...DEFAULT_RATE_LIMIT };
  return {
    messages: checkNumber("rateLimit.messages", option.messages, DEFAULT_RATE_LIMIT.messages, 1, true),
    windowMs: checkNumber("rateLimit.windowMs", option.windowMs, DEFAULT_RATE_LIMIT.windowMs, 1, false),
  };
}

function resolveUpstream(option: UpstreamOptions | undefined): UpstreamOptions | undefined {
  if (option === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(option.baseUrl);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new ConfigError(`Emulator option upstream.baseUrl is not an http(s) URL: ${String(option.baseUrl)}`, "Pass e.g. http://127.0.0.1:11434/v1.");
  }
  return { ...option, baseUrl: option.baseUrl.replace(/\/+$/, "") };
}

export function resolveSettings(options: EmulatorOptions): EmulatorSettings {
  const port = checkNumber("port", options.port, 0, 0, true);
  if (port > 65535) throw new ConfigError(`Emulator option port is ${port}`, "Pass a port from 0 to 65535 (0 picks a free one).");
  const faults = new Set<Fault>();
  for (const fault of options.faults ?? []) {
    if (!isFault(fault)) {
      throw new ConfigError(`Unknown emulator fault "${String(fault)}"`, `Use one of: ${FAULT_NAMES.join(", ")}.`);
    }
    faults.add(fault);
  }
  for (const model of options.models ?? []) {
    if (!MODEL_CONFIGS.has(model)) {
      throw new ConfigError(`Unknown model config name "${model}"`, `Use names from: ${[...MODEL_CONFIGS.keys()].join(", ")}.`);
    }
  }
  const sessionToken = options.sessionToken ?? newSessionToken();
  const sessionTokens = [sessionToken, ...(options.sessionTokens ?? [])];
  for (const [index, token] of sessionTokens.entries()) {
    checkSessionToken(index === 0 ? "sessionToken" : "sessionTokens", token);
  }
  if (new Set(sessionTokens).size !== sessionTokens.length) {
    throw new ConfigError("Emulator options sessionToken/sessionTokens repeat a token", "Give each user its own token.");
  }
  return {
    port,
    host: options.host ?? "127.0.0.1",
    sessionToken,
    sessionTokens,
    cookieName: options.secureCookie ? SECURE_COOKIE_NAME : PLAIN_COOKIE_NAME,
    pingIntervalMs: checkNumber("pingIntervalMs", options.pingIntervalMs, 15_000, 1, false),
    replyTokens: checkNumber("replyTokens", options.replyTokens, 24, 0, true),
    tokenDelayMs: checkNumber("tokenDelayMs", options.tokenDelayMs, 0, 0, false),
    pendingEvents: checkNumber("pendingEvents", options.pendingEvents, 0, 0, true),
    pendingIntervalMs: checkNumber("pendingIntervalMs", options.pendingIntervalMs, 0, 0, false),
    pendingEventIntervalMs: checkNumber("pendingEventIntervalMs", options.pendingEventIntervalMs, 1000, 1, false),
    slowHeadersMs: checkNumber("slowHeadersMs", options.slowHeadersMs, 10_000, 0, false),
    workerSlots: checkNumber("workerSlots", options.workerSlots, 4, 1, true),
    cancelPending: options.cancelPending ?? true,
    rateLimit: resolveRateLimit(options.rateLimit),
    messageTimeoutMs: checkNumber("messageTimeoutMs", options.messageTimeoutMs, 60_000, 0, false),
    connectionClose: options.connectionClose ?? false,
    deleteFailsWorker: options.deleteFailsWorker ?? true,
    allowedModels: options.models === undefined ? "*" : new Set(options.models),
    faults,
    streamFault: STREAM_FAULTS.find((fault) => faults.has(fault)),
    separator: faults.has("lf") ? "\n" : faults.has("cr") ? "\r" : "\r\n",
    recordRequests: checkNumber("recordRequests", options.recordRequests, 1000, 0, true),
    upstream: resolveUpstream(options.upstream),
    quiet: options.quiet ?? false,
  };
}
