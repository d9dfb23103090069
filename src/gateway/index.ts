/** `oasst/gateway`: an OpenAI-compatible HTTP API in front of Open-Assistant. */
export { createGateway, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_QUEUE, type GatewayOptions } from "./create-gateway.js";
export { isLoopbackHost } from "../loopback.js";
export {
  serveGateway,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  type ServeGatewayOptions,
  type ServedGateway,
} from "./serve-gateway.js";
export { LOOPBACK_HOSTS } from "./request-guards.js";
export { defaultConversationsFile } from "./kept-chats.js";
export { DEFAULT_CONVERSATION_TTL_MS, type ConversationStoreOptions } from "./conversation-store.js";
export { CHAT_ID_HEADER } from "./chat-completions-route.js";
export { requestLogLine, type GatewayRequestLog } from "./request-log.js";
export { UPSTREAM_CHECK_TIMEOUT_MS, type UpstreamCheck, type UpstreamCheckFailure } from "./upstream-check.js";
export type { OpenAIErrorBody } from "./openai-errors.js";
export type { GatewaySession } from "./account-pool.js";
export type { AccountStatus } from "../accounts/accounts.js";
export type { ChatCompletion, ChatCompletionChunk, CompletionUsage } from "./completion-chunks.js";
export type { OpenAIModel } from "./models-route.js";
