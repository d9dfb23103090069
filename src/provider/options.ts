import type { Accounts } from "../accounts/accounts.js";
import type { CookieInput } from "../client/client.js";
import type { BrowserName } from "../cookies/types.js";
import type { ConnectionOptions } from "../client/connection-options.js";
import type { ChatEvent, PluginEntry, SamplingParameters } from "../client/wire-types.js";
import { ConfigError } from "../errors.js";
import { checkConversation, type Conversation } from "./conversation.js";
import { PROMPT_FORMATS, type PromptFormat } from "./format-prompt.js";
import type { RetryInfo } from "./retry.js";

/** The sampling parameters, as the Python kwargs name them; each overrides the seed's default. */
export interface SamplingOptions {
  top_k?: number | null | undefined;
  top_p?: number | null | undefined;
  typical_p?: number | null | undefined;
  temperature?: number | null | undefined;
  repetition_penalty?: number | null | undefined;
  /** Not nullable: the server refuses `null` with 422. */
  max_new_tokens?: number | undefined;
}

/** The seed's defaults (gpt4free's OpenAssistant provider). */
export const DEFAULT_SAMPLING: Readonly<SamplingParameters> = Object.freeze({
  top_k: 50,
  top_p: null,
  typical_p: null,
  temperature: 0.35,
  repetition_penalty: 1.1111111111111112,
  max_new_tokens: 1024,
});

/** Something that went wrong without failing the reply, e.g. a chat that could not be deleted. */
export interface OpenAssistantWarning {
  /**
   * `chat_not_deleted`: the chat was not deleted (the delete failed, or deleting it would hurt other replies);
   * `reply_still_running`: the reply was left early and its chat is deleted once the server has finished it;
   * `cookie_source`: a cookie source could not be read.
   */
  code: "chat_not_deleted" | "reply_still_running" | "cookie_source";
  message: string;
  chatId?: string | undefined;
  cause?: unknown;
}

/** How to log in: the session cookies, or where to find them. */
export interface SessionCookieOptions {
  /** The session cookies, as an object or a `Cookie` header. Empty or absent: the cookie sources are asked (OASST_COOKIES, cookie files, browsers). */
  cookies?: CookieInput | undefined;
  /** Cookie sources: a folder of cookie files. Default env OASST_COOKIES_DIR, else <config dir>/oasst/cookies. */
  cookiesDir?: string | undefined;
  /** Cookie sources: cookie files (Netscape cookies.txt, JSON export, HAR). */
  cookiesFile?: string | string[] | undefined;
  /** Cookie sources: read this browser only. */
  browser?: BrowserName | undefined;
  /** Cookie sources: read this browser profile directory only. */
  profile?: string | undefined;
}

export interface OpenAssistantOptions extends SamplingOptions, ConnectionOptions, SessionCookieOptions {
  signal?: AbortSignal | undefined;
  /** Plugins for the assistant message (default none). */
  plugins?: PluginEntry[] | undefined;
  /** Every event of the stream as it arrives: queue position (`pending`), tokens, the final message. */
  onEvent?: ((event: ChatEvent) => void) | undefined;
  /** Problems that do not fail the reply. Default: `process.emitWarning`. */
  onWarning?: ((warning: OpenAssistantWarning) => void) | undefined;
  /** Retries of "busy" (503) and "rate limited" (429) answers before any text. Default 2. */
  maxRetries?: number | undefined;
  /** Called before each retry with the error and the pause. */
  onRetry?: ((info: RetryInfo) => void) | undefined;
  /** How the messages become the prompter message: `plain` (default, `formatPrompt`) or `gpt4free` (the seed's `<s>[INST]…[/INST]` wrapper). */
  promptFormat?: PromptFormat | undefined;
  /** The longest a reply may wait in the server's queue (only `pending` events) before a TimeoutError (ms). Default 300 000. */
  queueTimeout?: number | undefined;
  /** The accounts whose replies take turns and whose rate limit is counted. Default `defaultAccounts`, shared by the process. */
  accounts?: Accounts | undefined;
  /**
   * Given, the chat's end (waiting for a reply left early to finish, then the delete) runs
   * after the call has returned or thrown, handed to this function (e.g. a server's
   * `waitUntil`): errors and early exits then reach the caller at once. Default: the call
   * waits for it.
   */
  waitUntil?: ((task: Promise<void>) => void) | undefined;
  /**
   * Keep the chat and continue it (see docs/conversations.md). `"new"`: a chat that is kept;
   * a `Conversation` from `onConversation`: only the last (user) message is posted, under that
   * reply. System messages go to `system_prompt`. A kept chat is deleted by you
   * (`OpenAssistantClient.deleteChat`, `oasst chats --delete`). Default: a chat per call, deleted.
   */
  conversation?: Conversation | "new" | undefined;
  /** With `conversation`: post another reply to the same user message (a sibling of `conversation.messageId`); `messages` may be empty. */
  regenerate?: boolean | undefined;
  /** With `conversation`: called once the reply is whole, with the handle that continues the chat after it. */
  onConversation?: ((conversation: Conversation) => void) | undefined;
  /** Called as soon as the reply's chat is known (created, or the conversation's): to name it before the reply ends. */
  onChat?: ((chatId: string) => void) | undefined;
}

const SAMPLING_KEYS = Object.keys(DEFAULT_SAMPLING) as Array<keyof SamplingParameters>;

const OPTION_KEYS: ReadonlySet<string> = new Set<keyof OpenAssistantOptions>([
  ...SAMPLING_KEYS,
  "baseUrl",
  "cookies",
  "cookiesDir",
  "cookiesFile",
  "browser",
  "profile",
  "proxy",
  "signal",
  "timeout",
  "userAgent",
  "headers",
  "fetch",
  "plugins",
  "onEvent",
  "onWarning",
  "maxRetries",
  "onRetry",
  "maxLineLength",
  "onRequest",
  "env",
  "promptFormat",
  "queueTimeout",
  "accounts",
  "waitUntil",
  "conversation",
  "regenerate",
  "onConversation",
  "onChat",
]);

/**
 * JavaScript callers get no type check: an unknown option is refused, never ignored nor sent.
 * `ownKeys`: the options a surface built on the provider (the gateway) took out before, named in the hint.
 */
export function checkOptions(options: object, ownKeys: readonly string[] = []): void {
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) {
      throw new ConfigError(`Unknown option ${JSON.stringify(key)}`, `Known options: ${[...ownKeys, ...OPTION_KEYS].join(", ")}.`);
    }
  }
  const { promptFormat, queueTimeout, conversation, regenerate } = options as OpenAssistantOptions;
  checkConversation(conversation);
  if (regenerate && (conversation === undefined || conversation === "new")) {
    throw new ConfigError("regenerate needs a conversation to regenerate a reply of", "Pass the `conversation` that onConversation gave for that reply.");
  }
  if (promptFormat !== undefined && !PROMPT_FORMATS.includes(promptFormat)) {
    throw new ConfigError(`Unknown promptFormat ${JSON.stringify(promptFormat)}`, `Use one of: ${PROMPT_FORMATS.join(", ")}.`);
  }
  if (queueTimeout !== undefined && !(typeof queueTimeout === "number" && queueTimeout > 0)) {
    throw new ConfigError(`queueTimeout must be a positive number of ms, not ${JSON.stringify(queueTimeout)}`, "Pass e.g. 300000 (five minutes).");
  }
  for (const key of SAMPLING_KEYS) {
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined || (value === null && key !== "max_new_tokens")) continue;
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new ConfigError(
        `The sampling parameter ${key} must be a number, not ${JSON.stringify(value)}`,
        `Pass a number${key === "max_new_tokens" ? "" : " or null"}.`,
      );
    }
  }
}

/** The seed's defaults with the caller's overrides; only the six known keys are ever sent. */
export function samplingParameters(options: SamplingOptions): SamplingParameters {
  const out: SamplingParameters = { ...DEFAULT_SAMPLING };
  for (const key of SAMPLING_KEYS) {
    const value = options[key];
    if (value !== undefined) (out as unknown as Record<string, number | null>)[key] = value;
  }
  return out;
}
