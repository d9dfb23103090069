/**
 * Wire types of the Open-Assistant website API (`/api/chat/*`), as the protocol
 * document describes them. Field order and nullability follow the server.
 */

/** Naive UTC timestamp as the server writes it: `2023-07-01T12:00:00.123456` (no `Z`). */
export type WireTimestamp = string;

export type MessageRole = "prompter" | "assistant";

export type MessageState = "manual" | "pending" | "in_progress" | "complete" | "aborted_by_worker" | "cancelled" | "timeout";

export interface SamplingParameters {
  top_k: number | null;
  top_p: number | null;
  typical_p: number | null;
  temperature: number | null;
  repetition_penalty: number | null;
  /** Not nullable: the server answers 422 to `null`. */
  max_new_tokens: number;
}

export interface ModelConfig {
  model_id: string;
  max_input_length: number;
  max_total_length: number;
  quantized: boolean;
}

export interface PluginApi {
  type: string;
  url: string;
  has_user_authentication: boolean | null;
  /** Some plugins set this one instead of `has_user_authentication`. */
  is_user_authenticated: boolean | null;
}

export interface PluginOpenApiParameter {
  name: string;
  in_: string;
  description: string;
  required: boolean;
  schema_: unknown;
}

export interface PluginOpenApiEndpoint {
  path: string;
  type: string;
  summary: string;
  operation_id: string;
  url: string;
  params: PluginOpenApiParameter[];
  payload: Record<string, unknown> | null;
}

export interface PluginConfig {
  schema_version: string;
  name_for_model: string;
  name_for_human: string;
  description_for_human: string;
  description_for_model: string;
  api: PluginApi;
  auth: { type: string };
  logo_url: string | null;
  contact_email: string | null;
  legal_info_url: string | null;
  endpoints: PluginOpenApiEndpoint[] | null;
}

export interface PluginEntry {
  url: string;
  enabled?: boolean;
  plugin_config?: PluginConfig | null;
  trusted?: boolean | null;
}

/** A plugin entry as the server writes it (`GET /api/chat/plugins`): every field present. */
export interface PluginEntryRead {
  url: string;
  enabled: boolean;
  plugin_config: PluginConfig | null;
  trusted: boolean | null;
}

export interface PluginUsed {
  name: string | null;
  url: string | null;
  trusted: boolean | null;
  execution_details: {
    inner_monologue: string[];
    final_tool_output: string;
    final_prompt: string;
    final_generation_assisted: boolean;
    achieved_depth: number | null;
    error_message: string | null;
    status: "success" | "failure";
  };
}

export interface WorkParameters {
  model_config: ModelConfig;
  sampling_parameters: SamplingParameters;
  do_sample: boolean;
  /** Often above 2^53: JSON.parse rounds it, as the website does. */
  seed: number;
  system_prompt: string | null;
  user_profile: string | null;
  user_response_instructions: string | null;
  plugins: PluginEntry[];
  plugin_max_depth: number;
}

export interface MessageReport {
  id: string;
  report_type: "spam" | "offensive" | "feedback";
  reason: string;
}

export interface MessageRead {
  id: string;
  parent_id: string | null;
  content: string | null;
  chat_id: string;
  created_at: WireTimestamp;
  role: MessageRole;
  state: MessageState;
  score: number;
  reports: MessageReport[];
  work_parameters: WorkParameters | null;
  safe_content: string | null;
  safety_level: number | null;
  safety_label: string | null;
  safety_rots: string | null;
  used_plugin: PluginUsed | null;
}

export interface ChatListRead {
  id: string;
  created_at: WireTimestamp;
  modified_at: WireTimestamp;
  title: string | null;
  hidden: boolean;
  allow_data_use: boolean;
  /** Only `PUT /api/chat` sets it (the server never moves it); always null in the chat list. */
  active_thread_tail_message_id: string | null;
}

export interface ChatRead extends ChatListRead {
  messages: MessageRead[];
}

export interface ListChatsResponse {
  chats: ChatListRead[];
  next: string | null;
  prev: string | null;
}

export interface ParameterConfig {
  name: string;
  description: string;
  sampling_parameters: SamplingParameters;
}

export interface ModelConfigInfo {
  name: string;
  description: string;
  parameter_configs: ParameterConfig[];
}

/**
 * `parent_id` null starts the chat (only while it is empty); otherwise it is a `complete`
 * assistant message of the same chat, which continues the chat. Several prompter messages
 * may share a parent.
 */
export interface PrompterMessageRequest {
  chat_id: string;
  parent_id: string | null;
  content: string;
}

/**
 * The website forwards the whole body but `chat_id`. The parent is a prompter message; a
 * second assistant message under the same parent is a regeneration (a sibling), and it does
 * not cancel the first. The server also takes `used_plugin`, but never reads it.
 */
export interface AssistantMessageRequest {
  chat_id: string;
  parent_id: string;
  model_config_name: string;
  sampling_parameters?: SamplingParameters;
  system_prompt?: string | null;
  user_profile?: string | null;
  user_response_instructions?: string | null;
  plugins?: PluginEntry[];
}

/**
 * `PUT /api/chat` (the server's `ChatUpdateRequest`). An absent or null field is left as it
 * is, so a title cannot be cleared; `title` is at most 100 characters.
 */
export interface ChatUpdateRequest {
  chat_id: string;
  title?: string;
  hidden?: boolean;
  allow_data_use?: boolean;
  active_thread_tail_message_id?: string;
}

/** `POST /api/chat/vote`: the website refuses any score but -1, 0 and 1. */
export interface VoteRequest {
  chat_id: string;
  message_id: string;
  score: -1 | 0 | 1;
}

/** `{"message": …}`: the body of the website's wrapped upstream errors. */
export interface WireErrorBody {
  message: string | Array<{ loc: unknown[]; msg: string; type: string }>;
}

// ---- Event stream (`/api/chat/events`) ----

export interface PendingEvent {
  event_type: "pending";
  queue_position: number;
  queue_size: number;
}

export interface TokenEvent {
  event_type: "token";
  /** A delta: concatenate the texts for the reply. */
  text: string;
}

export interface MessageEvent {
  event_type: "message";
  message: MessageRead;
}

export interface ErrorEvent {
  event_type: "error";
  error: string;
  message: MessageRead | null;
}

export interface SafePromptEvent {
  event_type: "safe_prompt";
  safe_prompt: string;
  message: MessageRead;
}

export interface PluginIntermediateEvent {
  event_type: "plugin_intermediate";
  current_plugin_thought: string;
  current_plugin_action_taken: string;
  current_plugin_action_input: string;
  current_plugin_action_response: string;
  message: null;
}

export type ChatEvent = PendingEvent | TokenEvent | MessageEvent | ErrorEvent | SafePromptEvent | PluginIntermediateEvent;

export type ChatEventType = ChatEvent["event_type"];
