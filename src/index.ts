/** Public API of the `oasst` package. */
export * from "./errors.js";
export type * from "./client/wire-types.js";
export { maskCookieHeader, redactUrl } from "./redact.js";
export { OpenAssistant } from "./provider/open-assistant.js";
export type { AsyncGeneratorProvider, AsyncResult, Message, MessageRole, Messages } from "./provider/provider-types.js";
export { formatPrompt, type PromptFormat } from "./provider/format-prompt.js";
export type { Conversation } from "./provider/conversation.js";
export { Accounts, Account, defaultAccounts, type AccountStatus, type AccountsOptions } from "./accounts/accounts.js";
export { DEFAULT_RATE_LIMIT, type RateLimit } from "./accounts/rate-limit-ledger.js";
export { DEFAULT_SAMPLING, type OpenAssistantOptions, type OpenAssistantWarning, type SamplingOptions } from "./provider/options.js";
export type { RetryInfo } from "./provider/retry.js";
export {
  OpenAssistantClient,
  DEFAULT_BASE_URL,
  DEFAULT_USER_AGENT,
  DEFAULT_TIMEOUT_MS,
  type ChatUpdate,
  type ClientOptions,
  type CookieInput,
  type EventStreamTarget,
  type ListChatsQuery,
  type RequestOptions,
  type EventStreamOptions,
  type Vote,
} from "./client/client.js";
export type { ChatEventStream } from "./client/chat-event-stream.js";
export type { FetchLike, RequestTrailEntry } from "./client/http-transport.js";
export { closeIdleConnections } from "./client/connections.js";
export { SseDecoder, DEFAULT_MAX_LINE_LENGTH, type SseEvent, type SseDecoderOptions } from "./sse/sse-decoder.js";
export * from "./cookies/index.js";
